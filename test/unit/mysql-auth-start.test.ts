// Which auth response jitgate verifies as sent and when it switches the client first (issue 19 defect 1): the first
// response answers the greeting's plugin only when the client names that plugin and sent something.
import { describe, expect, it } from 'vitest';
import { authStart } from '../../src/engines/mysql/handshake.js';

const NATIVE = 'mysql_native_password';
const SHA2 = 'caching_sha2_password';

describe('authStart (jitgate greets with caching_sha2_password)', () => {
  it('verifies a non-empty answer to the greeting\'s plugin as sent (mysql2, libmariadb with its default plugin)', () => {
    expect(authStart(SHA2, SHA2, 32)).toEqual({ type: 'verify', plugin: SHA2 });
  });

  it('switches libmariadb --default-auth=mysql_native_password (empty response naming native) to native', () => {
    expect(authStart(SHA2, NATIVE, 0)).toEqual({ type: 'switch', plugin: NATIVE });
  });

  it('switches a client that answered with another served plugin to that plugin, whatever it sent', () => {
    expect(authStart(SHA2, NATIVE, 20)).toEqual({ type: 'switch', plugin: NATIVE });
    expect(authStart(NATIVE, SHA2, 0)).toEqual({ type: 'switch', plugin: SHA2 });
    expect(authStart(NATIVE, SHA2, 32)).toEqual({ type: 'switch', plugin: SHA2 });
  });

  it('switches an empty answer to the greeting\'s own plugin to that plugin', () => {
    expect(authStart(SHA2, SHA2, 0)).toEqual({ type: 'switch', plugin: SHA2 });
    expect(authStart(NATIVE, NATIVE, 0)).toEqual({ type: 'switch', plugin: NATIVE });
  });

  it('switches plugins jitgate does not serve (ed25519, dialog, clear text, sha256) to native', () => {
    for (const plugin of ['client_ed25519', 'dialog', 'mysql_clear_password', 'sha256_password']) {
      expect(authStart(SHA2, plugin, 0)).toEqual({ type: 'switch', plugin: NATIVE });
      expect(authStart(SHA2, plugin, 20)).toEqual({ type: 'switch', plugin: NATIVE });
    }
  });

  it('never switches a client without a plugin name (no CLIENT_PLUGIN_AUTH): its response is native', () => {
    expect(authStart(SHA2, null, 20)).toEqual({ type: 'verify', plugin: NATIVE });
    expect(authStart(SHA2, null, 0)).toEqual({ type: 'verify', plugin: NATIVE });
  });
});
