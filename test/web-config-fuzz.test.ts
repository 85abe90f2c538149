import bcrypt from 'bcryptjs';
import fc from 'fast-check';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadWebConfig } from '../src/web/web-config-load.js';
import { CLIENT_AUTH_TYPES, CONFIGURABLE_HEADERS, parseWebConfig, validateWebConfig, WebConfigError, type WebConfigDocument } from '../src/web/web-config.js';

const FILE = '/etc/ditto/web.yml';
const HASH = bcrypt.hashSync('pw', 4);

/** A plain assertion: vitest's expect is too slow for 10,000 cases. */
function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

/** Runs `parse`; anything it throws must be a WebConfigError with a one-line message naming the file. */
function outcome(parse: () => WebConfigDocument): WebConfigDocument | WebConfigError {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof WebConfigError)) throw error;
    check(error.message.startsWith(`web config ${FILE}: `) && !error.message.includes('\n'), `bad message: ${error.message}`);
    return error;
  }
}

/** What an accepted document always satisfies. */
function checkAccepted(doc: WebConfigDocument): void {
  for (const [user, hash] of doc.basicAuthUsers) {
    check(/^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash), `accepted a bad hash for ${user}`);
    check(user !== '' && !user.includes(':'), `accepted user name ${JSON.stringify(user)}`);
  }
  for (const [name] of doc.headers) check(CONFIGURABLE_HEADERS.has(name), `accepted header ${name}`);
  if (doc.tls) {
    check(doc.tls.cert !== undefined && doc.tls.key !== undefined, 'accepted TLS without cert or key');
    check(CLIENT_AUTH_TYPES.includes(doc.tls.clientAuth), `accepted client auth ${doc.tls.clientAuth}`);
    check(doc.tls.clientAuth !== 'NoClientCert' || doc.tls.clientCa === undefined, 'accepted a client CA without client auth');
  }
}

const YAML_TOKENS = [
  'tls_server_config:', 'basic_auth_users:', 'http_server_config:', 'bearer_auth:', 'headers:', 'cert_file: ', 'key_file: ',
  'client_auth_type: ', 'client_ca_file: ', 'min_version: ', 'cipher_suites: ', 'token: ', 'token_file: ', 'X-Frame-Options: ',
  'RequireAndVerifyClientCert', 'TLS13', 'TLS10', HASH, '$2y$10$', '__proto__', 'constructor', '\n', '  ', '    ', '- ', ': ', ', ',
  '{', '}', '[', ']', '&a ', '*a', '*b', '<<: *a', '!!binary ', '!!str ', '!!map ', '!custom ', '? ', '|', '>', '"', "'", '#', '\t',
  '%YAML 1.2\n', '---\n', '...\n', '~', 'null', 'true', '0x1F', '1e400', '.nan', '\\u0000', '\u0000', '\ud800', 'é', '\r\n',
];

const yamlish = fc.array(fc.constantFrom(...YAML_TOKENS), { maxLength: 40 }).map((parts) => parts.join(''));

const leaf = fc.oneof(
  fc.constantFrom('', 'a', 'TLS12', 'TLS13', 'TLS11', 'X25519', 'NoClientCert', 'RequireAnyClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert', 'RequireClientCert'),
  fc.constantFrom(HASH, 'x'.repeat(16), 'nosniff', 'deny', 'TLS_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'a\r\nb', '__proto__'),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);
const anyValue = fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), leaf, { maxKeys: 3 }), fc.anything({ maxDepth: 1, maxKeys: 3 }));
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 3 });

const tlsSection = fc.record(
  {
    cert_file: maybe(anyValue), key_file: maybe(anyValue), cert: maybe(anyValue), key: maybe(anyValue),
    client_ca_file: maybe(anyValue), client_ca: maybe(anyValue), client_auth_type: maybe(anyValue),
    min_version: maybe(anyValue), max_version: maybe(anyValue), cipher_suites: maybe(anyValue),
    curve_preferences: maybe(anyValue), prefer_server_cipher_suites: maybe(anyValue), client_allowed_sans: maybe(anyValue),
    certfile: maybe(anyValue),
  },
  { requiredKeys: [] },
);
const configObject = fc.record(
  {
    tls_server_config: fc.oneof(tlsSection, anyValue),
    basic_auth_users: fc.oneof(fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(fc.constant(HASH), leaf), { maxKeys: 3 }), anyValue),
    http_server_config: fc.oneof(
      fc.record({ http2: maybe(anyValue), headers: maybe(fc.dictionary(fc.constantFrom(...CONFIGURABLE_HEADERS.keys(), 'Set-Cookie'), leaf, { maxKeys: 3 })) }, { requiredKeys: [] }),
      anyValue,
    ),
    bearer_auth: fc.oneof(fc.record({ token: maybe(leaf), token_file: maybe(leaf) }, { requiredKeys: [] }), anyValue),
    rate_limit: anyValue,
    extra: anyValue,
  },
  { requiredKeys: [] },
);

/** YAML text of a random object; values without a YAML form (symbols, cycles) give plain text instead. */
const objectAsYaml = configObject.map((object) => {
  try {
    return YAML.stringify(object);
  } catch {
    return String(object);
  }
});

describe('web-config parser under random input', () => {
  it('random text, YAML fragments and YAML of random configs only ever give a document or a WebConfigError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), yamlish, objectAsYaml), (text) => {
        const result = outcome(() => parseWebConfig(text, FILE));
        if (!(result instanceof WebConfigError)) checkAccepted(result);
      }),
      { numRuns: 10_000 },
    );
  });

  it('random parsed values only ever give a document or a WebConfigError', () => {
    fc.assert(
      fc.property(configObject, (object) => {
        const result = outcome(() => validateWebConfig(object, FILE));
        if (!(result instanceof WebConfigError)) checkAccepted(result);
      }),
      { numRuns: 10_000 },
    );
  });

  it('loading with random file contents only ever gives a config or a WebConfigError', async () => {
    const files = fc.dictionary(fc.constantFrom('/etc/ditto/c', '/etc/ditto/k', '/etc/ditto/ca', '/etc/ditto/t'), fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n')));
    const config = fc.record(
      {
        tls_server_config: fc.record({ cert_file: fc.constantFrom('c', 'missing'), key_file: fc.constantFrom('k', 'missing'), client_auth_type: fc.constantFrom('NoClientCert', 'RequireAndVerifyClientCert'), client_ca_file: maybe(fc.constantFrom('ca', 'missing')) }, { requiredKeys: ['cert_file', 'key_file'] }),
        bearer_auth: fc.record({ token_file: fc.constantFrom('t', 'missing') }),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(config, files, async (object, contents) => {
        const read = async (file: string) => {
          if (file === FILE) return YAML.stringify(object);
          const text = contents[file];
          if (text === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
          return text;
        };
        const result = await loadWebConfig(FILE, read).catch((error: unknown) => error);
        if (result instanceof Error) expect(result).toBeInstanceOf(WebConfigError);
      }),
      { numRuns: 2_000 },
    );
  });
});
