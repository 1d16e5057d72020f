// The per-millisecond cache must give exactly what Date#toISOString gives, whatever order the instants come in.
import { describe, expect, it } from 'vitest';
import { isoAtMillis, isoAtMonotonic } from '../../src/audit/iso-time.js';

describe('isoAtMillis', () => {
  it('matches toISOString for repeated, fractional, earlier and later instants', () => {
    const base = Date.UTC(2026, 11, 2, 4, 55, 43, 123);
    const instants = [base, base, base + 0.9, base + 1, base - 1, base + 0.2, 0, 86_400_000 * 365 * 80 + 0.5, base];
    for (const ms of instants) expect(isoAtMillis(ms), `${ms}`).toBe(new Date(ms).toISOString());
  });

  it('reads a performance.now() value as wall-clock time', () => {
    const monotonic = performance.now();
    expect(isoAtMonotonic(monotonic)).toBe(new Date(Math.floor(performance.timeOrigin + monotonic)).toISOString());
  });
});
