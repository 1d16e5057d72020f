// What the review commands expect from the API (docs/api.md, sessions and statements). Loose objects, as in
// api-schemas.ts: fields the CLI reads are checked; `--json` passes on whatever else the server includes.
import { z } from 'zod';
import { grantSchema, sessionSchema } from '../api-schemas.js';

const count = z.number().nullable().optional();

export const sessionRowSchema = sessionSchema.extend({
  statements: z.number().optional(),
  live: z.boolean().optional(),
});
export type SessionRow = z.output<typeof sessionRowSchema>;

export const sessionPageSchema = z.looseObject({
  sessions: z.array(sessionRowSchema),
  next: z.string().nullable().optional(),
});

export const statementViewSchema = z.looseObject({
  seq: z.number().optional(),
  chainSeq: z.number().optional(),
  kind: z.string().optional(),
  sql: z.string().optional(),
  params: z.array(z.string().nullable()).optional(),
  statement_name: z.string().optional(),
  started: z.string().nullable().optional(),
  duration_us: count,
  rows: count,
  tag: z.string().nullable().optional(),
  error: z.looseObject({ code: z.string(), message: z.string() }).nullable().optional(),
  truncated: z.looseObject({ length: z.number() }).nullable().optional(),
});
export type StatementView = z.output<typeof statementViewSchema>;

export const sessionTimelineSchema = sessionRowSchema.extend({
  statementCount: z.number().optional(),
  grantDetail: grantSchema.nullable().optional(),
  statements: z.array(statementViewSchema).optional(),
  next: z.number().nullable().optional(),
  prev: z.number().nullable().optional(),
});
export type SessionTimeline = z.output<typeof sessionTimelineSchema>;

export const statementHitSchema = statementViewSchema.extend({
  session: z.string().nullable().optional(),
  grant: z.string().nullable().optional(),
  user: z.string().nullable().optional(),
  resource: z.string().nullable().optional(),
  ts: z.string().optional(),
});
export type StatementHit = z.output<typeof statementHitSchema>;

export const statementSearchSchema = z.looseObject({
  statements: z.array(statementHitSchema),
  next: z.number().nullable().optional(),
});
