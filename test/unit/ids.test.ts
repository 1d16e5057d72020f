import { describe, expect, it } from 'vitest';
import { isGrantId, isSessionId, newAuditEventId, newGrantId, newSessionId } from '../../src/access/ids.js';

describe('ids', () => {
  it('are prefixed base32 of 20 characters and do not repeat', () => {
    const ids = Array.from({ length: 10_000 }, () => [newGrantId(), newSessionId(), newAuditEventId()]).flat();
    for (const id of ids) expect(id).toMatch(/^[gse]_[a-z2-7]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(isGrantId(newGrantId())).toBe(true);
    expect(isSessionId(newSessionId())).toBe(true);
  });

  it('audit event ids sort as their times do (the unique index then grows at one edge)', () => {
    const times = [0, 1, 31, 32, 1_000_000, Date.UTC(2026, 11, 1), Date.UTC(2026, 11, 1) + 1, Date.UTC(9999, 0, 1)];
    const ids = times.map((ms) => newAuditEventId(ms));
    expect([...ids].sort()).toEqual(ids);
    // Same millisecond: same time part, different random part.
    const [a, b] = [newAuditEventId(5), newAuditEventId(5)];
    expect(a.slice(0, 12)).toBe(b.slice(0, 12));
    expect(a).not.toBe(b);
  });

  it('grant ids stay fully random (they name database users and must not reveal when they were made)', () => {
    const prefixes = new Set(Array.from({ length: 200 }, () => newGrantId().slice(2, 6)));
    expect(prefixes.size).toBeGreaterThan(150);
  });
});
