import type { Server } from 'node:http';
import http from 'node:http';
import net from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import type { RenderOptions } from '../src/backends/backend.js';
import type { ExpositionFormat } from '../src/exposition/format.js';
import type { ByteWriter } from '../src/exposition/byte-writer.js';
import { SyncExporter } from '../src/exporter.js';
import { boundPort, closeServer, createApp, createRouter, listen } from '../src/server.js';
import { runConcurrent } from '../scripts/lib/concurrent-run.js';
import { ROOT } from './helpers/cli.js';
import { valueOf } from './helpers/exposition.js';
import { ManualSource, row } from './helpers/fake-source.js';
import { waitFor } from './helpers/net.js';

/** An exporter whose scrapes are counted, can be held open, and report the signal they were given. */
function instrumented() {
  const source = new ManualSource();
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
  const calls: Array<{ format: ExpositionFormat; signal: AbortSignal | undefined }> = [];
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  const scrape = exporter.scrapeInto.bind(exporter);
  exporter.scrapeInto = async (writer: ByteWriter, format: ExpositionFormat, options: RenderOptions = {}) => {
    calls.push({ format, signal: options.signal });
    await gate;
    return scrape(writer, format, options);
  };
  return {
    source,
    exporter,
    calls,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => open(),
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await closeServer(server, 0);
});

async function serve(exporter: SyncExporter, maxConcurrentScrapes?: number, scrapeSendTimeout?: number): Promise<string> {
  await exporter.start();
  const server = await listen(createApp(createRouter(exporter, undefined, { maxConcurrentScrapes, scrapeSendTimeout })), { host: '127.0.0.1', port: 0, stats: exporter.http });
  servers.push(server);
  return `http://127.0.0.1:${boundPort(server)}`;
}

interface Got {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Got> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

const OPENMETRICS = { accept: 'application/openmetrics-text;version=1.0.0' };

describe('concurrent scrapes share renders', () => {
  it('requests for the same snapshot and format while a render is in progress share it, and its gzip', async () => {
    const t = instrumented();
    const base = await serve(t.exporter);
    t.source.sink!.tick({ readAt: t.source.clock, rows: Array.from({ length: 200 }, (_, i) => row(`p${i}`, { synced: i })) });
    t.hold();
    const text = Array.from({ length: 6 }, (_, i) => get(`${base}/metrics`, i % 2 ? { 'accept-encoding': 'gzip' } : {}));
    const om = Array.from({ length: 4 }, () => get(`${base}/metrics`, OPENMETRICS));
    await waitFor(() => (t.exporter.http.scrapesInFlight === 10 ? true : undefined));
    t.release();
    const answers = await Promise.all([...text, ...om]);
    // Before: ten requests, ten renders.
    expect(t.calls.map((c) => c.format).sort()).toEqual(['openmetrics', 'prometheus']);
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(200));
    const plain = answers.filter((a, i) => i < 6 && a.headers['content-encoding'] !== 'gzip');
    const zipped = answers.filter((a) => a.headers['content-encoding'] === 'gzip');
    expect(zipped).toHaveLength(3);
    for (const z of zipped) expect(gunzipSync(z.body).equals(plain[0]!.body)).toBe(true);
    expect(new Set(zipped.map((z) => z.body.toString('base64'))).size).toBe(1); // one gzip, not three
    expect(t.exporter.http.scrapesShared).toBe(8);
    await t.exporter.close();
  });

  it('a request that finds a render of an older snapshot in progress waits for the next one, which shows the new snapshot', async () => {
    const t = instrumented();
    const base = await serve(t.exporter);
    t.source.sink!.tick({ readAt: t.source.clock, rows: [row('a', { synced: 1 })] });
    t.hold();
    const early = get(`${base}/metrics`);
    await waitFor(() => (t.calls.length === 1 ? true : undefined));
    t.source.sink!.tick({ readAt: t.source.clock, rows: [row('a', { synced: 2 })] });
    const late = [get(`${base}/metrics`), get(`${base}/metrics`)];
    await waitFor(() => (t.exporter.http.scrapesInFlight === 3 ? true : undefined));
    expect(t.calls).toHaveLength(1); // at most one render per format at a time
    t.release();
    const [first, ...later] = await Promise.all([early, ...late]);
    expect(first!.status).toBe(200);
    for (const answer of later) expect(valueOf(answer.body.toString(), 'ditto_sync_peer_synced_commit_id', { peer_id: 'a', peer_type: 'device' })).toBe(2);
    expect(t.calls).toHaveLength(2);
    await t.exporter.close();
  });

  it('answers 503 with Retry-After beyond --max-concurrent-scrapes, and counts it', async () => {
    const t = instrumented();
    const base = await serve(t.exporter, 2);
    t.source.sink!.tick({ readAt: t.source.clock, rows: [] });
    t.hold();
    const held = [get(`${base}/metrics`), get(`${base}/metrics`)];
    await waitFor(() => (t.exporter.http.scrapesInFlight === 2 ? true : undefined));
    const refused = await get(`${base}/metrics`);
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body.toString()).toBe('too many concurrent scrapes\n');
    t.release();
    expect((await Promise.all(held)).map((a) => a.status)).toEqual([200, 200]);
    const after = await get(`${base}/metrics`);
    expect(valueOf(after.body.toString(), 'ditto_sync_exporter_scrapes_rejected_total')).toBe(1);
    await t.exporter.close();
  });

