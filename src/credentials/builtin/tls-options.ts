// `resource.tls.mode` (libpq's sslmode names) turned into what each driver takes for the admin connection.
//
// `prefer` means "TLS is not needed": libpq's prefer tries TLS and silently falls back to plaintext, which
// protects against nothing an attacker on the path cannot undo, and neither pg nor mysql2 can fall back. So the
// admin connection is plaintext under `prefer`; use `require` or a verify mode where encryption matters.
// `require` encrypts without checking the certificate (libpq's meaning), verify-ca checks the chain only,
// verify-full also the host name.
import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import type { ResourceConfig } from '../../config/schema.js';

type ResourceTls = ResourceConfig['tls'];

const withCa = (tls: ResourceTls): { ca?: string } => (tls.ca === undefined ? {} : { ca: tls.ca });

/** For pg's `ssl` option: false, or tls.connect options. */
export function pgSslOptions(tls: ResourceTls, host: string): false | ConnectionOptions {
  switch (tls.mode) {
    case 'disable':
    case 'prefer':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // The chain is checked; the name in the certificate is not (libpq's verify-ca).
      return { ...withCa(tls), rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-full':
      // Checked against the configured host explicitly: for an IP address pg sends no SNI, and Node would
      // otherwise compare the certificate with "localhost".
      return { ...withCa(tls), rejectUnauthorized: true, checkServerIdentity: (_servername, cert) => checkServerIdentity(host, cert) };
  }
}

/** mysql2's `ssl` option. mysql2 checks the host name only with `verifyIdentity` (and only for host names). */
export interface MysqlSslOptions {
  readonly ca?: string;
  readonly rejectUnauthorized: boolean;
  readonly verifyIdentity?: boolean;
}

export function mysqlSslOptions(tls: ResourceTls, host: string): MysqlSslOptions | undefined {
  switch (tls.mode) {
    case 'disable':
    case 'prefer':
      return undefined;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { ...withCa(tls), rejectUnauthorized: true, verifyIdentity: false };
    case 'verify-full':
      if (isIP(host) !== 0) {
        // mysql2 sends no SNI and skips the name check for an IP address; say so rather than pretend.
        throw new Error(`tls.mode verify-full needs a host name, not the address ${host}, with mysql2`);
      }
      return { ...withCa(tls), rejectUnauthorized: true, verifyIdentity: true };
  }
}
