/**
 * The Ditto Server (Big Peer) HTTP API, as Ditto documents it (docs.ditto.live/cloud/http-api):
 * `POST {base}/api/v5/store/execute` with `Authorization: Bearer <API key>` and a JSON body
 * `{statement, args}`, answered with `{queryType, items, warnings, error?: {description}, …}`. Errors
 * (400, 401, 404, 408, 500, 503) use the same envelope, and a 2xx answer can still carry an error.
 * `POST {base}/api/v5/sync/remote_execute` answers `{result: [{peer, items, error, …}]}`; it is not in
 * Ditto's public reference (the ditto CLI and the portal use it).
 *
 * Every request has a timeout and a bound on the answer's size; 408, 429 and 503 are retried with
 * jittered exponential backoff (honouring Retry-After). Every failure is a FleetReadError with a
 * reason the exporter counts. This is the only code that talks HTTP to the Ditto Server.
 */
import type { FleetFailureReason } from '../../collectors/fleet-view.js';

export class FleetReadError extends Error {
  constructor(
    readonly reason: FleetFailureReason,
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FleetReadError';
  }
}

export interface DittoServerClientOptions {
  /** The HTTP API base from the portal; it may include a path. */
  readonly baseUrl: string;
  /** Called for every request, so a rotated key file is picked up without a restart. */
  readonly apiKey: () => string;
  /** Per-request timeout, headers and body included. */
  readonly timeoutMs: number;
  /** Retries after a 408, 429 or 503 (default 3). */
  readonly retries?: number;
  /** First backoff step; each retry waits a random time up to base × 2^attempt (default 500 ms). */
  readonly backoffMs?: number;
  /** Longest wait a Retry-After header may ask for (default 30 s). */
  readonly maxRetryAfterMs?: number;
  /** Answers larger than this are refused as malformed (default 64 MiB). */
  readonly maxBodyBytes?: number;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  /** Called before each retry. */
  readonly onRetry?: (status: number) => void;
  /** Aborts every request in flight and any backoff wait (the source's close). */
  readonly signal?: AbortSignal;
}

export interface ExecuteAnswer {
  readonly items: readonly unknown[];
  readonly warnings: readonly string[];
}

export const EXECUTE_PATH = '/api/v5/store/execute';
export const REMOTE_EXECUTE_PATH = '/api/v5/sync/remote_execute';

const RETRIED = new Set([408, 429, 503]);
const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The envelope's error as text, or undefined when it carries none (absent, null, or an empty object). */
export function envelopeError(body: unknown): string | undefined {
  if (!isRecord(body)) return undefined;
  const error = body['error'];
  if (error === undefined || error === null) return undefined;
  if (typeof error === 'string') return error === '' ? undefined : error;
  if (isRecord(error)) {
    if (typeof error['description'] === 'string') return error['description'];
    return Object.keys(error).length > 0 ? JSON.stringify(error).slice(0, 300) : undefined;
  }
  return JSON.stringify(error).slice(0, 300);
}

/** `{base}` with `path` appended; the base keeps its own path (`https://x.cloud.dittolive.app/<app-id>`). */
export function endpoint(baseUrl: string, path: string): string {
  const url = new URL(baseUrl);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.hash = '';
  return url.href;
}

