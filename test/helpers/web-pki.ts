import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** PEM files of a throwaway PKI, plus their paths. */
export interface TestPki {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Signed by the CA; SANs DNS:prometheus and URI:spiffe://test/prometheus. */
  readonly clientCert: string;
  readonly clientKey: string;
  /** Signed by a CA the server does not trust. */
  readonly rogueCert: string;
  readonly rogueKey: string;
  readonly file: (name: string) => string;
  readonly cleanup: () => void;
}

const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:prometheus,URI:spiffe://test/prometheus
`;

/** A CA, a server certificate for 127.0.0.1/localhost and client certificates, made with the openssl CLI (EC P-256: fast). */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'ditto-web-pki-'));
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file('openssl.cnf'), CONFIG);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

  const ca = (name: string, cn: string) =>
    openssl('req', '-x509', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${cn}`, '-days', '2', '-config', 'openssl.cnf', '-extensions', 'ca_ext');
  let serial = 1;
  const leaf = (name: string, cn: string, issuer: string, ext: string) => {
    openssl('req', '-new', ...newKey, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`, '-config', 'openssl.cnf');
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-set_serial', String(serial++), '-days', '2', '-out', `${name}.crt`, '-extfile', 'openssl.cnf', '-extensions', ext);
  };
  ca('ca', 'Test CA');
  ca('rogue-ca', 'Rogue CA');
  leaf('server', 'localhost', 'ca', 'server_ext');
  leaf('client', 'prometheus', 'ca', 'client_ext');
  leaf('rogue', 'prometheus', 'rogue-ca', 'client_ext');

  const read = (name: string) => readFileSync(file(name), 'utf8');
  return {
    dir,
    caCert: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
    rogueCert: read('rogue.crt'),
    rogueKey: read('rogue.key'),
    file,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
