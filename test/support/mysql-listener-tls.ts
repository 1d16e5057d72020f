// A listener certificate for a test jitgate: a throwaway CA and a server certificate for 127.0.0.1 / localhost, made
// with the system `openssl` in a temp dir, handed to jitgate as the `tls:` block of its config (PEM text through
// `${file:…}`). Clients in the suite do not verify it (as `mariadb --ssl` and mysql2 `rejectUnauthorized: false`
// don't), but the CA is there for a test that wants to.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ListenerTls {
  readonly dir: string;
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** The config's top-level `tls:` mapping, for `InstanceOptions.extraYaml`. */
  readonly yaml: string;
  readonly caPem: () => Promise<string>;
  remove(): Promise<void>;
}

function openssl(args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd, timeout: 20_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim() || error.message}`));
    });
  });
}

/** CA (EC P-256, 1 day) → server key and CSR → server certificate with SANs IP:127.0.0.1, DNS:localhost. */
export async function makeListenerTls(): Promise<ListenerTls> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-mysql-tls-'));
  const caPath = join(dir, 'ca.crt');
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=jitgate test CA'], dir);
    await openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
    await writeFile(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    await openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext'], dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir, caPath, certPath, keyPath,
    yaml: `tls: { cert: "\${file:${certPath}}", key: "\${file:${keyPath}}", require: false }`,
    caPem: () => readFile(caPath, 'utf8'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