  it('stops the work for clients that went away: the render is aborted, and a later scrape renders afresh', async () => {
    const t = instrumented();
    const base = await serve(t.exporter);
    t.source.sink!.tick({ readAt: t.source.clock, rows: [row('a')] });
    t.hold();
    const gone = [new AbortController(), new AbortController()];
    const requests = gone.map((c) => get(`${base}/metrics`, {}, c.signal).catch(() => 'aborted'));
    await waitFor(() => (t.exporter.http.scrapesInFlight === 2 ? true : undefined));
    const signal = t.calls[0]!.signal!;
    gone[0]!.abort();
    await waitFor(() => (t.exporter.http.scrapesInFlight === 1 ? true : undefined));
    expect(signal.aborted).toBe(false); // someone still waits for it
    gone[1]!.abort();
    await waitFor(() => (signal.aborted ? true : undefined));
    expect(await Promise.all(requests)).toEqual(['aborted', 'aborted']);
    expect(t.exporter.http.rendersCancelled).toBe(1);
    t.release();
    const fresh = await get(`${base}/metrics`);
    expect(fresh.status).toBe(200);
    expect(t.calls).toHaveLength(2);
    await t.exporter.close();
  });

  it('a real render at 10,000 peers stops part-way once its only client has gone', async () => {
    const source = new ManualSource();
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, maxPeers: 10_000 });
    let outcome: Promise<string> | undefined;
    const client = new AbortController();
    const scrape = exporter.scrapeInto.bind(exporter);
    exporter.scrapeInto = (writer, format, options) => {
      const p = scrape(writer, format, options);
      client.abort(); // the scraper gives up as soon as the render has begun
      outcome = p.then(
        () => 'completed',
        (e: unknown) => (options?.signal?.aborted && e === options.signal.reason ? 'aborted' : `failed: ${String(e)}`),
      );
      return p;
    };
    const base = await serve(exporter);
    source.sink!.tick({ readAt: source.clock, rows: Array.from({ length: 10_000 }, (_, i) => row(`peer-${i}`, { synced: i, lastUpdate: source.clock - 1 })) });
    const request = get(`${base}/metrics`, {}, client.signal).catch(() => 'gone');
    expect(await request).toBe('gone');
    await waitFor(() => outcome);
    // The writer checks the signal between slices of work (visitSliced): it never finishes the body.
    expect(await outcome).toBe('aborted');
    await exporter.close();
  });
});

describe('--scrape-send-timeout', () => {
  it('closes a response still rendering past the deadline, frees its slot and counts it', async () => {
    const t = instrumented();
    const base = await serve(t.exporter, 1, 1);
    t.source.sink!.tick({ readAt: t.source.clock, rows: [row('a')] });
    t.hold();
    const stuck = get(`${base}/metrics`).then(
      () => 'answered',
      () => 'closed',
    );
    expect(await stuck).toBe('closed');
    await waitFor(() => (t.exporter.http.scrapesInFlight === 0 ? true : undefined));
    t.release();
    // With a cap of one, the slot the stuck response held is free again.
    const after = await get(`${base}/metrics`);
    expect(after.status).toBe(200);
    expect(valueOf(after.body.toString(), 'ditto_sync_exporter_scrapes_timed_out_total')).toBe(1);
    await t.exporter.close();
  });

  it('a client that never reads a large body loses its connection at the deadline instead of holding the only slot', async () => {
    const source = new ManualSource();
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, maxPeers: 20_000 });
    const base = await serve(exporter, 1, 1);
    // About 20 MB: more than loopback's socket buffers hold, so the response cannot finish unread.
    source.sink!.tick({ readAt: source.clock, rows: Array.from({ length: 20_000 }, (_, i) => row(`peer-${i}`.padEnd(40, 'x'), { synced: i, lastUpdate: source.clock - 1 })) });
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.pause();
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.write(`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await waitFor(() => (exporter.http.scrapesTimedOut === 1 ? true : undefined), 60_000);
    await waitFor(() => (exporter.http.scrapesInFlight === 0 ? true : undefined));
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.resume();
    await closed;
    const after = await get(`${base}/metrics`);
    expect(after.status).toBe(200);
    expect(received).toBeLessThan(after.body.length);
    await exporter.close();
  }, 120_000);
});

describe('concurrent-scrape load, short form of npm run concurrent', () => {
  it('the real CLI at 2,000 peers under 40 concurrent clients: bounded memory, no 5xx but the cap’s 503, every body whole', async () => {
    const result = await runConcurrent({ peers: 2_000, clients: 40, duration: 5, maxRssBytes: 400 * 1024 * 1024, timeoutMs: 30_000, root: ROOT }, () => {});
    const failed = result.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    expect(failed).toEqual([]);
    expect(result.statuses['200']).toBeGreaterThan(0);
    // 40 clients against a cap of 16: some were told to come back.
    expect(result.statuses['503'] ?? 0).toBeGreaterThan(0);
    expect(result.scrapesShared).toBeGreaterThan(0);
  }, 120_000);
});
