// Request bodies, params and queries arrive as `unknown`; zod narrows them or the caller gets a 400 naming the field.
import type { z } from 'zod';
import { badRequest } from '../access/errors.js';

export function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value ?? undefined);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw badRequest(`invalid ${what}: ${path}${issue?.message ?? 'malformed'}`);
}
