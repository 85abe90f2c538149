/**
 * `ditto-sync-exporter --source fleet` end to end: the built CLI against an emulator of the Ditto
 * Server HTTP API (written from Ditto's specification; not the real server), with both backends
 * and OTLP push.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers/cli.js';
import { DittoServerEmulator, deriveFleet } from './helpers/ditto-server-emulator.js';
import { parseSamples, valueOf } from './helpers/exposition.js';
import { waitFor } from './helpers/net.js';
import { haveBinary, run } from './helpers/tools.js';

const KEY = 'emulator-read-only-key';
let emu: DittoServerEmulator;
let keyFile: string;

beforeAll(async () => {
  emu = await new DittoServerEmulator({ basePath: '/app-7f3c', keys: [KEY] }).start();
  emu.setDocuments(deriveFleet(40, (i) => ({ lastSeen: Date.now() / 1000 - i * 600 })));
  keyFile = join(mkdtempSync(join(tmpdir(), 'fleet-cli-')), 'api-key');
  writeFileSync(keyFile, `${KEY}\n`, { mode: 0o600 });
});
afterAll(() => emu.stop());

const fleetArgs = () => ['--source', 'fleet', '--fleet-url', emu.url, '--fleet-api-key-file', keyFile, '--log-level', 'warn'];
const ready = async (base: string) => waitFor(async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined));
const metrics = async (base: string) => (await fetch(`${base}/metrics`)).text();

describe('--source fleet from the CLI', () => {
  it('serves the fleet, and becomes ready once the first inventory is complete', async () => {
    const cli = await startCli([...fleetArgs(), '--max-devices', '10', '--fleet-page-size', '7']);
    try {
      await ready(cli.base);
      const body = await metrics(cli.base);
      expect(valueOf(body, 'ditto_fleet_up')).toBe(1);
      expect(parseSamples(body).filter((s) => s.name === 'ditto_fleet_devices').reduce((n, s) => n + s.value, 0)).toBe(40);
      expect(parseSamples(body).filter((s) => s.name === 'ditto_fleet_device_info')).toHaveLength(10);
      expect(body).not.toMatch(/^ditto_sync_up /m);
      expect(body).toMatch(/^process_resident_memory_bytes /m);
      if (haveBinary('promtool')) {
        const check = run('promtool', ['check', 'metrics'], body.split('\n').filter((l) => l.startsWith('ditto_') || l.startsWith('# HELP ditto_') || l.startsWith('# TYPE ditto_')).join('\n') + '\n');
        expect(check.status, check.stdout + check.stderr).toBe(0);
      }
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it('takes the key from DITTO_EXPORTER_FLEET_API_KEY, shards with --shard/--total-shards, and serves through --backend otel while pushing over OTLP', async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const shards = [0, 1].map((shard) =>
      startCli(['--source', 'fleet', '--fleet-url', emu.url, '--shard', String(shard), '--total-shards', '2', '--backend', 'otel', '--otlp-endpoint', endpoint, '--otlp-interval', '0.5', '--log-level', 'warn'], {
        env: { DITTO_EXPORTER_FLEET_API_KEY: KEY },
      }),
    );
    const clis = await Promise.all(shards);
    try {
      const ids = new Set<string>();
      let total = 0;
      for (const cli of clis) {
        await ready(cli.base);
        const body = await metrics(cli.base);
        const mine = parseSamples(body).filter((s) => s.name === 'ditto_fleet_device_info').map((s) => s.labels['device_id']!);
        for (const id of mine) ids.add(id);
        total += parseSamples(body).filter((s) => s.name === 'ditto_fleet_devices').reduce((n, s) => n + s.value, 0);
      }
      expect(ids).toEqual(new Set(emu.documents.keys()));
      expect(total).toBe(40);
      const push = await waitFor(() => received.find((r) => r.includes('ditto_fleet_device_last_seen_timestamp_seconds')));
      expect(push).toContain('ditto_fleet_up');
      expect(push).not.toContain('ditto_sync_up');
    } finally {
      for (const cli of clis) expect(await cli.stop()).toBe(0);
      receiver.close();
    }
  });

  it('keeps serving with ditto_fleet_up 0 when the key is refused, and logs it once', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'fleet-cli-')), 'key');
    writeFileSync(bad, 'revoked-key');
    const cli = await startCli(['--source', 'fleet', '--fleet-url', emu.url, '--fleet-api-key-file', bad, '--fleet-interval', '0.3', '--log-level', 'info']);
    try {
      await waitFor(async () => (valueOf(await metrics(cli.base), 'ditto_fleet_read_failures_total', { read: 'inventory', reason: 'unauthorized' })! >= 3 ? true : undefined));
      const body = await metrics(cli.base);
      expect(valueOf(body, 'ditto_fleet_up')).toBe(0);
      expect((await fetch(`${cli.base}/readyz`)).status).toBe(503);
      const refused = cli.output().split('\n').filter((l) => l.includes('refused the fleet API key'));
      expect(refused).toHaveLength(1);
      expect(refused[0]).not.toContain('revoked-key');
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it.each([
    [['--source', 'fleet'], /--fleet-url/],
    [['--source', 'fleet', '--fleet-url', 'http://127.0.0.1:1'], /--fleet-api-key-file/],
    [['--source', 'fleet', '--fleet-url', 'http://127.0.0.1:1', '--fleet-api-key-file', '/no/such/key'], /cannot read \/no\/such\/key/],
    [['--source', 'fleet', '--fleet-url', 'ftp://x'], /--fleet-url/],
    [['--source', 'simulate', '--fleet-url', 'http://127.0.0.1:1'], /only used with --source fleet/],
    [['--source', 'fleet', '--fleet-url', 'http://127.0.0.1:1', '--fleet-api-key-file', '/etc/hostname', '--shard', '2', '--total-shards', '2'], /--shard must be below --total-shards/],
    [['--source', 'fleet', '--fleet-url', 'http://127.0.0.1:1', '--fleet-api-key-file', '/etc/hostname', '--fleet-device-id-label', 'hash'], /--peer-id-hash-key/],
    [['--source', 'fleet', '--fleet-url', 'http://127.0.0.1:1', '--fleet-api-key-file', '/etc/hostname', '--record', '/tmp/x.jsonl'], /--record/],
  ])('exits 2 with one line naming the problem: %j', async (args, pattern) => {
    const { code, stderr } = await runCli(args as string[]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(pattern);
  });

  it('says in --help that remote execute is not in Ditto\'s public reference, and recommends a read-only key', async () => {
    const { stdout } = await runCli(['--help']);
    const flat = stdout.replace(/\s+/g, ' ');
    expect(flat).toMatch(/--fleet-live .*not in Ditto's public reference/);
    expect(flat).toMatch(/--fleet-api-key-file .*read-only key/);
  });
});
