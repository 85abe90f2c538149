import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FLAGS } from '../src/config.js';
import { runCli, startCli } from './helpers/cli.js';
import { valueOf } from './helpers/exposition.js';
import { waitFor } from './helpers/net.js';
import { SCENARIO } from './helpers/replay-exporter.js';

describe('CLI end to end', () => {
  it('npm start replays a file and serves the hand-computed values, then shuts down on SIGTERM', async () => {
    const cli = await startCli(['--source', 'replay', '--replay', SCENARIO, '--log-level', 'info'], { viaNpm: true });
    try {
      await waitFor(async () => ((await fetch(`${cli.base}/readyz`)).status === 200 ? true : undefined));
      const res = await fetch(`${cli.base}/metrics`);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const body = await res.text();
      expect(valueOf(body, 'ditto_sync_local_commit_id')).toBe(14);
      expect(valueOf(body, 'ditto_sync_cloud_commit_lag')).toBe(2);
      expect(valueOf(body, 'ditto_sync_cloud_oldest_unacked_commit_age_seconds')).toBe(10);
      expect(valueOf(body, 'ditto_sync_replay_lines_skipped_total', { reason: 'invalid_json' })).toBe(2);
      expect(body).toMatch(/^process_resident_memory_bytes \d+/m);
    } finally {
      // npm itself dies by the signal it forwards; the exporter under it must still stop cleanly.
      await cli.stop();
      await waitFor(() => (cli.output().includes('"msg":"stopped"') ? true : undefined), 15_000).catch((e) => { throw new Error(`${e}\n${cli.output()}`); });
      await expect(fetch(`${cli.base}/healthz`)).rejects.toThrow();
    }
  });

  it('opens a real embedded Ditto store by default, serves its metrics and says how to activate sync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-ditto-'));
    const cli = await startCli(['--persistence-dir', join(dir, 'store'), '--log-level', 'info']);
    try {
      await waitFor(async () => ((await fetch(`${cli.base}/readyz`)).status === 200 ? true : undefined));
      const body = await (await fetch(`${cli.base}/metrics`)).text();
      expect(valueOf(body, 'ditto_sync_up')).toBe(1);
      expect(valueOf(body, 'ditto_sync_connected_peers')).toBe(0);
      expect(body).toMatch(/^ditto_sync_exporter_build_info\{version="[^"]+",ditto_sdk_version="5\.\d+\.\d+"\} 1$/m);
      const notActivated = cli.output().split('\n').filter((l) => l.includes('sync is not activated'));
      expect(notActivated).toHaveLength(1);
      expect(notActivated[0]).toContain('--offline-license-token');
    } finally {
      expect(await cli.stop()).toBe(0);
    }
    // The store lock is released: a second exporter opens the same directory.
    const again = await startCli(['--persistence-dir', join(dir, 'store'), '--log-level', 'warn']);
    expect(await again.stop()).toBe(0);
  });

  it("keeps its DITTO_EXPORTER_* variables from Ditto, which reads every DITTO_* variable as a system parameter", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-ditto-env-'));
    const cli = await startCli([], { env: { DITTO_EXPORTER_SOURCE: 'ditto', DITTO_EXPORTER_LOG_LEVEL: 'warn', DITTO_EXPORTER_PERSISTENCE_DIR: join(dir, 'store') } });
    try {
      await waitFor(async () => ((await fetch(`${cli.base}/readyz`)).status === 200 ? true : undefined));
      // Ditto 5.1.0 names each one it sees: "The Ditto environment variable exporter_source is set, but it is not a known system parameter".
      expect(cli.output()).not.toMatch(/environment variable exporter_/);
      expect(cli.output()).toContain('sync is not activated');
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it('runs a simulated mesh whose every contract family has data', async () => {
    const cli = await startCli(['--source', 'simulate', '--simulate-tick-ms', '50', '--simulate-write-rate', '20', '--log-level', 'warn']);
    try {
      const body = await waitFor(async () => {
        const text = await (await fetch(`${cli.base}/metrics`)).text();
        return (valueOf(text, 'ditto_sync_commit_cloud_ack_seconds_count') ?? 0) > 0 ? text : undefined;
      });
      expect(valueOf(body, 'ditto_sync_cloud_servers')).toBe(1);
      expect(valueOf(body, 'ditto_sync_peers', { peer_type: 'device', status: 'disabled' })).toBe(1);
      expect(valueOf(body, 'ditto_sync_peers', { peer_type: 'device', status: 'unknown' })).toBe(1);
      expect(body).toContain('ditto_sync_peer_commit_lag{');
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it('serves the same values through --backend otel and pushes them with --otlp-endpoint', async () => {
    const received: string[] = [];
    const receiver = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        received.push(`${req.method} ${req.url} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    const cli = await startCli(['--source', 'replay', '--replay', SCENARIO, '--backend', 'otel', '--otlp-endpoint', endpoint, '--otlp-interval', '0.5', '--log-level', 'warn']);
    try {
      await waitFor(async () => ((await fetch(`${cli.base}/readyz`)).status === 200 ? true : undefined));
      const body = await (await fetch(`${cli.base}/metrics`)).text();
      expect(valueOf(body, 'ditto_sync_local_commit_id')).toBe(14);
      expect(valueOf(body, 'ditto_sync_commit_cloud_ack_seconds_count')).toBe(2);
      expect(body).not.toMatch(/^process_/m);
      const push = await waitFor(() => received.find((r) => r.includes('ditto_sync_local_commit_id')));
      expect(push.startsWith('POST /v1/metrics ')).toBe(true);
      expect(push).toContain('"service.name"');
    } finally {
      expect(await cli.stop()).toBe(0);
      receiver.close();
    }
  });

  it.each([
    [['--otlp-endpoint', 'ftp://x'], /--otlp-endpoint/],
    [['--source', 'replay', '--replay', SCENARIO, '--record', '/tmp/x.jsonl'], /--record/],
    [['--max-peers', 'abc'], /--max-peers/],
    [['--source', 'nope'], /--source/],
    [['--listen', 'localhost'], /--listen/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--source', 'replay'], /--replay/],
    [['--source', 'replay', '--replay', '/no/such/file'], /cannot read \/no\/such\/file/],
    [['--peer-id-label', 'hash'], /--peer-id-hash-key/],
    [['--simulate-churn', '2'], /--simulate-churn/],
  ])('exits 2 with one line naming the bad flag: %j', async (args, pattern) => {
    const { code, stderr } = await runCli(args as string[]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(pattern);
  });

  it('names the environment variable when its value is bad', async () => {
    const { code, stderr } = await runCli([], { DITTO_EXPORTER_MAX_PEERS: '-3' });
    expect(code).toBe(2);
    expect(stderr).toMatch(/DITTO_EXPORTER_MAX_PEERS/);
  });

  it('--help lists every flag with its environment twin', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    const flat = stdout.replace(/\s+/g, ' ');
    for (const spec of FLAGS) {
      expect(flat).toContain(spec.flags.split(' ')[0]);
      expect(flat).toContain(spec.env);
    }
  });

  it('exits 1 with a clear message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stdout, stderr } = await runCli(['--source', 'simulate', '--listen', `127.0.0.1:${port}`]);
      expect(code).toBe(1);
      expect(stdout + stderr).toMatch(/EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });
});
