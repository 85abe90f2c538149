import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SyncExporter } from '../src/exporter.js';
import { boundPort, closeServer, createApp, createRouter, listen } from '../src/server.js';
import { ROOT } from './helpers/cli.js';
import { valueOf } from './helpers/exposition.js';
import { ManualSource, row } from './helpers/fake-source.js';
import { freePort, waitFor } from './helpers/net.js';

/** An exporter whose renders wait for `release()`: requests stay in progress as long as the test likes. */
function heldExporter() {
  const source = new ManualSource();
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
  let gate: Promise<void> = Promise.resolve();
  let open: () => void = () => {};
  const scrape = exporter.scrapeInto.bind(exporter);
  exporter.scrapeInto = async (writer, format, options) => {
    await gate;
    return scrape(writer, format, options);
  };
  return {
    source,
    exporter,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => open(),
  };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await closeServer(server, 0);
  }
});

async function serve(exporter: SyncExporter, options: { maxConnections?: number; maxConcurrentScrapes?: number } = {}) {
  await exporter.start();
  const server = await listen(createApp(createRouter(exporter, undefined, { maxConcurrentScrapes: options.maxConcurrentScrapes })), {
    host: '127.0.0.1',
    port: 0,
    maxConnections: options.maxConnections,
    stats: exporter.http,
  });
  servers.push(server);
  return { server, port: boundPort(server) };
}

/** A raw socket that sent `text`; `closed` resolves when the server closes it. */
function raw(port: number, text: string, host = '127.0.0.1') {
  const socket = net.connect(port, host);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(text);
  return { socket, closed, connected, received: () => received };
}

/** One GET on its own connection (no keep-alive). */
function get(port: number, path = '/metrics'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

describe('the connection cap', () => {
  it('evicts the oldest connection that has nothing in progress, so half-sent requests cannot starve a scrape', async () => {
    const { source, exporter } = heldExporter();
    const { port } = await serve(exporter, { maxConnections: 3 });
    source.sink!.tick({ readAt: source.clock, rows: [row('a', { synced: 1 })] });
    const slow = [raw(port, 'GET /metrics HTTP/1.1\r\n'), raw(port, 'GET /metrics HTTP/1.1\r\n'), raw(port, 'GET /metrics HTTP/1.1\r\n')];
    await Promise.all(slow.map((s) => s.connected));
    await waitFor(() => (exporter.http.connections === 3 ? true : undefined));
    const res = await get(port);
    expect(res.status).toBe(200);
    await slow[0]!.closed; // the oldest went
    expect(slow[1]!.socket.destroyed).toBe(false);
    expect(valueOf(res.body, 'ditto_sync_exporter_http_connections_closed_total', { reason: 'evicted' })).toBe(1);
    expect(valueOf(res.body, 'ditto_sync_exporter_http_connections')).toBe(3);
    for (const s of slow) s.socket.destroy();
    await exporter.close();
  });

  it('closes a new connection at once when every connection is busy, and counts it', async () => {
    const held = heldExporter();
    const { port } = await serve(held.exporter, { maxConnections: 2 });
    held.source.sink!.tick({ readAt: held.source.clock, rows: [] });
    held.hold();
    const busy = [get(port), get(port)];
    await waitFor(() => (held.exporter.http.scrapesInFlight === 2 ? true : undefined));
    const refused = raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await refused.closed;
    expect(refused.received()).toBe('');
    expect(held.exporter.http.connectionsRejected).toBe(1);
    held.release();
    expect((await Promise.all(busy)).map((r) => r.status)).toEqual([200, 200]);
    await held.exporter.close();
  });
});

describe('the drain (closeServer with a grace period)', () => {
  it('closes idle and half-sent connections at once, lets a response in progress finish, then resolves', async () => {
    const held = heldExporter();
    const { server, port } = await serve(held.exporter);
    held.source.sink!.tick({ readAt: held.source.clock, rows: [row('a', { synced: 1 })] });
    const idle = raw(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => (idle.received().includes('ok\n') ? true : undefined));
    const halfSent = raw(port, 'GET /metrics HTTP/1.1\r\n');
    held.hold();
    const inFlight = raw(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => (held.exporter.http.scrapesInFlight === 1 ? true : undefined));

    let drained = false;
    const drain = closeServer(server, 30_000).then(() => (drained = true));
    await Promise.all([idle.closed, halfSent.closed]);
    expect(drained).toBe(false);
    held.release();
    await inFlight.closed; // closed by the server once the body is out
    await drain;
    expect(inFlight.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(inFlight.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(inFlight.received()).toContain('ditto_sync_peer_synced_commit_id{peer_id="a"');
    await held.exporter.close();
  });

  it('closes whatever is still open when the grace ends', async () => {
    const held = heldExporter();
    const { server, port } = await serve(held.exporter);
    held.source.sink!.tick({ readAt: held.source.clock, rows: [] });
    held.hold();
    const inFlight = raw(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => (held.exporter.http.scrapesInFlight === 1 ? true : undefined));
    await closeServer(server, 200);
    await inFlight.closed;
    expect(inFlight.received()).toBe('');
    held.release();
    await held.exporter.close();
  });
});

/** Whether this host can bind IPv6 loopback. */
async function hasIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

describe(':PORT listens on IPv6 and IPv4', async () => {
  const ipv6 = await hasIpv6();
  if (!ipv6) console.warn('SKIPPED: this host cannot bind ::1, so dual-stack listening cannot be checked here');

  it.skipIf(!ipv6)('listen() without a host answers on ::1 and on 127.0.0.1', async () => {
    const exporter = new SyncExporter(new ManualSource(), { collectDefaultMetrics: false });
    await exporter.start();
    const server = await listen(createApp(createRouter(exporter)), { port: 0 });
    servers.push(server);
    const port = boundPort(server);
    for (const host of ['127.0.0.1', '::1']) {
      const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`);
      expect(res.status, host).toBe(200);
    }
    await exporter.close();
  });

  it.skipIf(!ipv6)('the CLI with --listen :PORT answers on [::1] and 127.0.0.1', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/cli.js', '--source', 'simulate', '--listen', `:${port}`, '--log-level', 'warn'], { cwd: ROOT });
    try {
      await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
      // Before: IPv4 only, so this was refused.
      expect((await fetch(`http://[::1]:${port}/healthz`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
