/** autocannon 8 (CommonJS, no bundled types): the part of its API the load run uses. */
import { createRequire } from 'node:module';

export interface CannonRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string>) => void;
}

export interface CannonOptions {
  readonly url: string;
  readonly connections: number;
  /** Seconds. */
  readonly duration: number;
  /** Seconds before a request counts as a timeout (and an error). */
  readonly timeout?: number;
  /** Each connection cycles through these. */
  readonly requests?: readonly CannonRequest[];
}

interface Stats {
  average: number;
  mean: number;
  max: number;
  total: number;
  p50: number;
  p99: number;
}

export interface CannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  resets: number;
  '2xx': number;
  '4xx': number;
  '5xx': number;
  statusCodeStats: Record<string, { count: number }>;
  latency: Stats;
  requests: Stats & { sent: number };
  throughput: Stats;
}

/** A running test: resolves with the result; emits `response` for every response. */
export interface CannonRun extends PromiseLike<CannonResult> {
  on(event: 'response', listener: (client: object, status: number, bytes: number, responseTimeMs: number) => void): this;
}

type Autocannon = (options: CannonOptions) => CannonRun;

export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
