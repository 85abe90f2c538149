import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort, waitFor } from '../helpers/net.js';

/** A server binary started by a test, stopped by that test's afterAll. */
export interface Started {
  readonly name: string;
  readonly base: string;
  readonly dir: string;
  output(): string;
  stop(): Promise<void>;
}

/** Whether `name` is on PATH, without warning (haveBinary warns or, in CI, throws). */
export const onPath = (name: string): boolean => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

/** A temporary directory for one process's config and storage. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ditto-stack-${prefix}-`));
}

export function writeYaml(dir: string, name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, stringify(doc, { lineWidth: 0 }));
  return path;
}

/** Spawns `cmd`, waits until GET `${base}${readyPath}` answers 2xx (bounded), and knows how to stop it. */
export async function startServer(name: string, cmd: string, args: (port: number) => string[], dir: string, readyPath = '/-/ready'): Promise<Started> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(cmd, args(port), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started: Started = {
    name,
    base,
    dir,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      return (await fetch(`${base}${readyPath}`)).ok ? true : undefined;
    }, 20_000);
  } catch (error) {
    await started.stop();
    throw new Error(`${name} did not become ready: ${String(error)}\n${out}`);
  }
  return started;
}

/** Prometheus on 127.0.0.1:<free port> with `config` (an object) and a temporary TSDB. */
export function startPrometheus(config: unknown): Promise<Started> {
  const dir = tempDir('prometheus');
  const file = writeYaml(dir, 'prometheus.yml', config);
  return startServer('prometheus', 'prometheus', (port) => [
    `--config.file=${file}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], dir);
}

/** Alertmanager (Debian names it prometheus-alertmanager) without clustering. */
export function startAlertmanager(binary: string, config: unknown): Promise<Started> {
  const dir = tempDir('alertmanager');
  const file = writeYaml(dir, 'alertmanager.yml', config);
  return startServer('alertmanager', binary, (port) => [
    `--config.file=${file}`,
    `--storage.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ], dir);
}

interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

export interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

/** GET /api/v1/query (at `time`, unix seconds, or now); never throws on a PromQL error, so a test can report every failing query at once. */
export async function query(prometheus: string, expr: string, time?: number): Promise<ApiResponse<{ resultType: string; result: Sample[] }>> {
  const params = new URLSearchParams({ query: expr, ...(time === undefined ? {} : { time: String(time) }) });
  const res = await fetch(`${prometheus}/api/v1/query?${params}`);
  return (await res.json()) as ApiResponse<{ resultType: string; result: Sample[] }>;
}

/** The queries that fail or return no series, one line each with where they come from: [] when all answer. */
export async function unansweredQueries(prometheus: string, queries: readonly { where: string; expr: string }[]): Promise<string[]> {
  const problems: string[] = [];
  for (const q of queries) {
    const r = await query(prometheus, q.expr);
    if (r.status !== 'success') problems.push(`${q.where}: ${r.error}\n  ${q.expr}`);
    else if (r.data.result.length === 0) problems.push(`${q.where}: no data\n  ${q.expr}`);
  }
  return problems;
}

export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** GET /api/v1/query_range from `start` to `end` (unix seconds) every `step` seconds; throws on a PromQL error. */
export async function queryRange(prometheus: string, expr: string, start: number, end: number, step: number): Promise<RangeSeries[]> {
  const params = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
  const res = await fetch(`${prometheus}/api/v1/query_range?${params}`);
  const body = (await res.json()) as ApiResponse<{ result: RangeSeries[] }>;
  if (body.status !== 'success') throw new Error(`query_range ${expr}: ${body.error}`);
  return body.data.result;
}

export async function api<T>(prometheus: string, path: string): Promise<T> {
  const res = await fetch(`${prometheus}${path}`);
  const body = (await res.json()) as ApiResponse<T>;
  if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
  return body.data;
}

export { freePort, waitFor };
