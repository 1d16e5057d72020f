// A throwaway certificate authority made with the openssl CLI: a CA and leaf certificates it signs, with the SANs a
// test asks for, in a temp dir that the returned `remove` deletes. PEM text is returned for configs that embed it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestCa {
  readonly dir: string;
  readonly caPath: string;
  readonly ca: string;
  /** A server certificate signed by this CA for `sans` (`DNS:localhost`, `IP:127.0.0.1`). */
  issue(name: string, sans: readonly string[]): Promise<TestCertificate>;
  remove(): Promise<void>;
}

export async function makeTestCa(commonName = 'jitgate test CA'): Promise<TestCa> {
  const dir = await mkdtemp(join(tmpdir(), 'jitgate-ca-'));
  const caKey = join(dir, 'ca.key');
  const caPath = join(dir, 'ca.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caPath, '-days', '2',
    '-subj', `/CN=${commonName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return {
    dir,
    caPath,
    ca: await readFile(caPath, 'utf8'),
    async issue(name, sans) {
      const keyPath = join(dir, `${name}.key`);
      const csrPath = join(dir, `${name}.csr`);
      const certPath = join(dir, `${name}.crt`);
      const extPath = join(dir, `${name}.ext`);
      await writeFile(extPath, `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
      await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', `/CN=${name}`]);
      await run('openssl', ['x509', '-req', '-in', csrPath, '-CA', caPath, '-CAkey', caKey, '-CAcreateserial', '-out', certPath,
        '-days', '2', '-extfile', extPath]);
      return { certPath, keyPath, cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8') };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
