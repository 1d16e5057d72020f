// psql, the client every operator reaches for: -c (one and several), -f scripts with dollar quoting, \copy both ways,
// ON_ERROR_STOP on and off, and meta commands, whose catalog queries must pass through like any other.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgTarget } from '../pg-target.js';
import { psqlOk, runPsql } from './run-psql.js';
import { useScenarioScope } from './scope.js';

export function definePsqlScenarios(getTarget: () => PgTarget): void {
  describe('psql', () => {
    const scope = useScenarioScope(getTarget);
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jitgate-psql-'));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const script = async (name: string, text: string): Promise<string> => {
      const path = join(dir, name);
      await writeFile(path, text);
      return path;
    };
    const rowsOf = async (table: string): Promise<string[]> =>
      (await psqlOk(getTarget(), ['-At', '-c', `select id from ${table} order by id`])).split('\n').filter((line) => line !== '');

    it('-c runs one statement and prints its rows', async () => {
      expect(await psqlOk(getTarget(), ['-At', '-c', `select 1 + 1, 'grüße', null::text, 'end'`])).toBe('2|grüße||end\n');
    });

    it('-c given several times runs each in order; one -c with two statements shows both results', async () => {
      const t = scope.table('psql_multi_c');
      const out = await psqlOk(getTarget(), [
        '-At',
        '-c', `create table ${t} (id int primary key, v text)`,
        '-c', `insert into ${t} values (1, 'a'), (2, 'b')`,
        '-c', `select id, v from ${t} order by id`,
        '-c', `select count(*) from ${t}; select max(id) from ${t}`,
      ]);
      expect(out).toBe('CREATE TABLE\nINSERT 0 2\n1|a\n2|b\n2\n2\n');
    });

    it('-f runs a multi-statement file with a dollar-quoted DO block and relays its NOTICE', async () => {
      const t = scope.table('psql_file');
      const path = await script('multi.sql', [
        `create table ${t} (id int primary key, label text not null);`,
        `insert into ${t} values (1, 'one');`,
        `insert into ${t} values (2, 'two'), (3, 'three');`,
        'do $body$',
        'declare n int;',
        'begin',
        `  select count(*) into n from ${t};`,
        `  insert into ${t} values (n + 1, $q$it's $$; "quoted"$q$);`,
        `  raise notice 'rows before: %', n;`,
        'end',
        '$body$;',
        `select id || ':' || label from ${t} order by id;`,
        '',
      ].join('\n'));
      const run = await runPsql(getTarget(), ['-At', '-f', path], { onErrorStop: true });
      expect(run.stderr).toContain('NOTICE:  rows before: 3');
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`CREATE TABLE\nINSERT 0 1\nINSERT 0 2\nDO\n1:one\n2:two\n3:three\n4:it's $$; "quoted"\n`);
    });

    // Text COPY format: tab-separated, \N for NULL, backslash escapes; what goes in must come out byte for byte.
    const copyRows = ['1\thello\t1.5', '2\tünïcødé ✓ 😀\t\\N', '3\ttab\\there, newline\\nand back\\\\slash\t-2.50', '4\t\t0'];

    it('\\copy from stdin (inline in a -f file) and \\copy (select …) to stdout round-trip exactly', async () => {
      const t = scope.table('psql_copy');
      const path = await script('copy.sql', [
        `create table ${t} (id int primary key, note text, n numeric);`,
        `\\copy ${t} from stdin`,
        ...copyRows,
        '\\.',
        `\\copy (select id, note, n from ${t} order by id) to stdout`,
        '',
      ].join('\n'));
      const out = await psqlOk(getTarget(), ['-q', '-f', path], { onErrorStop: true });
      expect(out).toBe(`${copyRows.join('\n')}\n`);
      const check = await psqlOk(getTarget(), ['-At', '-c', `select count(*), count(n), sum(length(note)) from ${t}`]);
      expect(check).toBe('4|3|48\n');
    });

    it('\\copy from pstdin reads psql\'s piped standard input', async () => {
      const t = scope.table('psql_pstdin');
      await psqlOk(getTarget(), ['-c', `create table ${t} (id int primary key, note text, n numeric)`]);
      const run = await runPsql(getTarget(), ['-c', `\\copy ${t} from pstdin`], { stdin: `${copyRows.join('\n')}\n`, onErrorStop: true });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('COPY 4\n');
      expect(await psqlOk(getTarget(), ['-c', `\\copy (select * from ${t} order by id) to stdout`])).toBe(`${copyRows.join('\n')}\n`);
    });

    const failingScript = (t: string): string => [
      `create table ${t} (id int);`,
      `insert into ${t} values (1);`,
      `insert into ${t} values ('not a number');`,
      `insert into ${t} values (2);`,
      '',
    ].join('\n');

    it('with ON_ERROR_STOP=1 an error exits 3, names the error on stderr and runs nothing after it', async () => {
      const t = scope.table('psql_stop');
      const path = await script('stop.sql', failingScript(t));
      const run = await runPsql(getTarget(), ['-f', path], { onErrorStop: true });
      expect(run.code).toBe(3);
      expect(run.stderr).toContain(`psql:${path}:3: ERROR:  invalid input syntax for type integer: "not a number"`);
      expect(run.stdout).toBe('CREATE TABLE\nINSERT 0 1\n');
      expect(await rowsOf(t)).toEqual(['1']);
    });

    it('without ON_ERROR_STOP an error is reported and the script goes on', async () => {
      const t = scope.table('psql_go_on');
      const path = await script('go-on.sql', failingScript(t));
      const run = await runPsql(getTarget(), ['-f', path], { onErrorStop: false });
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('ERROR:  invalid input syntax for type integer: "not a number"');
      expect(run.stdout).toBe('CREATE TABLE\nINSERT 0 1\nINSERT 0 1\n');
      expect(await rowsOf(t)).toEqual(['1', '2']);
    });

    it('-c with an error exits 1 and shows the SQLSTATE with VERBOSITY=verbose', async () => {
      const run = await runPsql(getTarget(), ['-v', 'VERBOSITY=verbose', '-c', 'select 1/0']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('ERROR:  22012: division by zero');
    });

    it('\\d and \\dt describe a table through psql\'s catalog queries', async () => {
      const t = scope.table('psql_meta');
      await psqlOk(getTarget(), ['-c', `create table ${t} (id int primary key, label text not null default 'x', at timestamptz)`]);
      const described = await psqlOk(getTarget(), ['-c', `\\d ${t}`]);
      expect(described).toContain(`Table "public.${t}"`);
      expect(described).toMatch(/ id +\| integer +\| +\| not null \|/);
      expect(described).toMatch(/ label +\| text +\| +\| not null \| 'x'::text/);
      expect(described).toMatch(/ at +\| timestamp with time zone +\| +\| +\|/);
      expect(described).toContain(`"${t}_pkey" PRIMARY KEY, btree (id)`);
      const listed = await psqlOk(getTarget(), ['-At', '-c', `\\dt ${t}`]);
      expect(listed).toMatch(new RegExp(`^public\\|${t}\\|table\\|[^|\\n]+\\n$`));
      const columns = await psqlOk(getTarget(), ['-At', '-F', ',', '-c', `\\d ${t}`]);
      expect(columns.split('\n').slice(0, 3)).toEqual(['id,integer,,not null,', "label,text,,not null,'x'::text", 'at,timestamp with time zone,,,']);
    });
  });
}
