// Stands in for psql / mariadb in `jitgate connect` tests (a shell wrapper named like the client runs it): records
// what a local user could see — its argv (what `ps` shows), the password variables of its environment, and the
// option file named by a leading --defaults-extra-file (mode, its directory's mode, content) — as JSON in
// $FAKE_CLIENT_RECORD, then behaves as $FAKE_CLIENT_BEHAVIOUR says: exit 0 (default), `fail` (exit 3),
// `kill` (dies of SIGKILL), `hang` (waits to be signalled).
//   node test/support/fake-db-client.mjs <client name> [client args...]
/* global setInterval */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const [name, ...argv] = process.argv.slice(2);
const record = { name, argv, env: { PGPASSWORD: process.env.PGPASSWORD ?? null, MYSQL_PWD: process.env.MYSQL_PWD ?? null } };
const prefix = '--defaults-extra-file=';
if (argv[0]?.startsWith(prefix)) {
  const path = argv[0].slice(prefix.length);
  record.optionFile = {
    path,
    mode: (statSync(path).mode & 0o777).toString(8),
    dirMode: (statSync(dirname(path)).mode & 0o777).toString(8),
    content: readFileSync(path, 'utf8'),
  };
}
writeFileSync(process.env.FAKE_CLIENT_RECORD ?? 'fake-client.json', JSON.stringify(record));
switch (process.env.FAKE_CLIENT_BEHAVIOUR) {
  case 'fail':
    process.exit(3);
    break;
  case 'kill':
    process.kill(process.pid, 'SIGKILL');
    break;
  case 'hang':
    setInterval(() => {}, 1_000);
    break;
  default:
    process.exit(0);
}
