// What the CLI expects back from the HTTP API (docs/api.md). Fields the CLI reads are checked; objects stay loose so
// `--json` passes on whatever else the server includes, and a newer server does not break an older CLI.
import { z } from 'zod';

export const GRANT_STATES = ['pending', 'approved', 'active', 'denied', 'ended'] as const;
export type GrantStateName = (typeof GRANT_STATES)[number];

const timestamp = z.string();
const optionalTimestamp = timestamp.nullable().optional();

const decisionSchema = z.looseObject({
  actor: z.string(),
  comment: z.string().optional(),
  at: timestamp.optional(),
});

export const grantSchema = z.looseObject({
  id: z.string(),
  resource: z.string(),
  role: z.string(),
  requester: z.string(),
  reason: z.string().optional(),
  policy: z.string().optional(),
  state: z.enum(GRANT_STATES),
  endReason: z.string().nullable().optional(),
  ttlSeconds: z.number().optional(),
  approvalsRequired: z.number().optional(),
  approvals: z.array(decisionSchema).optional(),
  denials: z.array(decisionSchema).optional(),
  createdAt: optionalTimestamp,
  approvedAt: optionalTimestamp,
  activatedAt: optionalTimestamp,
  expiresAt: timestamp,
  endedAt: optionalTimestamp,
});
export type Grant = z.output<typeof grantSchema>;

/** How to reach the resource through jitgate; `password` is the grant token (DESIGN §3). */
export const connectionSchema = z.object({
  protocol: z.enum(['postgres', 'mysql']),
  host: z.string(),
  port: z.number().int(),
  user: z.string(),
  password: z.string(),
  database: z.string(),
  url: z.string(),
});
export type Connection = z.output<typeof connectionSchema>;

/** The 201 answer to POST /v1/grants: the only response that ever carries the token. */
export const createdGrantSchema = grantSchema.extend({
  token: z.string(),
  connection: connectionSchema,
  // Optional: an older server does not send them.
  requestedTtlSeconds: z.number().optional(),
  ttlClamped: z.looseObject({ by: z.enum(['policy', 'role']), name: z.string(), maxTtlSeconds: z.number() }).nullable().optional(),
});
export type CreatedGrant = z.output<typeof createdGrantSchema>;

export const grantListSchema = z.looseObject({ grants: z.array(grantSchema) });

const resourceRoleSchema = z.union([
  z.string().transform((name) => ({ name })),
  z.looseObject({ name: z.string(), max_ttl: z.union([z.string(), z.number()]).optional() }),
]);

export const resourceListSchema = z.looseObject({
  resources: z.array(z.looseObject({
    name: z.string(),
    protocol: z.string(),
    database: z.string().optional(),
    roles: z.array(resourceRoleSchema),
  })),
});
export type ResourceInfo = z.output<typeof resourceListSchema>['resources'][number];

const count = z.number().nullable().optional();

export const sessionSchema = z.looseObject({
  id: z.string(),
  grant: z.string().optional(),
  grantId: z.string().optional(),
  resource: z.string().optional(),
  role: z.string().optional(),
  user: z.string().optional(),
  protocol: z.string().optional(),
  client: z.string().optional(),
  program: z.string().nullable().optional(),
  clientAddress: z.string().optional(),
  clientProgram: z.string().nullable().optional(),
  tls: z.boolean().optional(),
  startedAt: optionalTimestamp,
  endedAt: optionalTimestamp,
  endReason: z.string().nullable().optional(),
  bytesIn: count,
  bytesOut: count,
});
export type SessionInfo = z.output<typeof sessionSchema>;

/** In a listing, `statements` is the session's statement count. */
const sessionListEntrySchema = sessionSchema.extend({ statements: z.number().optional() });
export type SessionListEntry = z.output<typeof sessionListEntrySchema>;

export const sessionListSchema = z.looseObject({ sessions: z.array(sessionListEntrySchema) });

export const statementSchema = z.looseObject({
  seq: z.number().optional(),
  kind: z.string().optional(),
  sql: z.string().optional(),
  started: optionalTimestamp,
  duration_us: count,
  rows: count,
  tag: z.string().nullable().optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable().optional(),
});
export type StatementInfo = z.output<typeof statementSchema>;

/** One page of the timeline; `next` is the seq to pass as `?after=` for the following page, null on the last. */
export const sessionDetailSchema = sessionSchema.extend({
  statements: z.array(statementSchema).optional(),
  next: z.number().nullable().optional(),
});
export type SessionDetail = z.output<typeof sessionDetailSchema>;

export const auditVerifySchema = z.looseObject({
  ok: z.boolean(),
  events: z.number(),
  head: z.looseObject({ seq: z.number(), hash: z.string() }).nullable().optional(),
  firstBroken: z.looseObject({ seq: z.number(), id: z.string(), reason: z.string() }).nullable().optional(),
});
export type AuditVerifyResult = z.output<typeof auditVerifySchema>;

export const apiErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
