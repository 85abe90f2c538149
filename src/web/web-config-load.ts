import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { PLAIN_HTTP_DESCRIPTION } from './http-server.js';
import { CURVES, opensslCipherList, TLS12_CIPHER_SUITES, type NodeTlsVersion } from './tls-names.js';
import {
  bearerTokenProblem,
  parseWebConfig,
  WebConfigError,
  type ClientAuthType,
  type TextSource,
  type TlsDocument,
  type WebConfigDocument,
} from './web-config.js';

/** Config, certificate, key and token files are small; anything bigger is a mistake (or /dev/zero). */
export const MAX_WEB_FILE_BYTES = 1024 * 1024;

/** TLS settings ready for node:tls: PEM text loaded and checked. */
export interface TlsSettings {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string | undefined;
  readonly clientAuth: ClientAuthType;
  readonly minVersion: NodeTlsVersion;
  readonly maxVersion: NodeTlsVersion;
  /** OpenSSL cipher list; undefined keeps Node's defaults. */
  readonly ciphers: string | undefined;
  /** OpenSSL group list; undefined keeps Node's defaults. */
  readonly ecdhCurve: string | undefined;
  readonly honorCipherOrder: boolean;
  readonly clientAllowedSans: readonly string[] | undefined;
}

export interface AuthSettings {
  /** User name → bcrypt hash. */
  readonly basicAuthUsers: ReadonlyMap<string, string>;
  readonly bearerToken: string | undefined;
}

/** Everything `--web.config.file` asks for, loaded and checked: hand it to the middleware and the server factory. */
export interface WebConfig {
  readonly file: string;
  readonly tls: TlsSettings | undefined;
  readonly auth: AuthSettings;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export type ReadText = (file: string) => Promise<string>;

/** Reads, parses and checks a web config file and every file it names. Throws only WebConfigError. */
export async function loadWebConfig(file: string, readText: ReadText = readSmallTextFile): Promise<WebConfig> {
  let text: string;
  try {
    text = await readText(file);
  } catch (error) {
    throw new WebConfigError(file, `cannot read the file: ${describeFsError(error)}`);
  }
  return resolveWebConfig(parseWebConfig(text, file), readText);
}

/** Reads the files a parsed config refers to and checks that certificates and keys are usable. */
export async function resolveWebConfig(doc: WebConfigDocument, readText: ReadText = readSmallTextFile): Promise<WebConfig> {
  const fail = (detail: string): never => {
    throw new WebConfigError(doc.file, detail);
  };
  const load = async (source: TextSource): Promise<string> => {
    if ('inline' in source) return source.inline;
    try {
      return await readText(source.file);
    } catch (error) {
      return fail(`${source.key} (${source.file}): cannot read: ${describeFsError(error)}`);
    }
  };

  let bearerToken: string | undefined;
  if (doc.bearerToken) {
    bearerToken = (await load(doc.bearerToken)).trim();
    const problem = bearerTokenProblem(bearerToken);
    if (problem) fail(`${where(doc.bearerToken)}: ${problem}`);
  }
  return {
    file: doc.file,
    tls: doc.tls ? await tlsSettings(doc.tls, load, fail) : undefined,
    auth: { basicAuthUsers: doc.basicAuthUsers, bearerToken },
    headers: doc.headers,
  };
}

async function tlsSettings(t: TlsDocument, load: (s: TextSource) => Promise<string>, fail: (detail: string) => never): Promise<TlsSettings> {
  const cert = await load(t.cert);
  const key = await load(t.key);
  const clientCa = t.clientCa ? await load(t.clientCa) : undefined;
  checkCertificates(cert, t.cert, fail);
  if (clientCa !== undefined && t.clientCa) checkCertificates(clientCa, t.clientCa, fail);
  checkCipherSuitesFit(cert, t, fail);
  try {
    createPrivateKey({ key, format: 'pem' });
  } catch (error) {
    fail(`${where(t.key)}: not a usable PEM private key (${firstLine(error)})`);
  }
  const settings: TlsSettings = {
    cert,
    key,
    clientCa,
    clientAuth: t.clientAuth,
    minVersion: t.minVersion,
    maxVersion: t.maxVersion,
    ciphers: opensslCipherList(t.cipherSuites),
    ecdhCurve: t.curvePreferences.length > 0 ? t.curvePreferences.map((name) => CURVES.get(name)).join(':') : undefined,
    honorCipherOrder: t.preferServerCipherSuites,
    clientAllowedSans: t.clientAllowedSans,
  };
  try {
    // The same context the server builds: a key that does not match the certificate fails here, at start-up.
    createSecureContext(secureContextOptions(settings));
  } catch (error) {
    fail(`tls_server_config: the certificate and key cannot be used together (${firstLine(error)})`);
  }
  return settings;
}

/** node:tls options for these settings, shared by the start-up check and the server. */
export function secureContextOptions(s: TlsSettings) {
  return {
    cert: s.cert,
    key: s.key,
    ...(s.clientCa !== undefined && { ca: s.clientCa }),
    minVersion: s.minVersion,
    maxVersion: s.maxVersion,
    ...(s.ciphers !== undefined && { ciphers: s.ciphers }),
    ...(s.ecdhCurve !== undefined && { ecdhCurve: s.ecdhCurve }),
    honorCipherOrder: s.honorCipherOrder,
  };
}

function checkCertificates(pem: string, source: TextSource, fail: (detail: string) => never): void {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) fail(`${where(source)}: no PEM certificate found`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (error) {
      fail(`${where(source)}: a certificate cannot be parsed (${firstLine(error)})`);
    }
  }
}

