/**
 * Reads the Prometheus text that Ditto's engine serves on a loopback port: one GET with a timeout
 * and a body limit, never following a redirect. Only loopback URLs are accepted, so merging the
 * engine's metrics can never make the exporter fetch from another host.
 */
import { request } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

/** Why a read of the engine's metrics failed. */
export const ENGINE_READ_FAILURES = ['unreachable', 'timeout', 'status', 'too_large', 'encoding', 'empty'] as const;
export type EngineReadFailure = (typeof ENGINE_READ_FAILURES)[number];

export type EngineFetch = { readonly ok: true; readonly body: string } | { readonly ok: false; readonly reason: EngineReadFailure; readonly detail: string };

export interface EngineFetchOptions {
  /** The whole read, connection to last byte (ms). */
  readonly timeoutMs: number;
  /** A longer body is not read on (bytes). */
  readonly maxBytes: number;
}

/** 1 second: the engine answers from memory on loopback, in about a millisecond here. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 1_000;
/** 256 KiB: Ditto 5.1 serves about 22 KB; a hostile body this large parses in a few to 25 ms here (docs/engine-metrics.md). */
export const DEFAULT_ENGINE_MAX_BYTES = 256 * 1024;

/** True for 127.0.0.0/8 and ::1 (IPv6 in any spelling the URL parser normalises). */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIPv4(bare)) return bare.split('.')[0] === '127';
  if (!isIPv6(bare)) return false;
  try {
    return new URL(`http://[${bare}]/`).hostname === '[::1]';
  } catch {
    return false;
  }
}

/**
 * The URL to read engine metrics from: http, a loopback IP literal (a name such as `localhost`
 * could resolve elsewhere, so it is refused), no credentials. Throws a TypeError saying why not.
 */
export function parseEngineUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`engine metrics URL is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:') throw new TypeError(`engine metrics URL must be http:// (Ditto's engine serves plain HTTP on loopback), got ${url.protocol}//`);
  if (!isLoopbackAddress(url.hostname)) {
    throw new TypeError(`engine metrics URL must name a loopback address (127.0.0.1 or [::1]), got ${JSON.stringify(url.hostname)}: the engine's metrics are unauthenticated and must not leave the host`);
  }
  if (url.username || url.password) throw new TypeError('engine metrics URL must not carry credentials');
  return url;
}

/** One read of the engine's metrics. Never rejects. */
export function fetchEngineText(url: URL, options: EngineFetchOptions): Promise<EngineFetch> {
  return new Promise<EngineFetch>((resolve) => {
    let settled = false;
    const finish = (result: EngineFetch) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const fail = (reason: EngineReadFailure, detail: string) => {
      finish({ ok: false, reason, detail });
      req.destroy();
    };
    const timer = setTimeout(() => fail('timeout', `no whole answer within ${options.timeoutMs} ms`), options.timeoutMs);
    timer.unref();
    const req = request(url, {
      method: 'GET',
      agent: false,
      headers: { accept: 'text/plain;version=0.0.4', 'accept-encoding': 'identity', connection: 'close' },
    });
    req.on('error', (error) => fail('unreachable', error.message));
    req.on('response', (res) => {
      res.on('error', (error) => fail('unreachable', error.message));
      if (res.statusCode !== 200) {
        res.resume();
        fail('status', `HTTP ${res.statusCode}`);
        return;
      }
      const encoding = res.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        res.resume();
        fail('encoding', `content-encoding ${encoding}`);
        return;
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        fail('too_large', `content-length ${declared} over ${options.maxBytes} bytes`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          fail('too_large', `body over ${options.maxBytes} bytes`);
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        const body = Buffer.concat(chunks).toString('utf8');
        if (body.trim() === '') finish({ ok: false, reason: 'empty', detail: 'empty body' });
        else finish({ ok: true, body });
      });
      res.on('close', () => {
        if (!res.complete) fail('unreachable', 'connection closed mid-body');
      });
    });
    req.end();
  });
}
