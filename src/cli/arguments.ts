// Option value parsers: a bad value is a usage error (exit 2) caught before anything is sent to the server.
import { InvalidArgumentError } from 'commander';
import { parseDurationSeconds } from '../config/duration.js';

/** Checks a duration ("30m", "1h30m") and keeps the text, which is what the API takes. */
export function durationText(value: string): string {
  durationSeconds(value);
  return value;
}

export function durationSeconds(value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined || seconds <= 0) throw new InvalidArgumentError('expected a duration like "30m" or "1h30m".');
  return seconds;
}

/** `--since` takes a timestamp or a duration back from now ("2h" = the last two hours); the API wants ISO time. */
export function sinceTimestamp(value: string, now: () => Date = () => new Date()): string {
  const seconds = parseDurationSeconds(value);
  if (seconds !== undefined && seconds > 0) return new Date(now().getTime() - seconds * 1000).toISOString();
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected a duration like "2h" or a timestamp like "2025-01-31T09:00:00Z".');
  return date.toISOString();
}
