// What the client is told when the database refuses the lease user at the upstream login (issue 19 defect 2c), and
// which refusals mean "re-issue the lease" (3c). Server fields are written out by hand from the servers' own
// messages (PostgreSQL's auth.c / miscinit.c, MariaDB's ER_ACCESS_DENIED_ERROR / ER_DBACCESS_DENIED_ERROR).
import { describe, expect, it } from 'vitest';
import { MysqlUpstreamError, refusedBy } from '../../src/engines/mysql/upstream.js';
import { serverAnswerOf, UpstreamError } from '../../src/engines/postgres/upstream.js';

const PASSWORD = 'Pw0123456789abcdefghijklmnopqrsT';

describe('PostgreSQL upstream refusals', () => {
  it('passes the server\'s ErrorResponse on as FATAL, with the lease password scrubbed from every text field', () => {
    const answer = serverAnswerOf({ severity: 'FATAL', code: '28000', message: `role "jg_x" is not permitted to log in (${PASSWORD})`,
      detail: `tried ${PASSWORD}`, hint: 'ask the DBA' }, PASSWORD);
    expect(answer).toEqual({ severity: 'FATAL', code: '28000', message: 'role "jg_x" is not permitted to log in ([redacted])',
      detail: 'tried [redacted]', hint: 'ask the DBA' });
    expect(serverAnswerOf({ severity: 'ERROR', code: 'bogus', message: '' }, PASSWORD)).toEqual({ severity: 'FATAL', code: '08006', message: 'upstream refused the login' });
  });

  it('re-issues on a rejected password or an unknown role, not on other refusals or on no answer', () => {
    const refusal = (code: string, message: string): UpstreamError => new UpstreamError(message, code, 'FATAL', { severity: 'FATAL', code, message });
    expect(refusal('28P01', 'password authentication failed for user "jg_x"').rejectsLease).toBe(true);
    expect(refusal('28000', 'role "jg_x" does not exist').rejectsLease).toBe(true);
    expect(refusal('28000', 'role "jg_x" is not permitted to log in').rejectsLease).toBe(false);
    expect(refusal('28000', 'no pg_hba.conf entry for host "10.0.0.1", user "jg_x", database "app", no encryption').rejectsLease).toBe(false);
    expect(refusal('3D000', 'database "app" does not exist').rejectsLease).toBe(false);
    expect(new UpstreamError('connect ECONNREFUSED 127.0.0.1:5432', '08006', 'FATAL').rejectsLease).toBe(false);
  });
});

describe('MySQL upstream refusals', () => {
  it('passes the server\'s ERR on, HY000 where it sent no SQLSTATE, the lease password scrubbed', () => {
    const error = refusedBy({ type: 'err', errno: 1044, sqlState: '42000', message: "Access denied for user 'jg_x'@'%' to database 'accdb'" },
      'database refused the lease user', PASSWORD);
    expect(error.serverAnswer).toEqual({ errno: 1044, sqlState: '42000', message: "Access denied for user 'jg_x'@'%' to database 'accdb'" });
    expect(error.message).toBe("database refused the lease user: Access denied for user 'jg_x'@'%' to database 'accdb'");
    const early = refusedBy({ type: 'err', errno: 1130, sqlState: null, message: `Host '10.0.0.9' is not allowed ${PASSWORD}` }, 'refused', PASSWORD);
    expect(early.serverAnswer).toEqual({ errno: 1130, sqlState: 'HY000', message: "Host '10.0.0.9' is not allowed [redacted]" });
    expect(JSON.stringify([early, early.message])).not.toContain(PASSWORD);
  });

  it('re-issues on 1045 only', () => {
    const refusal = (errno: number): MysqlUpstreamError => refusedBy({ type: 'err', errno, sqlState: '28000', message: 'x' }, 'refused', PASSWORD);
    expect(refusal(1045).rejectsLease).toBe(true);
    expect(refusal(1044).rejectsLease).toBe(false);
    expect(new MysqlUpstreamError('connect ECONNREFUSED 127.0.0.1:3306').rejectsLease).toBe(false);
  });
});
