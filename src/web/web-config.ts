import { validateHeaderValue } from 'node:http';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { CURVES, REFUSED_TLS_VERSIONS, TLS_VERSIONS, TLS12_CIPHER_SUITES, TLS13_CIPHER_SUITES, type NodeTlsVersion } from './tls-names.js';

/**
 * The `--web.config.file` format of Prometheus' exporter-toolkit (TLS, basic auth, response
 * headers) plus our `bearer_auth`. This module turns the YAML text into a validated document; it
 * reads no files (see web-config-load.ts). Every problem is a WebConfigError naming the file and key.
 */

export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`web config ${file}: ${detail}`);
  }
}

export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

/** Client auth types that verify a presented certificate against client_ca. */
export const VERIFYING_CLIENT_AUTH: readonly ClientAuthType[] = ['VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'];

/** exporter-toolkit lets only these response headers be configured, some with fixed values. */
export const CONFIGURABLE_HEADERS: ReadonlyMap<string, readonly string[] | undefined> = new Map([
  ['Strict-Transport-Security', undefined],
  ['X-Content-Type-Options', ['nosniff']],
  ['X-Frame-Options', ['deny', 'sameorigin']],
  ['X-XSS-Protection', undefined],
  ['Content-Security-Policy', undefined],
]);

/** exporter-toolkit keys this exporter knowingly does not implement. */
const UNSUPPORTED_TOOLKIT_KEYS: ReadonlyMap<string, string> = new Map([
  ['rate_limit', 'rate_limit is an exporter-toolkit option ditto-sync-exporter does not implement; remove it'],
  ['auth_excluded_paths', 'auth_excluded_paths is not supported: every path needs credentials; remove it'],
]);

export const MIN_BEARER_TOKEN_LENGTH = 16;
const BEARER_TOKEN = /^[\x21-\x7e]+$/;
/** $2$, $2a$, $2b$ or $2y$, two-digit cost, 22 characters of salt and 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]?\$(\d\d)\$[./A-Za-z0-9]{53}$/;

/** A PEM or secret given either as a file (absolute path) or inline in the config. */
export type TextSource = { readonly key: string; readonly file: string } | { readonly key: string; readonly inline: string };

export interface TlsDocument {
  readonly cert: TextSource;
  readonly key: TextSource;
  readonly clientCa: TextSource | undefined;
  readonly clientAuth: ClientAuthType;
  readonly minVersion: NodeTlsVersion;
  readonly maxVersion: NodeTlsVersion;
  /** Go names as written; TLS 1.3 names are accepted and have no effect (as in Go). */
  readonly cipherSuites: readonly string[];
  /** Go names as written. */
  readonly curvePreferences: readonly string[];
  readonly preferServerCipherSuites: boolean;
  readonly clientAllowedSans: readonly string[] | undefined;
}

/** A parsed, validated web config whose referenced files have not been read yet. */
export interface WebConfigDocument {
  readonly file: string;
  readonly tls: TlsDocument | undefined;
  /** User name → bcrypt hash. */
  readonly basicAuthUsers: ReadonlyMap<string, string>;
  readonly bearerToken: TextSource | undefined;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

const emptyIsUnset = (value: unknown) => (value === '' ? undefined : value);
const optionalText = z.preprocess(emptyIsUnset, z.string().optional());
const optionalList = z.array(z.string()).nullable().optional();
const mapping = (what: string) =>
  z.custom<Record<string, unknown>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: `expected a mapping of ${what}` });

const tlsSchema = z
  .object({
    cert_file: optionalText,
    key_file: optionalText,
    cert: optionalText,
    key: optionalText,
    client_ca_file: optionalText,
    client_ca: optionalText,
    client_auth_type: optionalText,
    min_version: optionalText,
    max_version: optionalText,
    cipher_suites: optionalList,
    curve_preferences: optionalList,
    prefer_server_cipher_suites: z.boolean().optional(),
    client_allowed_sans: optionalList,
  })
  .strict();

