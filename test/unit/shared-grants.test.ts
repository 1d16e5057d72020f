import { describe, expect, it } from 'vitest';
import { SharedGrants } from '../../src/access/shared-grants.js';
import { makeGrant } from '../support/store-fixtures.js';

describe('SharedGrants', () => {
  it('returns the object already held while the stored row is unchanged, the fresh one once its version moves', () => {
    const shared = new SharedGrants();
    const first = makeGrant({ state: 'active', version: 3 });
    expect(shared.share(first, first.id)).toBe(first);
    const reread = structuredClone(first);
    expect(reread).not.toBe(first);
    expect(shared.share(reread, first.id)).toBe(first);
    const changed = { ...first, version: 4, activatedAt: new Date() };
    expect(shared.share(changed, first.id)).toBe(changed);
    expect(shared.share(structuredClone(changed), first.id)).toBe(changed);
    expect(shared.size).toBe(1);
  });

  it('never shares a grant that is over or gone, and forgets the one it held', () => {
    const shared = new SharedGrants();
    const live = makeGrant({ state: 'active', version: 1 });
    shared.share(live, live.id);
    const ended = { ...live, state: 'ended' as const, endReason: 'revoked' as const, version: 2 };
    expect(shared.share(ended, live.id)).toBe(ended);
    expect(shared.size).toBe(0);
    expect(shared.share(structuredClone(ended), live.id)).not.toBe(ended);
    shared.share(live, live.id);
    expect(shared.share(undefined, live.id)).toBeUndefined();
    expect(shared.size).toBe(0);
  });
});
