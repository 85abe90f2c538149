import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWebConfig, loadWebConfig } from '../src/web/web-config-load.js';
import { parseWebConfig, WebConfigError } from '../src/web/web-config.js';
import { createTestPki, type TestPki } from './helpers/web-pki.js';

const HASH = bcrypt.hashSync('secret', 4);
const TOKEN = 'a'.repeat(12) + '-token-0123456789';

/** The WebConfigError a config text gives (parse only), or fails the test. */
function parseError(text: string, file = '/etc/exporter/web.yml'): WebConfigError {
  try {
    parseWebConfig(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(WebConfigError);
    return error as WebConfigError;
  }
  throw new Error(`expected a WebConfigError for:\n${text}`);
}

describe('parseWebConfig', () => {
  it('reads the exporter-toolkit format and resolves paths against the file directory', () => {
    const doc = parseWebConfig(
      `tls_server_config:
  cert_file: certs/server.crt
  key_file: /abs/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ../ca.crt
  min_version: TLS13
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]
  curve_preferences: [X25519, CurveP256]
basic_auth_users:
  prometheus: ${HASH}
http_server_config:
  http2: true
  headers:
    Strict-Transport-Security: max-age=31536000
    X-Frame-Options: deny
bearer_auth:
  token_file: token.txt
`,
      '/etc/exporter/web.yml',
    );
    expect(doc.tls?.cert).toEqual({ key: 'tls_server_config.cert_file', file: '/etc/exporter/certs/server.crt' });
    expect(doc.tls?.key).toEqual({ key: 'tls_server_config.key_file', file: '/abs/server.key' });
    expect(doc.tls?.clientCa).toEqual({ key: 'tls_server_config.client_ca_file', file: '/etc/ca.crt' });
    expect(doc.tls?.clientAuth).toBe('RequireAndVerifyClientCert');
    expect(doc.tls?.minVersion).toBe('TLSv1.3');
    expect(doc.tls?.maxVersion).toBe('TLSv1.3');
    expect(doc.tls?.curvePreferences).toEqual(['X25519', 'CurveP256']);
    expect([...doc.basicAuthUsers]).toEqual([['prometheus', HASH]]);
    expect(doc.headers).toEqual([
      ['Strict-Transport-Security', 'max-age=31536000'],
      ['X-Frame-Options', 'deny'],
    ]);
    expect(doc.bearerToken).toEqual({ key: 'bearer_auth.token_file', file: '/etc/exporter/token.txt' });
  });

  it('treats an empty file, null sections and empty strings as "not set", as exporter-toolkit does', () => {
    for (const text of ['', '# nothing\n', 'tls_server_config:\nbasic_auth_users:\n', "tls_server_config:\n  cert_file: ''\n"]) {
      const doc = parseWebConfig(text, '/x/web.yml');
      expect(doc.tls, text).toBeUndefined();
      expect(doc.basicAuthUsers.size, text).toBe(0);
      expect(doc.bearerToken, text).toBeUndefined();
    }
  });

  it('maps the legacy RequireClientCert name to RequireAnyClientCert and accepts $2y$ hashes', () => {
    const doc = parseWebConfig(
      'tls_server_config: {cert_file: a, key_file: b, client_auth_type: RequireClientCert}\nbasic_auth_users: {u: $2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi}\n',
      '/x/web.yml',
    );
    expect(doc.tls?.clientAuth).toBe('RequireAnyClientCert');
    expect(doc.basicAuthUsers.get('u')).toMatch(/^\$2y\$10\$/);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['unknown top-level key, with a hint', 'basic_auth_user:\n  a: b\n', /^web config \/etc\/exporter\/web\.yml: unknown key "basic_auth_user" \(did you mean "basic_auth_users"\?\)$/],
    ['unknown key inside tls_server_config', 'tls_server_config:\n  cert_file: a\n  key_file: b\n  certfile: c\n', /tls_server_config: unknown key "certfile" \(did you mean "cert_file"\?\)/],
    ['unknown key inside http_server_config', 'http_server_config:\n  http3: true\n', /http_server_config: unknown key "http3"/],
    ['malformed YAML', 'tls_server_config:\n  cert_file: [a\n  key_file: b\n', /invalid YAML at line \d+, column \d+/],
    ['tabs and broken indentation', 'basic_auth_users:\n\tfoo: bar\n', /invalid YAML/],
    ['duplicate keys', 'basic_auth_users:\n  a: x\n  a: y\n', /invalid YAML at line 3, column 3: Map keys must be unique/],
    ['a list instead of a mapping', '- a\n- b\n', /the file must hold a YAML mapping, not a list/],
    ['a scalar document', 'hello\n', /the file must hold a YAML mapping, not a string/],
    ['bad bcrypt hash', 'basic_auth_users:\n  alice: not-a-hash\n', /basic_auth_users\.alice: not a bcrypt hash/],
    ['bcrypt cost out of range', `basic_auth_users:\n  alice: ${HASH.replace('$04$', '$03$')}\n`, /basic_auth_users\.alice: not a bcrypt hash/],
    ['hash that is not a string', 'basic_auth_users:\n  alice: 12\n', /basic_auth_users\.alice: expected a bcrypt hash string, got a number/],
    ['basic_auth_users as a list', 'basic_auth_users: [a]\n', /basic_auth_users: expected a mapping of user names to bcrypt hashes/],
    ['user name with a colon', `basic_auth_users:\n  "a:b": ${HASH}\n`, /basic_auth_users\.a:b: a user name cannot contain ":"/],
    ['tls without a certificate', 'tls_server_config:\n  key_file: k\n', /tls_server_config: cert_file \(or cert\) is required/],
    ['tls without a key', 'tls_server_config:\n  cert_file: c\n', /tls_server_config: key_file \(or key\) is required/],
    ['cert and cert_file both', 'tls_server_config:\n  cert_file: c\n  cert: x\n  key_file: k\n', /tls_server_config\.cert_file and tls_server_config\.cert are both set/],
    ['bad client_auth_type', 'tls_server_config: {cert_file: c, key_file: k, client_auth_type: Maybe}\n', /tls_server_config\.client_auth_type: must be one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert \(got "Maybe"\)/],
    ['client CA without a client auth policy', 'tls_server_config: {cert_file: c, key_file: k, client_ca_file: ca}\n', /client_ca is set but client_auth_type is NoClientCert/],
    ['verification without a client CA', 'tls_server_config: {cert_file: c, key_file: k, client_auth_type: RequireAndVerifyClientCert}\n', /RequireAndVerifyClientCert needs client_ca_file/],
    ['client_allowed_sans with an optional certificate', 'tls_server_config: {cert_file: c, key_file: k, client_auth_type: VerifyClientCertIfGiven, client_ca_file: ca, client_allowed_sans: [x]}\n', /client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert/],
    ['TLS 1.0', 'tls_server_config: {cert_file: c, key_file: k, min_version: TLS10}\n', /min_version: TLS10 is not supported \(insecure\)/],
    ['unknown TLS version', 'tls_server_config: {cert_file: c, key_file: k, max_version: TLS14}\n', /max_version: must be TLS12 or TLS13 \(got "TLS14"\)/],
    ['min above max', 'tls_server_config: {cert_file: c, key_file: k, min_version: TLS13, max_version: TLS12}\n', /min_version TLS13 is above max_version TLS12/],
    ['unsupported cipher suite', 'tls_server_config: {cert_file: c, key_file: k, cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]}\n', /cipher_suites: "TLS_RSA_WITH_RC4_128_SHA" is not supported; supported: TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256/],
    ['unknown curve', 'tls_server_config: {cert_file: c, key_file: k, curve_preferences: [CurveP999]}\n', /curve_preferences: "CurveP999" is not a known curve/],
    ['header that cannot be configured', 'http_server_config:\n  headers:\n    Set-Cookie: a=b\n', /http_server_config\.headers: "Set-Cookie" cannot be configured/],
    ['X-Frame-Options value', 'http_server_config:\n  headers:\n    X-Frame-Options: allow\n', /headers\.X-Frame-Options: must be one of deny, sameorigin \(got "allow"\)/],
    ['header value with a line break', 'http_server_config:\n  headers:\n    Content-Security-Policy: "a\\r\\nX-Evil: 1"\n', /headers\.Content-Security-Policy: the value holds characters not allowed/],
    ['rate_limit from exporter-toolkit', 'rate_limit:\n  interval: 1s\n  burst: 5\n', /rate_limit is an exporter-toolkit option ditto-sync-exporter does not implement/],
    ['bearer_auth without a token', 'bearer_auth: {}\n', /bearer_auth: set token_file \(or token\)/],
    ['bearer token and token_file both', `bearer_auth: {token: ${TOKEN}, token_file: t}\n`, /bearer_auth\.token_file and bearer_auth\.token are both set/],
    ['short bearer token', 'bearer_auth: {token: short}\n', /bearer_auth\.token: the token must be at least 16 characters long/],
    ['bearer token with a space', 'bearer_auth: {token: "0123456789 abcdefgh"}\n', /bearer_auth\.token: the token may only hold visible ASCII/],
    ['wrong type', 'tls_server_config: {cert_file: 3, key_file: k}\n', /tls_server_config\.cert_file: expected string, got number/],
  ];

  it.each(bad)('rejects %s with one clear line', (_name, text, message) => {
    const error = parseError(text);
    expect(error.message).toMatch(message);
    expect(error.message.startsWith('web config /etc/exporter/web.yml: ')).toBe(true);
    expect(error.message).not.toContain('\n');
    expect(error.file).toBe('/etc/exporter/web.yml');
  });

  it('never repeats a secret in its messages', () => {
    const error = parseError('bearer_auth: {token: "short-secret"}\n');
    expect(error.message).not.toContain('short-secret');
    const hashError = parseError('basic_auth_users:\n  alice: "$2b$04$tooshort"\n');
    expect(hashError.message).not.toContain('tooshort');
  });
});

describe('loadWebConfig', () => {
  let pki: TestPki;
  let n = 0;
  /** Writes a config file into the PKI directory (so relative paths find the certificates). */
  const write = (text: string, dir?: string) => {
    const target = dir ?? pki.dir;
    mkdirSync(target, { recursive: true });
    const file = path.join(target, `web-${n++}.yml`);
    writeFileSync(file, text);
    return file;
  };
  const loadError = async (file: string): Promise<WebConfigError> => {
    const error = await loadWebConfig(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WebConfigError);
    return error as WebConfigError;
  };

  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki.cleanup());

  it('loads certificates relative to the config file and reads the bearer token file, trimmed', async () => {
    writeFileSync(pki.file('token.txt'), `${TOKEN}\n`);
    const file = write(`tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]
basic_auth_users:
  prometheus: ${HASH}
bearer_auth:
  token_file: token.txt
`);
    const web = await loadWebConfig(file);
    expect(web.tls?.cert).toBe(pki.serverCert);
    expect(web.tls?.key).toBe(pki.serverKey);
    expect(web.tls?.clientCa).toBe(pki.caCert);
    expect(web.tls?.ciphers).toMatch(/:ECDHE-ECDSA-AES256-GCM-SHA384$/);
    expect(web.auth.bearerToken).toBe(TOKEN);
    expect(describeWebConfig(web)).toBe('TLS (client certificates: RequireAndVerifyClientCert), basic auth (1 user), bearer token');
    expect(describeWebConfig(undefined)).toBe('plain HTTP, no authentication');
  });

  it('accepts inline PEM (cert, key, client_ca) as exporter-toolkit does', async () => {
    const indent = (pem: string) => pem.trim().replace(/\n/g, '\n    ');
    const file = write(
      `tls_server_config:\n  cert: |\n    ${indent(pki.serverCert)}\n  key: |\n    ${indent(pki.serverKey)}\n  client_auth_type: VerifyClientCertIfGiven\n  client_ca: |\n    ${indent(pki.caCert)}\n`,
    );
    const web = await loadWebConfig(file);
    expect(web.tls?.cert.trim()).toBe(pki.serverCert.trim());
    expect(web.tls?.clientAuth).toBe('VerifyClientCertIfGiven');
  });

  it('names the key and the file when a certificate file is missing', async () => {
    const file = write('tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n');
    const error = await loadError(file);
    expect(error.message).toBe(`web config ${file}: tls_server_config.cert_file (${pki.file('missing.crt')}): cannot read: no such file`);
  });

  it('says so when the config file itself cannot be read', async () => {
    const error = await loadError(pki.file('nope.yml'));
    expect(error.message).toBe(`web config ${pki.file('nope.yml')}: cannot read the file: no such file`);
    const dirError = await loadError(pki.dir);
    expect(dirError.message).toMatch(/cannot read the file: not a regular file$/);
  });

  it('rejects a file that holds no certificate, a bad key and a key that does not match the certificate', async () => {
    writeFileSync(pki.file('garbage.pem'), 'hello\n');
    expect((await loadError(write('tls_server_config:\n  cert_file: garbage.pem\n  key_file: server.key\n'))).message).toMatch(
      /tls_server_config\.cert_file \(.*garbage\.pem\): no PEM certificate found$/,
    );
    expect((await loadError(write('tls_server_config:\n  cert_file: server.crt\n  key_file: garbage.pem\n'))).message).toMatch(
      /tls_server_config\.key_file \(.*garbage\.pem\): not a usable PEM private key/,
    );
    expect((await loadError(write('tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n'))).message).toMatch(
      /tls_server_config: the certificate and key cannot be used together \(.*key values mismatch\)/,
    );
    const badCa = await loadError(write('tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: garbage.pem\n'));
    expect(badCa.message).toMatch(/tls_server_config\.client_ca_file \(.*garbage\.pem\): no PEM certificate found$/);
  });

  it('rejects a missing or too short bearer token file without printing the token', async () => {
    expect((await loadError(write('bearer_auth:\n  token_file: no-token.txt\n'))).message).toMatch(/bearer_auth\.token_file \(.*no-token\.txt\): cannot read: no such file$/);
    writeFileSync(pki.file('short.txt'), 'tiny-secret\n');
    const error = await loadError(write('bearer_auth:\n  token_file: short.txt\n'));
    expect(error.message).toMatch(/bearer_auth\.token_file \(.*short\.txt\): the token must be at least 16 characters long$/);
    expect(error.message).not.toContain('tiny-secret');
  });

  it('resolves relative paths against the config file, not the working directory', async () => {
    const nested = path.join(pki.dir, 'conf.d');
    const file = write('tls_server_config:\n  cert_file: ../server.crt\n  key_file: ../server.key\n', nested);
    const web = await loadWebConfig(path.relative(process.cwd(), file));
    expect(web.tls?.cert).toBe(pki.serverCert);
  });
});
