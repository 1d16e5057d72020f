// Every login reads its grant from the store (its state may have changed a moment ago), but the sessions of one grant
// need not each keep their own copy of it: an unchanged row (same version) comes back as the object the live sessions
// already hold. A copy is ~1.5 KB (verifiers, dates, decisions), which at thousands of idle sessions is a tenth of
// their memory (DESIGN §8). Held weakly: once no session keeps a grant, it is collected and its entry goes with it.
import { OPEN_GRANT_STATES, type Grant } from './grant.js';
import type { GrantId } from './ids.js';

export class SharedGrants {
  readonly #held = new Map<GrantId, WeakRef<Grant>>();
  readonly #collected = new FinalizationRegistry<GrantId>((id) => {
    if (this.#held.get(id)?.deref() === undefined) this.#held.delete(id);
  });

  /** `fresh` as read from the store, or the equal object already shared. */
  share(fresh: Grant | undefined, id: GrantId): Grant | undefined {
    const held = this.#held.get(id)?.deref();
    if (fresh === undefined || !OPEN_GRANT_STATES.includes(fresh.state)) {
      this.#held.delete(id);
      return fresh;
    }
    if (held !== undefined && held.version === fresh.version) return held;
    this.#held.set(id, new WeakRef(fresh));
    this.#collected.register(fresh, id);
    return fresh;
  }

  get size(): number {
    return this.#held.size;
  }
}
