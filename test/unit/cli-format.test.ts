// Relative times and grant wording in CLI output.
import { describe, expect, it } from 'vitest';
import type { Grant } from '../../src/cli/api-schemas.js';
import { describeGrantExpiry, describeGrantState, formatBytes, formatRelative, formatSpan } from '../../src/cli/format.js';

const now = new Date('2025-01-31T12:00:00.000Z');
const at = (seconds: number): string => new Date(now.getTime() + seconds * 1000).toISOString();

const grant = (fields: Partial<Grant>): Grant => ({
  id: 'g_aaaaaaaaaaaaaaaaaaaa', resource: 'local-pg', role: 'readonly', requester: 'dev', state: 'pending', expiresAt: at(3_600), ...fields,
});

describe('formatSpan / formatRelative', () => {
  it('rounds down to the unit a reader needs', () => {
    expect(formatSpan(0)).toBe('0s');
    expect(formatSpan(59.9)).toBe('59s');
    expect(formatSpan(29 * 60 + 59)).toBe('29m');
    expect(formatSpan(3_600)).toBe('1h');
    expect(formatSpan(5_400 + 59)).toBe('1h30m');
    expect(formatSpan(86_400 * 2 + 3_600 * 5 + 60)).toBe('2d5h');
  });

  it('says "in …" for the future and "… ago" for the past', () => {
    expect(formatRelative(new Date(at(29 * 60 + 59)), now)).toBe('in 29m');
    expect(formatRelative(new Date(at(-180)), now)).toBe('3m ago');
    expect(formatRelative(new Date(at(0.5)), now)).toBe('now');
    expect(formatRelative(new Date('garbage'), now)).toBe('?');
  });
});

describe('grant wording', () => {
  it('shows when an open grant expires and when a finished one ended', () => {
    expect(describeGrantExpiry(grant({ state: 'approved', expiresAt: at(29 * 60 + 30) }), now)).toBe('in 29m');
    expect(describeGrantExpiry(grant({ state: 'ended', endedAt: at(-180) }), now)).toBe('ended 3m ago');
    expect(describeGrantExpiry(grant({ state: 'ended', endedAt: null, expiresAt: at(-60) }), now)).toBe('ended 1m ago');
    expect(describeGrantExpiry(grant({ state: 'denied', endedAt: null }), now)).toBe('denied');
    expect(describeGrantExpiry(grant({ state: 'pending', expiresAt: 'not a time' }), now)).toBe('not a time');
  });

  it('adds approvals to pending and the reason to ended', () => {
    expect(describeGrantState(grant({ approvalsRequired: 2, approvals: [{ actor: 'alice' }] }))).toBe('pending (1/2 approvals)');
    expect(describeGrantState(grant({ approvalsRequired: 0 }))).toBe('pending');
    expect(describeGrantState(grant({ state: 'ended', endReason: 'revoked' }))).toBe('ended (revoked)');
    expect(describeGrantState(grant({ state: 'active' }))).toBe('active');
  });

  it('formats byte counts', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });
});
