// The test hook: not part of Vault's API, under `/__double/` so it can never be mistaken for it. It moves and shows
// the double's clock, seals/unseals, toggles standby, expires a token, and lists leases and the live database users
// the double created.
import type { Reply } from './http.js';
import { rfc3339 } from './names.js';
import type { DoubleState } from './router.js';

export const HOOK_PREFIX = '/__double/';

export interface LeaseView {
  readonly id: string;
  readonly username: string;
  readonly role: string;
  readonly db: string;
  readonly expire_time: string;
  readonly irrevocable: boolean;
  readonly attempts: number;
  readonly last_error: string | null;
}

export function leaseViews(state: DoubleState): LeaseView[] {
  return state.leases.all().map((lease) => ({
    id: lease.id, username: lease.username, role: lease.role, db: lease.dbName, expire_time: rfc3339(lease.expireTime),
    irrevocable: lease.irrevocable, attempts: lease.attempts, last_error: lease.lastError ?? null,
  }));
}

export async function liveUsers(state: DoubleState): Promise<{ db: string; username: string }[]> {
  const lists = await Promise.all([...state.mounts.values()].map((backend) => backend.liveUsers()));
  return lists.flat();
}

const ok = (body: unknown): Reply => ({ status: 200, body });

export async function handleHook(state: DoubleState, method: string, hook: string, body: Readonly<Record<string, unknown>>): Promise<Reply> {
  switch (`${method} ${hook}`) {
    case 'GET clock':
      return ok({ now: state.clock.now(), iso: rfc3339(state.clock.now()) });
    case 'POST clock/advance': {
      const ms = typeof body.ms === 'number' ? body.ms : Number.NaN;
      if (!(ms >= 0)) return { status: 400, body: { errors: ['ms: expected a non-negative number'] } };
      state.clock.advance(ms);
      return ok({ now: state.clock.now(), iso: rfc3339(state.clock.now()) });
    }
    case 'POST seal':
      state.sealed = true;
      return ok({ sealed: true });
    case 'POST unseal':
      state.sealed = false;
      return ok({ sealed: false });
    case 'POST standby':
      state.standby = body.standby === true;
      return ok({ standby: state.standby });
    case 'POST tokens/expire': {
      // { accessor } expires that token; { role } every live token of that AppRole role.
      const byAccessor = typeof body.accessor === 'string' ? state.tokens.findByAccessor(body.accessor) : undefined;
      const tokens = typeof body.role === 'string' ? state.tokens.ofRole(body.role) : byAccessor === undefined ? [] : [byAccessor];
      if (tokens.length === 0) return { status: 404, body: { errors: ['no live token matches'] } };
      for (const token of tokens) state.tokens.expireNow(token);
      return ok({ expired: tokens.length });
    }
    case 'GET leases':
      return ok({ leases: leaseViews(state) });
    case 'GET users':
      return ok({ users: await liveUsers(state) });
    case 'GET state':
      return ok({ now: state.clock.now(), sealed: state.sealed, standby: state.standby, tokens: state.tokens.size, leases: state.leases.all().length });
    default:
      return { status: 404, body: { errors: [`no double hook ${method} ${HOOK_PREFIX}${hook}`] } };
  }
}
