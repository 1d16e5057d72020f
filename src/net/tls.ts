// TLS options for jitgate's two roles: a server to clients (listener cert from config) and a client to upstream
// databases (per-resource `tls.mode`, libpq's sslmode vocabulary).
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import type { Config, ResourceConfig } from '../config/schema.js';

export function listenerSecureContext(tls: Config['tls']): SecureContext | undefined {
  if (!tls) return undefined;
  return createSecureContext({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}), minVersion: 'TLSv1.2' });
}

export type UpstreamTlsMode = ResourceConfig['tls']['mode'];

/** Whether a plaintext answer ('N' to SSLRequest) is acceptable under `mode`. */
export const upstreamTlsOptional = (mode: UpstreamTlsMode): boolean => mode === 'prefer';

/** Options for `tls.connect` to an upstream in `mode`; undefined for `disable`. */
export function upstreamTlsOptions(resource: ResourceConfig): ConnectionOptions | undefined {
  const { mode, ca } = resource.tls;
  const { host } = resource;
  // SNI carries host names only (RFC 6066); an IP address is checked against the certificate's IP SANs instead.
  const sni = isIP(host) === 0 ? { servername: host } : {};
  switch (mode) {
    case 'disable':
      return undefined;
    case 'prefer':
    case 'require':
      // libpq semantics: encrypt, but do not verify the certificate.
      return { rejectUnauthorized: false, ...sni, minVersion: 'TLSv1.2' };
    case 'verify-ca':
      // The chain must verify; the host name need not match (libpq verify-ca).
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}), checkServerIdentity: () => undefined, minVersion: 'TLSv1.2' };
    case 'verify-full':
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}), ...sni, checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert), minVersion: 'TLSv1.2' };
  }
}
