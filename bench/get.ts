import { spawn, type ChildProcess } from 'node:child_process';
import { boundPort, closeServer, createApp, createRouter, listen } from '../src/server.js';
import { runChild } from './child.js';
import { benchExporter } from './exporters.js';
import { createMesh, renderTicks } from './fixtures.js';
import { summarize, type Summary } from './stats.js';

export interface GetResult {
  readonly peers: number;
  readonly requests: number;
  /** GET /metrics latency as the scraper sees it, ms, per encoding. */
  readonly identity: { readonly exporter: Summary; readonly floor: Summary; readonly ratio: number; readonly exporterBytes: number; readonly floorBytes: number };
  readonly gzip: { readonly exporter: Summary; readonly floor: Summary; readonly ratio: number; readonly exporterBytes: number; readonly floorBytes: number };
}

/**
 * GET /metrics over HTTP, side by side in one run: the exporter as the CLI runs it (prom-client
 * backend, process metrics on, the express app with its router) against the floor (a plain
 * prom-client registry holding the same per-peer families, set from the rows on every request,
 * served by node:http, in a process of its own so neither collects the other's garbage). A
 * scraper in a third process alternates between the two on keep-alive connections, so both see the
 * same machine at the same time. The floor answers identity whatever is asked; the
 * gzip figures show what a Prometheus scrape (which asks for gzip) costs the exporter.
 */
export async function measureGet(peers: number, requests: number): Promise<GetResult> {
  const bench = await benchExporter({ name: 'prom-client' }, peers);
  for (const tick of renderTicks(createMesh(peers), 2)) bench.source.deliver(tick);
  const ours = await listen(createApp(createRouter(bench.exporter)), { host: '127.0.0.1', port: 0 });
  const { child: floor, port: floorPort } = await startFloor(peers);
  try {
    const urls = { exporter: `http://127.0.0.1:${boundPort(ours)}/metrics`, floor: `http://127.0.0.1:${floorPort}/` };
    const warmup = Math.max(5, Math.round(requests / 10));
    const raw = JSON.parse(await runChild(process.execPath, [new URL('./get-client.mjs', import.meta.url).pathname, JSON.stringify(urls), String(requests), String(warmup)])) as Record<
      'identity' | 'gzip',
      Record<'exporter' | 'floor', { ms: number[]; bytes: number }>
    >;
    const side = (encoding: 'identity' | 'gzip') => {
      const exporter = summarize(raw[encoding].exporter.ms);
      const floorSummary = summarize(raw[encoding].floor.ms);
      return { exporter, floor: floorSummary, ratio: exporter.median / floorSummary.median, exporterBytes: raw[encoding].exporter.bytes, floorBytes: raw[encoding].floor.bytes };
    };
    return { peers, requests, identity: side('identity'), gzip: side('gzip') };
  } finally {
    await closeServer(ours, 0);
    floor.stdin?.end();
    await new Promise<void>((resolve) => (floor.exitCode !== null ? resolve() : floor.once('exit', () => resolve())));
    await bench.exporter.close();
  }
}

/** The floor server in its own process; resolves with its port. */
function startFloor(peers: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./floor-server.ts', import.meta.url).pathname, String(peers)], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve({ child, port: Number(line) });
    });
    child.once('exit', (code) => reject(new Error(`the floor server exited ${code} before it listened`)));
  });
}
