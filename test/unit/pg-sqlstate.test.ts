import { describe, expect, it } from 'vitest';
import { encodeErrorResponse, encodeNoticeResponse } from '../../protocols/postgres/backend-error.js';
import { pgError, pgNotice } from '../../protocols/postgres/sqlstate.js';
import { cstr, frame } from '../support/pg-frames.js';

describe('named error constructors', () => {
  it.each([
    [pgError.invalidPassword('g_abc'), 'FATAL', '28P01', 'password authentication failed for user "g_abc"'],
    [pgError.accessDenied('grant g_abc is pending approval'), 'FATAL', '28000', 'grant g_abc is pending approval'],
    [pgError.grantPending('g_abc'), 'FATAL', '28000', 'grant g_abc is pending approval'],
    [pgError.grantEnded('g_abc', 'revoked'), 'FATAL', '28000', 'grant g_abc is revoked'],
    [pgError.invalidDatabase('other'), 'FATAL', '28000', 'database "other" is not allowed for this grant'],
    [pgError.grantExpired('g_abc'), 'FATAL', '57P01', 'grant g_abc expired'],
    [pgError.grantRevoked('g_abc'), 'FATAL', '57P01', 'grant g_abc revoked'],
    [pgError.adminShutdown(), 'FATAL', '57P01', 'terminating connection due to administrator command'],
    [pgError.protocolViolation('invalid frontend message type'), 'FATAL', '08P01', 'invalid frontend message type'],
    [pgError.tlsRequired(), 'FATAL', '08004', 'jitgate requires TLS for this connection'],
    [pgError.featureNotSupported('replication connections are not supported'), 'FATAL', '0A000', 'replication connections are not supported'],
    [pgError.tooManyConnections(), 'FATAL', '53300', 'sorry, too many clients already'],
    [pgError.auditUnavailable(), 'ERROR', '58000', 'statement refused: the audit trail is unavailable'],
    [pgError.upstreamUnavailable('cannot reach db:5432'), 'FATAL', '08006', 'cannot reach db:5432'],
    [pgError.queryCanceled(), 'ERROR', '57014', 'canceling statement due to user request'],
  ])('%o', (fields, severity, code, message) => {
    expect(fields).toMatchObject({ severity, code, message });
  });

  it('carries detail and hint where they help', () => {
    expect(pgError.invalidDatabase('other', 'orders').detail).toBe('The grant\'s resource serves database "orders".');
    expect(pgError.tlsRequired().hint).toMatch(/sslmode=require/);
    expect(pgError.auditUnavailable('FATAL').severity).toBe('FATAL');
  });

  it('the wrong-token / unknown-grant refusal on the wire', () => {
    expect(encodeErrorResponse(pgError.invalidPassword('g_aaaaaaaaaaaaaaaaaaaa'))).toEqual(frame('E',
      'S', cstr('FATAL'), 'V', cstr('FATAL'), 'C', cstr('28P01'), 'M', cstr('password authentication failed for user "g_aaaaaaaaaaaaaaaaaaaa"'), [0]));
  });

  it('the expiry warning is a WARNING notice with 01000, on the wire', () => {
    const warning = pgNotice.expiryWarning('g_abc', 60);
    expect(warning).toEqual({ severity: 'WARNING', code: '01000', message: 'grant g_abc expires in 60s' });
    expect(encodeNoticeResponse(warning)).toEqual(frame('N',
      'S', cstr('WARNING'), 'V', cstr('WARNING'), 'C', cstr('01000'), 'M', cstr('grant g_abc expires in 60s'), [0]));
    expect(pgNotice.expiryWarning('g_abc', 59.6).message).toBe('grant g_abc expires in 60s');
    expect(pgNotice.expiryWarning('g_abc', -3).message).toBe('grant g_abc expires in 0s');
  });
});
