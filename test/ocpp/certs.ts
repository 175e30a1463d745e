import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throwaway PKI for TLS tests (node:crypto cannot issue X.509 certificates): a CA, a server
 * certificate for 127.0.0.1, a client certificate per station, and a second, foreign CA.
 */
export interface TestPki {
  readonly caCert: string;
  readonly serverKey: string;
  readonly serverCert: string;
  /** `expired`: validity ended a day before it was issued, so it is expired from the start. */
  clientFor(stationId: string, issuer?: 'ca' | 'foreign', options?: { expired?: boolean }): { key: string; cert: string };
  remove(): void;
}

/** `serverKey: 'rsa'`: an RSA server key, for cipher suites with RSA authentication (ECDHE-RSA, and the RSA key exchange some stations still offer). */
export function createTestPki(options: { serverKey?: 'ec' | 'rsa' } = {}): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'ocpp-pki-'));
  const file = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const newKey = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', file(name));
  const newCa = (name: string, cn: string) => {
    newKey(`${name}.key`);
    openssl('req', '-x509', '-new', '-key', file(`${name}.key`), '-subj', `/CN=${cn}`, '-days', '2', '-out', file(`${name}.crt`));
  };
  const issue = (name: string, cn: string, ca: string, extensions: string, days = '2', algorithm: 'ec' | 'rsa' = 'ec') => {
    if (algorithm === 'rsa') openssl('genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', file(`${name}.key`));
    else newKey(`${name}.key`);
    openssl('req', '-new', '-key', file(`${name}.key`), '-subj', `/CN=${cn}`, '-out', file(`${name}.csr`));
    writeFileSync(file(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.crt`), '-CAkey', file(`${ca}.key`), '-CAcreateserial',
      '-days', days, '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
  };
  const read = (name: string) => readFileSync(file(name), 'utf8');

  newCa('ca', 'OCPP Test CA');
  newCa('foreign', 'Someone Else CA');
  issue('server', 'localhost', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', '2', options.serverKey ?? 'ec');
  return {
    caCert: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
    clientFor(stationId, issuer = 'ca', { expired = false } = {}) {
      const name = `client-${issuer}-${stationId}${expired ? '-expired' : ''}`;
      issue(name, stationId, issuer, 'extendedKeyUsage=clientAuth\n', expired ? '-1' : '2');
      return { key: read(`${name}.key`), cert: read(`${name}.crt`) };
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
