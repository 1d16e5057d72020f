// Dependency health for /readyz and /healthz, probed in the background so that no HTTP answer ever waits on a
// dependency: a Vault that accepts connections and never answers must not hang the endpoint an orchestrator polls
// (issue 19). Each probe has a timeout, and a probe still running is never started again, so a hung dependency costs
// one pending call, not one per interval. Timers are unref'd and stopped at close.
import type { AuditLog } from '../audit/events.js';
import type { BrokerHealth } from '../credentials/broker.js';
import type { Store } from '../store/store.js';

/** `ok`, or a short word for what is wrong (`timeout`, `unreachable`, `sealed`, `failing`, …) and a sentence. */
export type ProbeOutcome = BrokerHealth;

export interface DependencyProbe {
  readonly name: string;
  check(): Promise<ProbeOutcome>;
}

export interface DependencyState extends ProbeOutcome {
  /** When this outcome was recorded; null before the first probe finished. */
  readonly checkedAt: Date | null;
}

/** What the HTTP routes read: the latest states, and (for /healthz) a bounded wait for a fresher round. */
export interface HealthReport {
  states(): ReadonlyMap<string, DependencyState>;
  refresh(maxWaitMs: number): Promise<void>;
}

export interface DependencyMonitorOptions {
  /** Between probe rounds (default 5 s). */
  readonly intervalMs?: number;
  /** A probe not answered in this time is recorded as `timeout` (default 2 s); its call is left to finish. */
  readonly timeoutMs?: number;
  /** refresh() starts a round only when the last one began at least this long ago (default 1 s). */
  readonly minRefreshAgeMs?: number;
}

const NOT_PROBED: DependencyState = { status: 'unknown', detail: 'not probed yet', checkedAt: null };

export class DependencyMonitor implements HealthReport {
  readonly #probes: readonly DependencyProbe[];
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #minRefreshAgeMs: number;
  readonly #states = new Map<string, DependencyState>();
  /** Per probe whose call has not settled yet: resolves at its answer or timeout. Not started again until it settles. */
  readonly #running = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #lastRoundAt = 0;
  #stopped = false;

  constructor(probes: readonly DependencyProbe[], options: DependencyMonitorOptions = {}) {
    this.#probes = probes;
    this.#intervalMs = options.intervalMs ?? 5_000;
    this.#timeoutMs = options.timeoutMs ?? 2_000;
    this.#minRefreshAgeMs = options.minRefreshAgeMs ?? 1_000;
    for (const probe of probes) this.#states.set(probe.name, NOT_PROBED);
  }

  /** Runs a round now and then every interval. */
  start(): void {
    if (this.#stopped || this.#timer !== undefined) return;
    void this.#round();
    this.#timer = setInterval(() => void this.#round(), this.#intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  states(): ReadonlyMap<string, DependencyState> {
    return this.#states;
  }

  /** Starts a round unless one began recently, and waits for it at most `maxWaitMs`. */
  async refresh(maxWaitMs: number): Promise<void> {
    if (this.#stopped || Date.now() - this.#lastRoundAt < this.#minRefreshAgeMs) return;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
      timer.unref();
    });
    await Promise.race([this.#round(), waited]);
    clearTimeout(timer);
  }

  /** Resolves when every probe of this round answered or timed out. */
  #round(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#lastRoundAt = Date.now();
    return Promise.all(this.#probes.map((probe) => this.#probe(probe))).then(() => undefined);
  }

  /** Resolves when the probe answered or timed out; a probe still running from an earlier round is not started again. */
  #probe(probe: DependencyProbe): Promise<void> {
    const running = this.#running.get(probe.name);
    if (running !== undefined) return running;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#record(probe.name, { status: 'timeout', detail: `no answer within ${this.#timeoutMs / 1000}s` });
        resolve();
      }, this.#timeoutMs);
      timer.unref();
    });
    const settled = this.#call(probe).finally(() => {
      clearTimeout(timer);
      this.#running.delete(probe.name);
    });
    const answered = Promise.race([settled, timedOut]);
    this.#running.set(probe.name, answered);
    return answered;
  }

  async #call(probe: DependencyProbe): Promise<void> {
    let outcome: ProbeOutcome;
    try {
      outcome = await probe.check();
    } catch (error) {
      outcome = { status: 'failing', detail: error instanceof Error ? error.message : String(error) };
    }
    this.#record(probe.name, outcome);
  }

  #record(name: string, outcome: ProbeOutcome): void {
    this.#states.set(name, { status: outcome.status, detail: outcome.detail, checkedAt: new Date() });
  }
}

/** The store answers a small read. */
export function storeProbe(store: Pick<Store, 'kind' | 'countGrantsByState'>): DependencyProbe {
  return {
    name: 'store',
    async check() {
      try {
        await store.countGrantsByState();
        return { status: 'ok', detail: `${store.kind} store answers` };
      } catch (error) {
        return { status: 'unreachable', detail: `${store.kind} store: ${error instanceof Error ? error.message : String(error)}` };
      }
    },
  };
}

/** The audit trail accepts events (false while a sink fails under `on_failure: block`). */
export function auditProbe(audit: Pick<AuditLog, 'accepting'>): DependencyProbe {
  return {
    name: 'audit',
    check: () => Promise.resolve(audit.accepting()
      ? { status: 'ok', detail: 'the audit sinks accept events' }
      : { status: 'failing', detail: 'an audit sink is failing: new statements are refused until it recovers' }),
  };
}

/** A broker's own health check (Vault: sys/health and a usable broker token). */
export function brokerProbe(name: string, broker: { health(): Promise<BrokerHealth> }): DependencyProbe {
  return { name, check: () => broker.health() };
}
