/**
 * The concurrent-scrape run: the real CLI (dist/cli.js) in its own process on a simulated mesh,
 * with many clients scraping /metrics at once from this process, each again as soon as its last
 * scrape ended. Measures the exporter's peak resident memory (VmHWM from /proc, so no peak is
 * missed between samples), latencies and every status code, and checks that every 200 body is
 * whole and every 503 carries Retry-After. Used by scripts/concurrent.ts and, in a short form,
 * by the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ConcurrentOptions {
  readonly peers: number;
  readonly clients: number;
  /** Seconds of load. */
  readonly duration: number;
  /** Extra CLI flags (e.g. --max-concurrent-scrapes). */
  readonly extraArgs?: readonly string[];
  /** A request unanswered this long counts as a timeout (ms). */
  readonly timeoutMs?: number;
  /** The peak resident memory allowed (bytes). */
  readonly maxRssBytes?: number;
  /** Repository root holding dist/cli.js. */
  readonly root: string;
}

export const FULL_CONCURRENT = Object.freeze({ peers: 10_000, clients: 200, duration: 30, maxRssBytes: 500 * 1024 * 1024, timeoutMs: 30_000 });

export interface ConcurrentCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ConcurrentResult {
  readonly peers: number;
  readonly clients: number;
  readonly seconds: number;
  readonly requests: number;
  readonly statuses: Record<string, number>;
  readonly errors: number;
  readonly timeouts: number;
  readonly incompleteBodies: number;
  readonly latencyP50: number;
  readonly latencyP99: number;
  readonly latencyMax: number;
  /** 200 responses only. */
  readonly okLatencyP50: number;
  readonly okLatencyP99: number;
  readonly rssBeforeBytes: number;
  readonly peakRssBytes: number;
  readonly bodyBytes: number;
  readonly scrapesShared: number | undefined;
  readonly scrapesRejected: number | undefined;
  readonly checks: readonly ConcurrentCheck[];
  readonly ok: boolean;
}

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

export async function runConcurrent(options: ConcurrentOptions, log: (line: string) => void = console.log): Promise<ConcurrentResult> {
  const timeoutMs = options.timeoutMs ?? FULL_CONCURRENT.timeoutMs;
  const maxRss = options.maxRssBytes ?? FULL_CONCURRENT.maxRssBytes;
  const port = await freePort();
  const args = [
    'dist/cli.js',
    '--source',
    'simulate',
    '--simulate-devices',
    String(options.peers),
    '--max-peers',
    String(options.peers),
    '--listen',
    `127.0.0.1:${port}`,
    '--log-level',
    'warn',
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(process.execPath, args, { cwd: options.root, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  try {
    const first = await waitForBody(base, child, agent);
    const rssBefore = status(child.pid!, 'VmRSS');
    log(`concurrent: ${options.peers} peers, ${options.clients} clients for ${options.duration} s against ${args.slice(1).join(' ')}; body ${(first.length / 1e6).toFixed(1)} MB`);

    const latencies: number[] = [];
    const okLatencies: number[] = [];
    const statuses: Record<string, number> = {};
    let errors = 0;
    let timeouts = 0;
    let incomplete = 0;
    let requests = 0;
    const problems: string[] = [];
    const deadline = performance.now() + options.duration * 1000;
    const client = async (n: number) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const openmetrics = (n + i) % 2 === 0;
        const gzip = (n >> 1) % 2 === 0;
        const started = performance.now();
        const answer = await get(`${base}/metrics`, agent, { accept: openmetrics ? OPENMETRICS : 'text/plain', ...(gzip && { 'accept-encoding': 'gzip' }) }, timeoutMs, requests % 10 === 0);
        requests++;
        const ms = performance.now() - started;
        latencies.push(ms);
        if (answer.kind === 'timeout') timeouts++;
        if (answer.kind !== 'response') {
          errors++;
          continue;
        }
        statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        if (answer.status === 503 && answer.headers['retry-after'] === undefined) problems.push('a 503 without Retry-After');
        if (answer.status !== 200) {
          // A refused scraper waits as Retry-After asks (Prometheus waits a whole interval).
          await new Promise((resolve) => setTimeout(resolve, 1000));
          continue;
        }
        okLatencies.push(ms);
        const problem = whole(answer, openmetrics);
        if (problem) {
          incomplete++;
          if (problems.length < 5) problems.push(problem);
        }
      }
    };
    await Promise.all(Array.from({ length: options.clients }, (_, n) => client(n)));
    const seconds = options.duration;
    const peak = status(child.pid!, 'VmHWM');
    const counters = await get(`${base}/metrics`, agent, {}, timeoutMs);
    const body = counters.kind === 'response' ? (counters.body?.toString('utf8') ?? '') : '';
    const fiveXx = Object.entries(statuses).filter(([code]) => code.startsWith('5') && code !== '503');
    const checks: ConcurrentCheck[] = [
      { name: `peak resident memory below ${mb(maxRss)}`, ok: peak < maxRss, detail: `peak ${mb(peak)} (before the load ${mb(rssBefore)})` },
      { name: 'no 5xx but the cap’s 503 (with Retry-After)', ok: fiveXx.length === 0 && !problems.includes('a 503 without Retry-After'), detail: JSON.stringify(statuses) },
      { name: 'no errors or timeouts', ok: errors === 0 && timeouts === 0, detail: `errors ${errors}, timeouts ${timeouts}` },
      { name: 'every 200 body whole', ok: incomplete === 0 && (statuses['200'] ?? 0) > 0, detail: incomplete ? problems.join('; ') : `${statuses['200'] ?? 0} checked` },
    ];
    const result: ConcurrentResult = {
      peers: options.peers,
      clients: options.clients,
      seconds,
      requests,
      statuses,
      errors,
      timeouts,
      incompleteBodies: incomplete,
      latencyP50: percentile(latencies, 50),
      latencyP99: percentile(latencies, 99),
      latencyMax: latencies.reduce((a, b) => Math.max(a, b), 0),
      okLatencyP50: percentile(okLatencies, 50),
      okLatencyP99: percentile(okLatencies, 99),
      rssBeforeBytes: rssBefore,
      peakRssBytes: peak,
      bodyBytes: first.length,
      scrapesShared: sample(body, 'ditto_sync_exporter_scrapes_shared_total'),
      scrapesRejected: sample(body, 'ditto_sync_exporter_scrapes_rejected_total'),
      checks,
      ok: checks.every((c) => c.ok),
    };
    log(
      `requests ${requests} (${(requests / seconds).toFixed(1)}/s): ${JSON.stringify(statuses)}; latency p50 ${Math.round(result.latencyP50)} ms, p99 ${Math.round(result.latencyP99)} ms, max ${Math.round(result.latencyMax)} ms; 200s p50 ${Math.round(result.okLatencyP50)} ms, p99 ${Math.round(result.okLatencyP99)} ms`,
    );
    log(`shared renders served ${result.scrapesShared ?? '?'} requests; the cap refused ${result.scrapesRejected ?? '?'}`);
    for (const c of checks) log(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}: ${c.detail}`);
    log(`verdict: ${result.ok ? 'PASS' : 'FAIL'}`);
    return result;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${output.slice(-2000)}`, { cause: error });
  } finally {
    agent.destroy();
    await stop(child);
  }
}