const documentSchema = z
  .object({
    tls_server_config: tlsSchema.nullable().optional(),
    basic_auth_users: mapping('user names to bcrypt hashes').nullable().optional(),
    http_server_config: z
      .object({
        // Accepted for compatibility; the exporter always serves HTTP/1.1.
        http2: z.boolean().optional(),
        headers: mapping('header names to values').nullable().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    bearer_auth: z.object({ token: optionalText, token_file: optionalText }).strict().nullable().optional(),
  })
  .strict();

type RawDocument = z.infer<typeof documentSchema>;
type RawTls = z.infer<typeof tlsSchema>;

/** Keys each mapping accepts, for "did you mean" hints on unknown keys. */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(documentSchema.shape),
  tls_server_config: Object.keys(tlsSchema.shape),
  http_server_config: ['http2', 'headers'],
  bearer_auth: ['token', 'token_file'],
};

/**
 * Parses and validates the text of a web config file. `file` names it in errors and anchors
 * relative paths (they resolve against its directory, as in exporter-toolkit).
 */
export function parseWebConfig(text: string, file: string): WebConfigDocument {
  const fail = (detail: string): never => {
    throw new WebConfigError(file, detail);
  };
  let raw: unknown;
  try {
    raw = YAML.parse(text, { uniqueKeys: true, maxAliasCount: 100, logLevel: 'error', prettyErrors: true });
  } catch (error) {
    fail(describeYamlError(error));
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) fail(`the file must hold a YAML mapping, not ${describeValue(raw)}`);
  return validateWebConfig(raw, file);
}

/** Validates an already-parsed document (what YAML gives); exported for tests and embedders. */
export function validateWebConfig(raw: unknown, file: string): WebConfigDocument {
  const fail = (detail: string): never => {
    throw new WebConfigError(file, detail);
  };
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    for (const key of Object.keys(raw)) {
      const reason = UNSUPPORTED_TOOLKIT_KEYS.get(key);
      if (reason) fail(reason);
    }
  }
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success) fail(describeIssue(parsed.error.issues[0]));
  const doc = parsed.data as RawDocument;
  const baseDir = path.dirname(path.resolve(file));
  const source = (key: string, filePath: string | undefined, inline: string | undefined): TextSource | undefined => {
    if (filePath !== undefined && inline !== undefined) fail(`${key}_file and ${key} are both set; use one`);
    if (filePath !== undefined) return { key: `${key}_file`, file: path.resolve(baseDir, filePath) };
    if (inline !== undefined) return { key, inline };
    return undefined;
  };

  const bearer = doc.bearer_auth;
  const bearerToken = bearer ? source('bearer_auth.token', bearer.token_file, bearer.token) : undefined;
  if (bearer && !bearerToken) fail('bearer_auth: set token_file (or token)');
  if (bearerToken && 'inline' in bearerToken) {
    const problem = bearerTokenProblem(bearerToken.inline);
    if (problem) fail(`bearer_auth.token: ${problem}`);
  }

  return {
    file,
    tls: isEmpty(doc.tls_server_config) ? undefined : tlsDocument(doc.tls_server_config as RawTls, source, fail),
    basicAuthUsers: basicAuthUsers(doc.basic_auth_users, fail),
    bearerToken,
    headers: headers(doc.http_server_config?.headers, fail),
  };
}

/** Why a bearer token is unusable, or undefined when it is fine. Never includes the token. */
export function bearerTokenProblem(token: string): string | undefined {
  if (token.length < MIN_BEARER_TOKEN_LENGTH) return `the token must be at least ${MIN_BEARER_TOKEN_LENGTH} characters long`;
  if (!BEARER_TOKEN.test(token)) return 'the token may only hold visible ASCII characters (no spaces)';
  return undefined;
}

function tlsDocument(
  t: RawTls,
  source: (key: string, file: string | undefined, inline: string | undefined) => TextSource | undefined,
  fail: (detail: string) => never,
): TlsDocument {
  const k = 'tls_server_config';
  const cert = source(`${k}.cert`, t.cert_file, t.cert) ?? fail(`${k}: cert_file (or cert) is required to serve TLS`);
  const key = source(`${k}.key`, t.key_file, t.key) ?? fail(`${k}: key_file (or key) is required to serve TLS`);
  const clientCa = source(`${k}.client_ca`, t.client_ca_file, t.client_ca);

  // RequireClientCert is exporter-toolkit's old name, kept there for compatibility.
  const authName = t.client_auth_type === 'RequireClientCert' ? 'RequireAnyClientCert' : (t.client_auth_type ?? 'NoClientCert');
  if (!(CLIENT_AUTH_TYPES as readonly string[]).includes(authName)) {
    fail(`${k}.client_auth_type: must be one of ${CLIENT_AUTH_TYPES.join(', ')} (got ${JSON.stringify(authName)})`);
  }
  const clientAuth = authName as ClientAuthType;
  if (clientCa && clientAuth === 'NoClientCert') {
    fail(`${k}: client_ca is set but client_auth_type is NoClientCert; set client_auth_type (e.g. RequireAndVerifyClientCert)`);
  }
  if (!clientCa && VERIFYING_CLIENT_AUTH.includes(clientAuth)) {
    fail(`${k}.client_auth_type: ${clientAuth} needs client_ca_file (or client_ca) to verify client certificates against`);
  }
  const sans = t.client_allowed_sans ?? undefined;
  if (sans !== undefined) {
    if (clientAuth !== 'RequireAnyClientCert' && clientAuth !== 'RequireAndVerifyClientCert') {
      fail(`${k}.client_allowed_sans: needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert`);
    }
    if (sans.length === 0 || sans.some((san) => san === '')) fail(`${k}.client_allowed_sans: list at least one non-empty SAN`);
  }

  const minVersion = tlsVersion(`${k}.min_version`, t.min_version ?? 'TLS12', fail);
  const maxVersion = tlsVersion(`${k}.max_version`, t.max_version ?? 'TLS13', fail);
  const order = Object.values(TLS_VERSIONS) as readonly NodeTlsVersion[];
  if (order.indexOf(minVersion) > order.indexOf(maxVersion)) fail(`${k}: min_version ${t.min_version} is above max_version ${t.max_version ?? 'TLS13'}`);

  const cipherSuites = t.cipher_suites ?? [];
  for (const name of cipherSuites) {
    if (!TLS12_CIPHER_SUITES.has(name) && !TLS13_CIPHER_SUITES.includes(name)) {
      fail(`${k}.cipher_suites: ${JSON.stringify(name)} is not supported; supported: ${[...TLS12_CIPHER_SUITES.keys()].join(', ')}`);
    }
  }
  const curvePreferences = t.curve_preferences ?? [];
  for (const name of curvePreferences) {
    if (!CURVES.has(name)) fail(`${k}.curve_preferences: ${JSON.stringify(name)} is not a known curve; use ${[...CURVES.keys()].join(', ')}`);
  }
  return {
    cert,
    key,
    clientCa,
    clientAuth,
    minVersion,
    maxVersion,
    cipherSuites,
    curvePreferences,
    preferServerCipherSuites: t.prefer_server_cipher_suites ?? true,
    clientAllowedSans: sans,
  };
}