/** Seconds or an HTTP date, as milliseconds from now; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function statusReason(status: number): FleetFailureReason {
  if (status === 401 || status === 403) return 'unauthorized';
  return status >= 500 ? 'http_5xx' : 'http_4xx';
}

export class DittoServerClient {
  private readonly fetchImpl: typeof fetch;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxBodyBytes: number;
  private readonly random: () => number;

  constructor(private readonly options: DittoServerClientOptions) {
    endpoint(options.baseUrl, EXECUTE_PATH);
    this.fetchImpl = options.fetch ?? fetch;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    this.random = options.random ?? Math.random;
  }

  /** Runs one DQL statement on the server's store; the answer must carry an `items` array. */
  async execute(statement: string, args?: Readonly<Record<string, unknown>>, timeoutMs = this.options.timeoutMs): Promise<ExecuteAnswer> {
    const body = await this.post(EXECUTE_PATH, { statement, ...(args ? { args } : {}) }, timeoutMs);
    const items = (body as Record<string, unknown>)['items'];
    if (!Array.isArray(items)) throw new FleetReadError('malformed', 'the execute answer has no items array');
    const warnings = (body as Record<string, unknown>)['warnings'];
    const texts = Array.isArray(warnings) ? warnings.map((w) => (isRecord(w) && typeof w['description'] === 'string' ? w['description'] : JSON.stringify(w))) : [];
    return { items, warnings: texts };
  }

  /** Runs a `SYNC CONTEXT (…)` statement on the small peers connected right now; the answer's `result` array. */
  async remoteExecute(statement: string, args?: Readonly<Record<string, unknown>>, timeoutMs = this.options.timeoutMs): Promise<readonly unknown[]> {
    const body = await this.post(REMOTE_EXECUTE_PATH, { statement, ...(args ? { args } : {}) }, timeoutMs);
    const result = (body as Record<string, unknown>)['result'];
    if (!Array.isArray(result)) throw new FleetReadError('malformed', 'the remote execute answer has no result array');
    return result;
  }

  /** One POST with its retries; the parsed envelope of a 2xx answer without an error. */
  private async post(path: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    const url = endpoint(this.options.baseUrl, path);
    const body = JSON.stringify(payload);
    for (let attempt = 0; ; attempt++) {
      const answer = await this.once(url, body, timeoutMs);
      if (answer.status >= 200 && answer.status < 300) {
        const error = envelopeError(answer.json);
        if (error !== undefined) throw new FleetReadError('error_envelope', `the Ditto Server answered ${answer.status} with an error: ${this.redact(error)}`, answer.status);
        if (!isRecord(answer.json)) throw new FleetReadError('malformed', `the Ditto Server answered ${answer.status} with ${answer.json === undefined ? 'a body that is not JSON' : 'JSON that is not an object'}`, answer.status);
        return answer.json;
      }
      if (RETRIED.has(answer.status) && attempt < this.retries) {
        this.options.onRetry?.(answer.status);
        const jitter = this.random() * this.backoffMs * 2 ** attempt;
        const asked = answer.retryAfterMs === undefined ? 0 : Math.min(answer.retryAfterMs, this.maxRetryAfterMs);
        await this.sleep(Math.max(asked, jitter));
        continue;
      }
      const detail = envelopeError(answer.json) ?? answer.text.trim().slice(0, 200);
      throw new FleetReadError(statusReason(answer.status), `the Ditto Server answered HTTP ${answer.status}${detail ? `: ${this.redact(detail)}` : ''}`, answer.status);
    }
  }

  private async once(url: string, body: string, timeoutMs: number): Promise<{ status: number; json: unknown; text: string; retryAfterMs: number | undefined }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = this.options.signal ? AbortSignal.any([timeout, this.options.signal]) : timeout;
    const timedOut = () => new FleetReadError('timeout', `no complete answer from the Ditto Server within ${timeoutMs / 1000} s`);
    try {
      const response = await this.fetchImpl(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.options.apiKey()}`, 'Content-Type': 'application/json', Accept: 'application/json' },
        body,
        signal,
        redirect: 'error',
      });
      const text = await this.readText(response);
      // Parsing a page is the longest stretch of a read: give it a turn of the event loop of its own.
      await new Promise((resolve) => setImmediate(resolve));
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: response.status, json, text, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    } catch (error) {
      if (error instanceof FleetReadError) throw error;
      if (timeout.aborted) throw timedOut();
      if (this.options.signal?.aborted) throw new FleetReadError('network', 'the request was cancelled (the source is closing)');
      const cause = (error as { cause?: { message?: string; code?: string } }).cause;
      throw new FleetReadError('network', `cannot reach the Ditto Server: ${this.redact(cause?.message || cause?.code || (error as Error).message)}`);
    }
  }

  /** The body as text, refused once it passes maxBodyBytes (a hostile or broken server cannot fill the heap). */
  private async readText(response: Response): Promise<string> {
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > this.maxBodyBytes) {
      await response.body?.cancel();
      throw new FleetReadError('malformed', `the answer is ${declared} bytes, more than the ${this.maxBodyBytes} allowed (lower --fleet-page-size)`, response.status);
    }
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxBodyBytes) {
        await reader.cancel();
        throw new FleetReadError('malformed', `the answer is longer than the ${this.maxBodyBytes} bytes allowed (lower --fleet-page-size)`, response.status);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const signal = this.options.signal;
      if (signal?.aborted) return reject(new FleetReadError('network', 'the request was cancelled (the source is closing)'));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(new FleetReadError('network', 'the request was cancelled (the source is closing)'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The API key never reaches a log line, even when a server or proxy echoes it. */
  private redact(message: string): string {
    const key = this.options.apiKey();
    return key.length >= 8 ? message.split(key).join('***') : message;
  }
}
