// Human wording shared by the commands: relative times, grant states, approval rules. Pure functions.
import type { Grant } from './api-schemas.js';

/**
 * A span the way a person reads it at a glance: seconds under a minute, whole minutes under an hour, then the two
 * largest units. Rounded down, so a 30m grant seen a moment after approval reads "29m", never a too-generous "30m".
 */
export function formatSpan(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3_600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) {
    const minutes = Math.floor((seconds % 3_600) / 60);
    return `${Math.floor(seconds / 3_600)}h${minutes > 0 ? `${minutes}m` : ''}`;
  }
  const hours = Math.floor((seconds % 86_400) / 3_600);
  return `${Math.floor(seconds / 86_400)}d${hours > 0 ? `${hours}h` : ''}`;
}

/** "in 29m" for the future, "3m ago" for the past. */
export function formatRelative(target: Date, now: Date): string {
  const deltaSeconds = (target.getTime() - now.getTime()) / 1000;
  if (Number.isNaN(deltaSeconds)) return '?';
  if (Math.abs(deltaSeconds) < 1) return 'now';
  return deltaSeconds > 0 ? `in ${formatSpan(deltaSeconds)}` : `${formatSpan(-deltaSeconds)} ago`;
}

const parseTime = (text: string | null | undefined): Date | undefined => {
  if (text === null || text === undefined) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
};

/** The EXPIRES column: when an open grant ends, or how long ago a finished one did. */
export function describeGrantExpiry(grant: Grant, now: Date): string {
  const expiresAt = parseTime(grant.expiresAt);
  const endedAt = parseTime(grant.endedAt) ?? expiresAt;
  switch (grant.state) {
    case 'ended':
      return endedAt ? `ended ${formatRelative(endedAt, now)}` : 'ended';
    case 'denied':
      return endedAt && grant.endedAt ? `denied ${formatRelative(endedAt, now)}` : 'denied';
    case 'pending':
    case 'approved':
    case 'active':
      return expiresAt ? formatRelative(expiresAt, now) : grant.expiresAt;
  }
}

/** "ended (revoked)", "pending (0/1 approvals)", or just the state. */
export function describeGrantState(grant: Grant): string {
  if (grant.state === 'ended' && grant.endReason) return `ended (${grant.endReason})`;
  if (grant.state === 'pending' && grant.approvalsRequired !== undefined && grant.approvalsRequired > 0) {
    return `pending (${grant.approvals?.length ?? 0}/${grant.approvalsRequired} approvals)`;
  }
  return grant.state;
}

/** ISO time plus its relative form, for detail views: "2025-01-01T10:30:00.000Z (in 29m)". */
export function describeTime(text: string | null | undefined, now: Date): string {
  const date = parseTime(text);
  if (!date) return text ?? '-';
  return `${date.toISOString()} (${formatRelative(date, now)})`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'] as const;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit] ?? 'TiB'}`;
}