function tlsVersion(key: string, name: string, fail: (detail: string) => never): NodeTlsVersion {
  if ((REFUSED_TLS_VERSIONS as readonly string[]).includes(name)) fail(`${key}: ${name} is not supported (insecure); use TLS12 or TLS13`);
  if (name !== 'TLS12' && name !== 'TLS13') fail(`${key}: must be TLS12 or TLS13 (got ${JSON.stringify(name)})`);
  return TLS_VERSIONS[name as keyof typeof TLS_VERSIONS];
}

function basicAuthUsers(raw: Record<string, unknown> | null | undefined, fail: (detail: string) => never): ReadonlyMap<string, string> {
  const users = new Map<string, string>();
  for (const [user, hash] of Object.entries(raw ?? {})) {
    const key = `basic_auth_users.${user}`;
    if (user === '') fail('basic_auth_users: a user name must not be empty');
    if (user.includes(':')) fail(`${key}: a user name cannot contain ":" (basic auth splits at the first colon)`);
    if (typeof hash !== 'string') fail(`${key}: expected a bcrypt hash string, got ${describeValue(hash)}`);
    const cost = BCRYPT_HASH.exec(hash as string)?.[1];
    if (cost === undefined || Number(cost) < 4 || Number(cost) > 31) {
      fail(`${key}: not a bcrypt hash ($2a$, $2b$ or $2y$, cost 4-31; e.g. from htpasswd -nbBC 10 USER PASSWORD)`);
    }
    users.set(user, hash as string);
  }
  return users;
}

function headers(raw: Record<string, unknown> | null | undefined, fail: (detail: string) => never): ReadonlyArray<readonly [string, string]> {
  const result: Array<readonly [string, string]> = [];
  for (const [name, value] of Object.entries(raw ?? {})) {
    const key = `http_server_config.headers.${name}`;
    if (!CONFIGURABLE_HEADERS.has(name)) {
      fail(`http_server_config.headers: ${JSON.stringify(name)} cannot be configured; allowed: ${[...CONFIGURABLE_HEADERS.keys()].join(', ')}`);
    }
    if (typeof value !== 'string') fail(`${key}: expected a string, got ${describeValue(value)}`);
    const allowed = CONFIGURABLE_HEADERS.get(name);
    if (allowed && !allowed.includes(value as string)) fail(`${key}: must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
    try {
      validateHeaderValue(name, value);
    } catch {
      fail(`${key}: the value holds characters not allowed in an HTTP header`);
    }
    result.push([name, value as string]);
  }
  return result;
}

function isEmpty(value: object | null | undefined): boolean {
  return value === null || value === undefined || Object.values(value).every((v) => v === undefined);
}

function describeIssue(issue: z.ZodIssue | undefined): string {
  if (!issue) return 'invalid configuration';
  const where = issue.path.map(String).join('.');
  const at = where === '' ? '' : `${where}: `;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = KNOWN_KEYS[where] ?? [];
      return issue.keys
        .map((key) => {
          const hint = closest(key, known);
          return `${at}unknown key ${JSON.stringify(key)}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`;
        })
        .join('; ');
    }
    case 'invalid_type':
      return issue.received === 'undefined' ? `${at}required` : `${at}expected ${yamlType(issue.expected)}, got ${yamlType(issue.received)}`;
    default:
      return `${at}${issue.message}`;
  }
}

/** zod's JavaScript type names in YAML words. */
function yamlType(type: string): string {
  return type === 'object' ? 'a mapping' : type === 'array' ? 'a list' : type;
}

function describeYamlError(error: unknown): string {
  if (error instanceof YAML.YAMLError) {
    const reason = error.message.split(/ at line \d+|\n/)[0] ?? error.message;
    const pos = error.linePos?.[0];
    return pos ? `invalid YAML at line ${pos.line}, column ${pos.col}: ${reason}` : `invalid YAML: ${reason}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `invalid YAML: ${message.split('\n')[0]}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/** The candidate within edit distance 3 of `key`, for typo hints. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of candidates) {
    const d = editDistance(key, candidate, bestDistance);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap || a.length > 64 || b.length > 64) return cap;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
