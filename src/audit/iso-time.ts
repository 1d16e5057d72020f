// Statement events carry two timestamps each (`started`, `ts`), and a busy gateway audits several statements per
// millisecond: Date#toISOString costs about half a microsecond, so each distinct millisecond is formatted once.

let cachedMs = Number.NaN;
let cachedText = '';

/** `new Date(ms).toISOString()` for the whole millisecond of `ms` (fractions are cut, as Date cuts them). */
export function isoAtMillis(ms: number): string {
  const whole = Math.trunc(ms);
  if (whole !== cachedMs) {
    cachedText = new Date(whole).toISOString();
    cachedMs = whole;
  }
  return cachedText;
}

/** `isoAtMillis` for a `performance.now()` reading. */
export const isoAtMonotonic = (monotonicMs: number): string => isoAtMillis(Math.floor(performance.timeOrigin + monotonicMs));
