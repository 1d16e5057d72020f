// Durations in config and API requests: "90s", "30m", "1h30m", "8h", "2d". Stored and computed as whole seconds.

const DURATION_PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** Parses a duration like "1h30m" into seconds; returns undefined when the text is not a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match || text.trim() === '') return undefined;
  const [, days, hours, minutes, seconds] = match;
  const total = Number(days ?? 0) * 86_400 + Number(hours ?? 0) * 3_600 + Number(minutes ?? 0) * 60 + Number(seconds ?? 0);
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Formats seconds the way operators write them: 5400 → "1h30m", 45 → "45s". */
export function formatDuration(totalSeconds: number): string {
  if (totalSeconds <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.floor(totalSeconds);
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
