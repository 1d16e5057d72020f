// The audit stream file holds every statement and its parameters (issue 19, defect 8): created 0600 in a directory
// created 0700, whatever the umask lets through; an existing file others can read is left as it is, with a warning.
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlAuditSink } from '../../src/audit/sinks/jsonl-sink.js';

const modeOf = (path: string): number => statSync(path).mode & 0o777;

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitgate-audit-mode-'));
  umask = process.umask(0o022); // the common default, under which files come out 0644 unless asked otherwise
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

function recordingLogger(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { lines, logger: pino({ level: 'info' }, { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } }) };
}

describe('JSON-lines audit file permissions', () => {
  it('creates the file 0600 and missing parent directories 0700', async () => {
    const file = join(dir, 'var', 'audit', 'audit.jsonl');
    const sink = await JsonlAuditSink.open({ file });
    await sink.close();
    expect(modeOf(file).toString(8)).toBe('600');
    expect(modeOf(join(dir, 'var', 'audit')).toString(8)).toBe('700');
    expect(modeOf(join(dir, 'var')).toString(8)).toBe('700');
  });

  it('warns about an existing file that others may read, and leaves its mode alone', async () => {
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const { logger, lines } = recordingLogger();
    const sink = await JsonlAuditSink.open({ file, logger });
    await sink.close();
    expect(modeOf(file).toString(8)).toBe('644');
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, file, mode: '0644', msg: expect.stringContaining('open to other users') as unknown }));
  });

  it('says nothing about an existing 0600 file', async () => {
    const file = join(dir, 'audit.jsonl');
    writeFileSync(file, '', { mode: 0o600 });
    const { logger, lines } = recordingLogger();
    const sink = await JsonlAuditSink.open({ file, logger });
    await sink.close();
    expect(lines).toEqual([]);
  });
});