/**
 * TLS 1.2 suites name the certificate's key type (ECDHE_ECDSA or ECDHE_RSA). When none of the
 * listed ones fits the certificate, no TLS 1.2 handshake can ever succeed (and with max_version
 * TLS12, none at all): refused at start-up rather than failing every scrape.
 */
function checkCipherSuitesFit(certPem: string, t: TlsDocument, fail: (detail: string) => never): void {
  const tls12 = t.cipherSuites.filter((name) => TLS12_CIPHER_SUITES.has(name));
  if (tls12.length === 0 || t.minVersion !== 'TLSv1.2') return;
  const leaf = certPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/)?.[0];
  if (!leaf) return;
  const keyType = new X509Certificate(leaf).publicKey.asymmetricKeyType;
  const family = keyType === 'rsa' || keyType === 'rsa-pss' ? 'RSA' : keyType === 'ec' || keyType === 'ed25519' || keyType === 'ed448' ? 'ECDSA' : undefined;
  if (!family || tls12.some((name) => name.startsWith(`TLS_ECDHE_${family}_`))) return;
  const consequence = t.maxVersion === 'TLSv1.2' ? 'no client could ever connect' : 'no TLS 1.2 client could ever connect';
  fail(`tls_server_config.cipher_suites: none of the listed TLS 1.2 suites works with the ${family} certificate, so ${consequence}; list TLS_ECDHE_${family}_… suites`);
}

/** Reads a regular file of at most MAX_WEB_FILE_BYTES as UTF-8. */
export async function readSmallTextFile(file: string): Promise<string> {
  const info = await stat(file);
  if (!info.isFile()) throw new Error('not a regular file');
  if (info.size > MAX_WEB_FILE_BYTES) throw new Error(`larger than ${MAX_WEB_FILE_BYTES} bytes`);
  return readFile(file, 'utf8');
}

/** One line for the start-up log: what the web config turns on. */
export function describeWebConfig(web: WebConfig | undefined): string {
  if (!web) return PLAIN_HTTP_DESCRIPTION;
  const parts = [web.tls ? `TLS (client certificates: ${web.tls.clientAuth})` : 'plain HTTP'];
  const users = web.auth.basicAuthUsers.size;
  if (users > 0) parts.push(`basic auth (${users} user${users === 1 ? '' : 's'})`);
  if (web.auth.bearerToken !== undefined) parts.push('bearer token');
  if (users === 0 && web.auth.bearerToken === undefined) parts.push('no authentication');
  return parts.join(', ');
}

const where = (source: TextSource): string => ('file' in source ? `${source.key} (${source.file})` : source.key);

function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return firstLine(error);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
