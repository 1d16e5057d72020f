// The background dependency probes behind /readyz and /healthz (issue 19, defect 4): a hung probe is recorded as
// `timeout` and never started again while its call is pending, answers are recorded as they come, stop() ends it.
import { afterEach, describe, expect, it } from 'vitest';
import { DependencyMonitor, type DependencyProbe, type ProbeOutcome } from '../../src/api/health.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A probe whose answers the test hands out: `calls` counts how often the monitor asked. */
function controlledProbe(name: string) {
  const waiting: ((outcome: ProbeOutcome) => void)[] = [];
  const probe = {
    name,
    calls: 0,
    check(): Promise<ProbeOutcome> {
      probe.calls += 1;
      return new Promise((resolve) => waiting.push(resolve));
    },
    answer(outcome: ProbeOutcome) {
      for (const resolve of waiting.splice(0)) resolve(outcome);
    },
  };
  return probe;
}

const instant = (name: string, outcome: ProbeOutcome): DependencyProbe => ({ name, check: () => Promise.resolve(outcome) });

describe('DependencyMonitor', () => {
  let monitor: DependencyMonitor | undefined;
  afterEach(() => monitor?.stop());

  it('reports unknown before the first round, then each probe as it answers', async () => {
    monitor = new DependencyMonitor([instant('store', { status: 'ok', detail: 'fine' })], { intervalMs: 1_000, timeoutMs: 100 });
    expect(monitor.states().get('store')).toEqual({ status: 'unknown', detail: 'not probed yet', checkedAt: null });
    monitor.start();
    await sleep(10);
    expect(monitor.states().get('store')).toMatchObject({ status: 'ok', detail: 'fine', checkedAt: expect.any(Date) as unknown });
  });

  it('a probe that never answers is recorded as timeout and is not called again while pending', async () => {
    const hung = controlledProbe('vault');
    monitor = new DependencyMonitor([hung, instant('store', { status: 'ok', detail: '' })], { intervalMs: 20, timeoutMs: 50 });
    monitor.start();
    await sleep(300); // ~15 rounds
    expect(hung.calls).toBe(1);
    expect(monitor.states().get('vault')).toMatchObject({ status: 'timeout', detail: 'no answer within 0.05s' });
    expect(monitor.states().get('store')?.status).toBe('ok');
    hung.answer({ status: 'ok', detail: 'back' });
    await sleep(10);
    expect(monitor.states().get('vault')).toMatchObject({ status: 'ok', detail: 'back' });
    await sleep(60);
    expect(hung.calls).toBeGreaterThan(1); // asked again once the earlier call settled
  });

  it('a probe that throws is recorded as failing with its message', async () => {
    monitor = new DependencyMonitor([{ name: 'store', check: () => Promise.reject(new Error('disk on fire')) }], { timeoutMs: 100 });
    monitor.start();
    await sleep(10);
    expect(monitor.states().get('store')).toMatchObject({ status: 'failing', detail: 'disk on fire' });
  });

  it('refresh waits for a fresh round at most maxWaitMs, and not at all right after one', async () => {
    const hung = controlledProbe('vault');
    monitor = new DependencyMonitor([hung], { intervalMs: 60_000, timeoutMs: 5_000, minRefreshAgeMs: 0 });
    const started = performance.now();
    await monitor.refresh(80);
    expect(performance.now() - started).toBeLessThan(500);
    expect(hung.calls).toBe(1);
    hung.answer({ status: 'sealed', detail: 'sealed' });
    await monitor.refresh(80);
    expect(monitor.states().get('vault')?.status).toBe('sealed');

    let calls = 0;
    const counted: DependencyProbe = { name: 'store', check: () => { calls += 1; return Promise.resolve({ status: 'ok', detail: '' }); } };
    const recent = new DependencyMonitor([counted], { intervalMs: 60_000, minRefreshAgeMs: 60_000 });
    recent.start();
    await recent.refresh(1_000); // the round start() ran is recent enough: no second call
    recent.stop();
    expect(calls).toBe(1);
  });

  it('stop() ends the rounds', async () => {
    let calls = 0;
    monitor = new DependencyMonitor([{ name: 'store', check: () => { calls += 1; return Promise.resolve({ status: 'ok', detail: '' }); } }], { intervalMs: 10 });
    monitor.start();
    await sleep(50);
    monitor.stop();
    const seen = calls;
    await sleep(50);
    expect(calls).toBe(seen);
  });
});
