import { get as httpGet, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncExporter } from '../src/exporter.js';
import { boundPort, closeServer, createApp, createRouter, listen } from '../src/server.js';
import { valueOf } from './helpers/exposition.js';
import { ManualSource, row } from './helpers/fake-source.js';

describe('HTTP endpoints', () => {
  // Each test serves its own exporter, so none depends on what another one did first.
  const running: { server: Server; exporter: SyncExporter }[] = [];
  afterEach(async () => {
    for (const { server, exporter } of running.splice(0)) {
      await closeServer(server);
      await exporter.close();
    }
  });

  /** A served exporter; with `withPeer`, one snapshot of peer "a" (last update 4 s before it). */
  async function serveExporter(withPeer: boolean) {
    const source = new ManualSource();
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, stallAfter: 30 });
    await exporter.start();
    const server = await listen(createApp(createRouter(exporter)), { host: '127.0.0.1', port: 0 });
    running.push({ server, exporter });
    if (withPeer) source.sink!.tick({ readAt: source.clock, rows: [row('a', { synced: 3, lastUpdate: source.clock - 4 })] });
    return { source, base: `http://127.0.0.1:${boundPort(server)}` };
  }

  it('is not ready before the first snapshot, and says why', async () => {
    const { base } = await serveExporter(false);
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe('no snapshot yet\n');
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('serves Prometheus text 0.0.4 by default and OpenMetrics when asked, with q-values honoured', async () => {
    const { base } = await serveExporter(true);
    const text = await fetch(`${base}/metrics`);
    expect(text.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const body = await text.text();
    expect(valueOf(body, 'ditto_sync_peer_seconds_since_last_update', { peer_id: 'a', peer_type: 'device' })).toBe(4);

    const om = await fetch(`${base}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' },
    });
    expect(om.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect((await om.text()).endsWith('# EOF\n')).toBe(true);
    const refused = await fetch(`${base}/metrics`, { headers: { accept: 'application/openmetrics-text;q=0, text/plain' } });
    expect(refused.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('gzips /metrics for scrapers that accept it, and only then', async () => {
    const { base } = await serveExporter(true);
    const get = (headers: Record<string, string>) =>
      new Promise<{ headers: import('node:http').IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        httpGet(`${base}/metrics`, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject);
      });
    const plain = await get({});
    expect(plain.headers['content-encoding']).toBeUndefined();
    const zipped = await get({ 'accept-encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['vary']).toBe('Accept, Accept-Encoding');
    expect(zipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
  });

  it('computes ages at scrape time, not at tick time', async () => {
    const { source, base } = await serveExporter(true);
    source.clock += 6;
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(valueOf(body, 'ditto_sync_peer_seconds_since_last_update', { peer_id: 'a', peer_type: 'device' })).toBe(10);
    expect(valueOf(body, 'ditto_sync_snapshot_age_seconds')).toBe(6);
  });

  it('is ready while fresh and not ready once the snapshot is older than --stall-after', async () => {
    const { source, base } = await serveExporter(true);
    source.clock += 29;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    source.clock += 60;
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/^snapshot is \d+s old\n$/);
  });

  it('answers 404 for unknown paths and 405 for other methods, without internals', async () => {
    const { base } = await serveExporter(true);
    for (const path of ['/nope', '/metrics/', '/METRICS', '/%', '/..%2f..%2fetc/passwd']) {
      const res = await fetch(`${base}${path}`);
      const text = await res.text();
      expect([400, 404], path).toContain(res.status);
      expect(text, path).not.toMatch(/at |node_modules|\/work\//);
    }
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await fetch(`${base}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-powered-by')).toBeNull();
  });

  it('serves a landing page linking the endpoints, with security headers', async () => {
    const { base } = await serveExporter(false);
    const res = await fetch(`${base}/`);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    for (const link of ['metrics', 'healthz', 'readyz']) expect(html).toContain(`href="${link}"`);
  });

  it('reports a closed source as down and not ready, and stops serving its frozen snapshot as current', async () => {
    const { source, base } = await serveExporter(true);
    expect(valueOf(await (await fetch(`${base}/metrics`)).text(), 'ditto_sync_connected_peers')).toBe(1);
    source.clock += 6;
    source.open = false;
    const body = await (await fetch(`${base}/metrics`)).text();
    expect(valueOf(body, 'ditto_sync_up')).toBe(0);
    expect(body).not.toContain('peer_id="a"');
    expect(valueOf(body, 'ditto_sync_connected_peers')).toBeUndefined();
    // Health stays: the snapshot's age tells how long it has been.
    expect(valueOf(body, 'ditto_sync_snapshot_age_seconds')).toBeGreaterThan(0);
    expect(valueOf(body, 'ditto_sync_observer_ticks_total')).toBe(1);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
  });
});

describe('backend option', () => {
  it("'otel' needs no factory: the exporter builds the OpenTelemetry backend itself", async () => {
    const source = new ManualSource();
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false, backend: 'otel' });
    await exporter.start();
    source.sink!.tick({ readAt: source.clock, rows: [row('a', { synced: 3 })] });
    const { body, contentType } = await exporter.backend.render('prometheus');
    expect(exporter.backend.name).toBe('otel');
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(valueOf(body, 'ditto_sync_peer_synced_commit_id', { peer_id: 'a', peer_type: 'device' })).toBe(3);
    // No family twice: the prom-client registry holds none of the exporter's families.
    expect(await exporter.registry.metrics()).not.toContain('ditto_sync_');
    await exporter.close();
  });
});
