// How node-vault's rejections (VAULT.md §5: ApiResponseError with response.statusCode/body, axios transport errors)
// become VaultBrokerError codes and messages (VAULT.md §4), with secrets cut out.
import { describe, expect, it } from 'vitest';
import { describeVaultFailure, unwrapMultierror, vaultMessage, type FailureContext } from '../../src/credentials/vault/errors.js';

/** The shape node-vault 0.12.0 rejects with for a non-2xx answer. */
function apiError(statusCode: number, errors: string[]): Error & { response: { statusCode: number; body: unknown } } {
  return Object.assign(new Error(errors[0] ?? `Status ${statusCode}`), { response: { statusCode, body: { errors } } });
}

/** The shape axios rejects with when nothing answered. */
const transportError = (code: string, message: string): Error & { code: string } => Object.assign(new Error(message), { code });

const context: FailureContext = {
  operation: 'issue', address: 'https://vault:8200', path: 'database/creds/readonly', doing: 'reading database credentials for role "readonly"',
  role: 'readonly', mount: 'database', secrets: ['hvs.SECRETTOKEN123456', 's3cr3t-id-abcdef'],
};

describe('describeVaultFailure', () => {
  it('403 ACL denial → permission_denied, naming the path and the policy fix, multierror unwrapped', () => {
    const error = describeVaultFailure(context, apiError(403, ['1 error occurred:\n\t* permission denied\n\n']));
    expect(error).toMatchObject({ code: 'permission_denied', status: 403, operation: 'issue' });
    expect(error.message).toBe('vault broker: issue: Vault denied reading database credentials for role "readonly" (403 permission denied): '
      + 'the broker\'s token needs a policy granting this on "database/creds/readonly" (see README "Vault")');
  });

  it('400 unknown role → unknown_role; 500 "not an allowed role" → role_not_allowed', () => {
    expect(describeVaultFailure(context, apiError(400, ['unknown role: readonly']))).toMatchObject({
      code: 'unknown_role', message: 'vault broker: issue: Vault has no database role "readonly" under mount "database" (400 unknown role: readonly)',
    });
    const notAllowed = describeVaultFailure(context, apiError(500, ['1 error occurred:\n\t* "readonly" is not an allowed role\n\n']));
    expect(notAllowed.code).toBe('role_not_allowed');
    expect(notAllowed.message).toContain('(500 "readonly" is not an allowed role)');
  });

  it('503 sealed → sealed; 429 → standby; other statuses keep status and message', () => {
    expect(describeVaultFailure(context, apiError(503, ['Vault is sealed'])).message).toBe(
      'vault broker: issue: Vault at https://vault:8200 is sealed (503) while reading database credentials for role "readonly"');
    expect(describeVaultFailure(context, apiError(429, []))).toMatchObject({ code: 'standby', status: 429 });
    expect(describeVaultFailure(context, apiError(502, ['upstream rate limited']))).toMatchObject({
      code: 'vault_error', message: expect.stringContaining('Vault answered 502: upstream rate limited'),
    });
  });

  it('ECONNREFUSED → unreachable; ECONNABORTED (axios timeout) → timeout', () => {
    expect(describeVaultFailure(context, transportError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.9:8200'))).toMatchObject({
      code: 'unreachable', status: undefined,
      message: 'vault broker: issue: Vault at https://vault:8200 is unreachable while reading database credentials for role "readonly" (ECONNREFUSED)',
    });
    expect(describeVaultFailure(context, transportError('ECONNABORTED', 'timeout of 5000ms exceeded')).code).toBe('timeout');
  });

  it('never repeats a token or secret_id that Vault or the socket echoed', () => {
    const echoed = apiError(400, ['invalid request: token hvs.SECRETTOKEN123456 and s3cr3t-id-abcdef']);
    const error = describeVaultFailure(context, echoed);
    expect(error.message).not.toContain('SECRETTOKEN');
    expect(error.message).not.toContain('s3cr3t-id');
    expect(error.message).toContain('[redacted]');
  });
});

describe('vaultMessage / unwrapMultierror', () => {
  it('unwraps one and several go-multierror entries, leaves plain messages alone', () => {
    expect(unwrapMultierror('1 error occurred:\n\t* permission denied\n\n')).toBe('permission denied');
    expect(unwrapMultierror('2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n')).toBe('permission denied; invalid token');
    expect(unwrapMultierror('invalid lease')).toBe('invalid lease');
  });

  it('falls back to the error message ("Status 404" for an empty errors list)', () => {
    expect(vaultMessage(Object.assign(new Error('Status 404'), { response: { statusCode: 404, body: { errors: [] } } }))).toBe('Status 404');
    expect(vaultMessage('plain')).toBe('plain');
  });
});