type Answer =
  | { kind: 'response'; status: number; headers: http.IncomingHttpHeaders; bytes: number; head: Buffer; tail: Buffer; body: Buffer | undefined }
  | { kind: 'timeout' }
  | { kind: 'error'; message: string };

/**
 * One GET. The body is kept whole only when `keep` says so; otherwise only its length and its
 * first and last bytes, so the client stays fast enough not to be what makes the server wait.
 */
function get(url: string, agent: http.Agent, headers: Record<string, string>, timeoutMs: number, keep = true): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      let head = Buffer.alloc(0);
      let tail = Buffer.alloc(0);
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (keep) chunks.push(c);
        if (head.length < 64) head = Buffer.concat([head, c.subarray(0, 64 - head.length)]);
        tail = c.length >= 64 ? Buffer.from(c.subarray(c.length - 64)) : Buffer.concat([tail, c]).subarray(-64);
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ kind: 'response', status: res.statusCode ?? 0, headers: res.headers, bytes, head, tail, body: keep ? Buffer.concat(chunks) : undefined });
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        resolve({ kind: 'error', message: e.message });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ kind: 'timeout' });
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      resolve({ kind: 'error', message: e.message });
    });
  });
}

/**
 * Why a 200 body is not whole, or undefined. Every body: its length and, uncompressed, its first
 * and last bytes; bodies kept whole (one in ten, and every gzipped one is then unpacked) in full.
 */
function whole(answer: Extract<Answer, { kind: 'response' }>, openmetrics: boolean): string | undefined {
  const length = Number(answer.headers['content-length']);
  if (length !== answer.bytes) return `content-length ${length}, got ${answer.bytes} bytes`;
  const type = String(answer.headers['content-type']);
  const om = type.startsWith('application/openmetrics-text');
  if (om !== openmetrics) return `asked for ${openmetrics ? 'OpenMetrics' : 'text'}, got ${type}`;
  const gzipped = answer.headers['content-encoding'] === 'gzip';
  if (gzipped && !answer.body) return answer.head[0] === 0x1f && answer.head[1] === 0x8b ? undefined : 'not gzip';
  const text = answer.body ? (gzipped ? gunzipSync(answer.body) : answer.body).toString('utf8') : undefined;
  const head = text?.slice(0, 64) ?? answer.head.toString('utf8');
  const tail = text?.slice(-64) ?? answer.tail.toString('utf8');
  if (!head.startsWith('# HELP ditto_sync_up ')) return 'does not start with ditto_sync_up';
  if (om ? !tail.endsWith('\n# EOF\n') : !tail.endsWith('\n') || tail.endsWith('# EOF\n')) return `does not end as a whole body: ${JSON.stringify(tail.slice(-30))}`;
  return undefined;
}

async function waitForBody(base: string, child: ChildProcess, agent: http.Agent): Promise<Buffer> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`the exporter exited with ${child.exitCode}`);
    const answer = await get(`${base}/metrics`, agent, {}, 10_000);
    if (answer.kind === 'response' && answer.status === 200 && answer.body?.includes('ditto_sync_peer_status{')) return answer.body;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the exporter did not serve per-peer metrics within 60 s');
}

/** A line of /proc/PID/status in bytes (VmRSS now, VmHWM the peak so far). */
function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function sample(body: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body);
  return m ? Number(m[1]) : undefined;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
