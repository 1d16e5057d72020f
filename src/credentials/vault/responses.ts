// The Vault answers the broker reads (VAULT.md §1–§4), checked at the boundary with zod. Unknown keys are ignored
// (Vault adds fields over versions). A failed parse never echoes the body: a creds answer holds a password.
import { z } from 'zod';
import { VaultBrokerError, type VaultOperation } from './errors.js';

const warnings = z.array(z.string()).nullish().transform((list) => list ?? []);

export const credsResponse = z.object({
  lease_id: z.string().min(1),
  lease_duration: z.number().int().nonnegative(),
  renewable: z.boolean(),
  data: z.object({ username: z.string().min(1), password: z.string().min(1) }),
  warnings,
});

export const leaseRenewResponse = z.object({
  lease_id: z.string(),
  lease_duration: z.number().int().nonnegative(),
  warnings,
});

export const leaseLookupResponse = z.object({
  data: z.object({
    id: z.string(),
    ttl: z.number(),
    renewable: z.boolean(),
    expire_time: z.string().nullish(),
  }),
});

export const authResponse = z.object({
  auth: z.object({
    client_token: z.string().min(1),
    accessor: z.string().default(''),
    lease_duration: z.number().int().nonnegative(),
    renewable: z.boolean(),
    policies: z.array(z.string()).nullish(),
  }),
  warnings,
});

export const lookupSelfResponse = z.object({
  data: z.object({
    accessor: z.string().default(''),
    ttl: z.number().int().nonnegative(),
    creation_ttl: z.number().int().nonnegative().default(0),
    expire_time: z.string().nullish(),
    explicit_max_ttl: z.number().int().nonnegative().default(0),
    renewable: z.boolean().default(false),
    period: z.number().int().nonnegative().nullish(),
    policies: z.array(z.string()).nullish(),
    display_name: z.string().nullish(),
  }),
});

export const healthResponse = z.object({
  initialized: z.boolean(),
  sealed: z.boolean(),
  standby: z.boolean(),
  performance_standby: z.boolean().optional(),
  version: z.string().optional(),
});

/** Parses `body` or throws a `bad_response` error naming only the fields that were wrong. */
export function parseVault<T extends z.ZodType>(schema: T, body: unknown, operation: VaultOperation, what: string): z.output<T> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(body)'))].join(', ');
  throw new VaultBrokerError('bad_response', operation, `Vault's answer to ${what} lacks the expected fields (${fields})`);
}

/** True when Vault cut a TTL: `TTL of "1h0m0s" exceeded the effective max_ttl of "9m12s"; TTL value is capped accordingly`. */
export const isCapWarning = (text: string): boolean => /exceeded the effective max_ttl/.test(text);
