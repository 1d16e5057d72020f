// Issue 19 defect 2d: `jitgate config check` (bin/jitgate.js, compiled) warns — and still exits 0 — when a role's
// creation statements name a database other than the resource's, as the bundled MySQL roles did with `test`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'jitgate.js');

// The MySQL resource of the bundled config before {{database}}: roles hard-coded to `test`.
const OLD_ROLES = `
identities:
  api_keys:
    - { name: dev, generate: true, groups: [dev] }
resources:
  - name: local-mysql
    protocol: mysql
    admin_url: "\${env:JITGATE_MYSQL_ADMIN_URL:-mysql://root@127.0.0.1:3306/test}"
    roles:
      readonly:
        max_ttl: 8h
        creation_statements:
          - CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'
          - GRANT SELECT ON \`test\`.* TO '{{name}}'@'%'
`;

let dir = '';

const check = (args: readonly string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [BIN, 'config', 'check', ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });

beforeAll(() => {
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'ensure-built.mjs')], { cwd: ROOT, stdio: 'inherit', timeout: 180_000 });
  dir = mkdtempSync(join(tmpdir(), 'jitgate-config-warn-'));
  writeFileSync(join(dir, 'old.yaml'), OLD_ROLES);
}, 200_000);

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('jitgate config check: roles naming another database', () => {
  it('warns naming resource, role, statement and both databases, and exits 0', () => {
    const path = join(dir, 'old.yaml');
    const result = check(['--config', path], { JITGATE_MYSQL_ADMIN_URL: 'mysql://root@127.0.0.1:3306/accdb' });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`config ${path} is valid`);
    expect(result.stdout).toContain('warning: resource "local-mysql" role "readonly" creation_statements[1] names database "test", '
      + 'but the resource\'s database is "accdb"');
    const json = check(['--config', path, '--json'], { JITGATE_MYSQL_ADMIN_URL: 'mysql://root@127.0.0.1:3306/accdb' });
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, summary: { warnings: [expect.stringContaining('names database "test"')] } });
  });

  it('says nothing when the role names the resource\'s own database, and nothing about the bundled config', () => {
    const same = check(['--config', join(dir, 'old.yaml')], { JITGATE_MYSQL_ADMIN_URL: 'mysql://root@127.0.0.1:3306/test' });
    expect(same.status).toBe(0);
    expect(same.stdout).not.toContain('warning:');
    const bundled = check(['--config', 'config/jitgate.yaml'], { JITGATE_MYSQL_ADMIN_URL: 'mysql://root@127.0.0.1:3306/accdb' });
    expect(bundled.status).toBe(0);
    expect(bundled.stdout).not.toContain('warning:');
  });
});
