/**
 * The server sends what scrapeInto() writes into a pooled ByteWriter: the body written chunk by
 * chunk, an all-ASCII chunk as a plain copy. It must be byte for byte the UTF-8 of the string body,
 * non-ASCII text included, and a pooled buffer must never be written again while a response reads it.
 */
import type { Server } from 'node:http';
import { request } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { F } from '../src/catalogue/index.js';
import { SyncExporter } from '../src/exporter.js';
import { ByteWriter, ByteWriterPool } from '../src/exposition/byte-writer.js';
import { labelSet, type LabelSet } from '../src/exposition/labels.js';
import { TextSink } from '../src/exposition/text-sink.js';
import { boundPort, closeServer, createApp, createRouter, listen } from '../src/server.js';
import { ManualSource, row } from './helpers/fake-source.js';
import { replayed } from './helpers/replay-exporter.js';

const PRESENCE = new URL('./fixtures/presence.jsonl', import.meta.url).pathname;

describe('bytes on the wire', () => {
  it.each(['prometheus', 'openmetrics'] as const)('equal the UTF-8 of the %s string body, with non-ASCII device names and default labels', async (format) => {
    const registry = new Registry();
    registry.setDefaultLabels({ site: 'Zürich' });
    // An app metric of its own (process metrics would change between the two scrapes compared).
    new Gauge({ name: 'app_queue_depth', help: 'Depth — of the queue', labelNames: ['queue'], registers: [registry] }).set({ queue: 'Café' }, 3);
    const exporter = await replayed(PRESENCE, { registry });
    try {
      const text = (await exporter.scrape(format)).body;
      expect(text).toContain('Zoë');
      expect(text).toContain('app_queue_depth{queue="Café",site="Zürich"} 3');
      const writer = new ByteWriter(16);
      await exporter.scrapeInto(writer, format);
      expect(writer.bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
    } finally {
      await exporter.close();
    }
  });

  it('encode a chunk as UTF-8 when a label set does not say it is ASCII, and grow the writer as needed', () => {
    // A label set made by hand, without the ascii flag, whose text is not ASCII.
    const handMade: LabelSet = { pairs: { name: 'Ωmega' }, text: 'name="Ωmega"' };
    const writer = new ByteWriter(8);
    const sink = new TextSink('prometheus', { writer });
    sink.value(F.connectedPeers, handMade, 1);
    for (let i = 0; i < 2000; i++) sink.value(F.connectedPeers, labelSet({ name: `plain${i}` }), 2);
    sink.end();
    const body = writer.bytes.toString('utf8');
    expect(body).toContain('ditto_sync_connected_peers{name="Ωmega"} 1\n');
    expect(body).toContain('ditto_sync_connected_peers{name="plain1999"} 2\n');
    expect(writer.capacity).toBeGreaterThanOrEqual(writer.length);
  });

  it('come from writers the pool hands out again only after release, reset', () => {
    const pool = new ByteWriterPool(1);
    const a = pool.acquire();
    a.write('abc', true);
    const b = pool.acquire();
    expect(b).not.toBe(a);
    pool.release(a);
    pool.release(b); // beyond maxIdle: dropped
    expect(pool.size).toBe(1);
    const again = pool.acquire();
    expect(again).toBe(a);
    expect(again.length).toBe(0);
  });
});

describe('pooled bodies over HTTP', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await closeServer(s, 0);
  });

  it("never overwrite a body a slow reader is still reading: each of two readers gets the snapshot it asked for, whole", async () => {
    const source = new ManualSource();
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, maxPeers: 10_000 });
    await exporter.start();
    const tick = (synced: number) => source.sink!.tick({ readAt: source.clock, rows: Array.from({ length: 10_000 }, (_, i) => row(`peer-${i}`, { synced })) });
    const server = await listen(createApp(createRouter(exporter)), { host: '127.0.0.1', port: 0 });
    servers.push(server);
    const port = boundPort(server);
    // A reader that takes its headers and then pauses, so its body stays in the kernel and Node's queue.
    const slow = () =>
      new Promise<{ resume: () => Promise<string> }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
          res.pause();
          resolve({
            resume: () =>
              new Promise<string>((done) => {
                let body = '';
                res.setEncoding('utf8');
                res.on('data', (c: string) => (body += c));
                res.on('end', () => done(body));
                res.resume();
              }),
          });
        });
        req.on('error', reject);
        req.end();
      });
    tick(1);
    const first = await slow();
    // A newer snapshot, scraped while the first body is still unread.
    tick(2);
    const second = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const firstBody = await first.resume();
    expect(second.match(/ditto_sync_peer_synced_commit_id\{[^}]*\} 2\n/g)).toHaveLength(10_000);
    expect(firstBody.match(/ditto_sync_peer_synced_commit_id\{[^}]*\} 1\n/g)).toHaveLength(10_000);
    expect(firstBody).not.toMatch(/ditto_sync_peer_synced_commit_id\{[^}]*\} 2\n/);
    await exporter.close();
  });
});
