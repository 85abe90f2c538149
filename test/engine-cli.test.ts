/**
 * --ditto-engine-metrics and --publish-health through the real CLI with the real Ditto SDK: the
 * engine's families on our port behind our auth, Ditto's exporter on a loopback port only, and
 * nothing on 0.0.0.0:9000 (read from /proc: the sockets the CLI process itself holds).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, describe, expect, it } from 'vitest';
import { listeningAddresses } from '../src/sources/socket-owner.js';
import { runCli, startCli } from './helpers/cli.js';
import { valueOf } from './helpers/exposition.js';
import { waitFor } from './helpers/net.js';

const ENABLED = 'DITTO_METRICS_EXPORTER_PROMETHEUS_ENABLED';
const ADDR = 'DITTO_METRICS_EXPORTER_PROMETHEUS_HTTP_LISTENER_ADDR';

/** The environment of this test process without the engine exporter's variables. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of [ENABLED, ADDR]) if (!(name in extra)) delete env[name];
  return env;
}

const dirs: string[] = [];
const temp = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const store = () => join(temp('engine-cli-'), 'store');

/** The pino line that says what the CLI serves. */
function servingLine(output: string): { engineMetrics?: string; address: string } {
  const line = output.split('\n').find((l) => l.includes('"msg":"serving /metrics"'));
  if (!line) throw new Error(`no "serving /metrics" line in:\n${output}`);
  return JSON.parse(line) as { engineMetrics?: string; address: string };
}

describe('the CLI with its own Ditto and --ditto-engine-metrics (real SDK)', () => {
  it('serves the engine families on our port, behind our basic auth; Ditto listens on loopback only, never on 0.0.0.0:9000', async () => {
    const web = join(temp('engine-web-'), 'web.yml');
    writeFileSync(web, `basic_auth_users:\n  prometheus: ${bcrypt.hashSync('scrape-me', 4)}\n`);
    const auth = { authorization: `Basic ${Buffer.from('prometheus:scrape-me').toString('base64')}` };
    const cli = await startCli(['--persistence-dir', store(), '--ditto-engine-metrics', '--publish-health', '--publish-interval', '0.5', '--web.config.file', web, '--log-level', 'info'], {
      env: cleanEnv(),
      isUp: async (base) => (await fetch(`${base}/healthz`, { headers: auth })).ok,
    });
    try {
      const engineUrl = new URL(servingLine(cli.output()).engineMetrics!);
      expect(engineUrl.hostname).toBe('127.0.0.1');

      // Every socket the CLI process listens on: our --listen address and Ditto's exporter, both loopback.
      const sockets = (await listeningAddresses(cli.child.pid!))!;
      expect(sockets.sort()).toEqual([`127.0.0.1:${cli.port}`, `127.0.0.1:${engineUrl.port}`].sort());
      expect(sockets.some((s) => s.endsWith(':9000'))).toBe(false);

      expect((await fetch(`${cli.base}/metrics`)).status).toBe(401);
      const body = await waitFor(async () => {
        const text = await (await fetch(`${cli.base}/metrics`, { headers: auth })).text();
        return (valueOf(text, 'ditto_sync_health_beacon_publishes_total', { reason: 'refresh' }) ?? 0) >= 1 ? text : undefined;
      });
      expect(valueOf(body, 'ditto_engine_up')).toBe(1);
      expect(valueOf(body, 'ditto_sync_up')).toBe(1);
      for (const [family, type] of [
        ['ditto_backend_sqlite3_txn_permits', 'counter'],
        ['ditto_network_connections_established', 'gauge'],
        ['ditto_store_transaction_commit_secs', 'histogram'],
      ]) {
        expect(body).toContain(`\n# TYPE ${family} ${type}\n`);
      }
      expect(valueOf(body, 'ditto_network_connections_established', { transport_type: 'websocket', direction: 'outbound' })).toBe(0);
      expect(valueOf(body, 'ditto_engine_families_dropped', { reason: 'collision' })).toBe(0);
      expect(valueOf(body, 'ditto_engine_samples_unusable', { reason: 'syntax' })).toBe(0);
      expect(valueOf(body, 'ditto_sync_health_beacon_publish_failures_total')).toBe(0);

      // The engine port is Ditto's own endpoint (unauthenticated, so loopback only).
      const direct = await (await fetch(engineUrl)).text();
      expect(direct).toContain('# TYPE ditto_backend_sqlite3_txn_permits counter');

      const om = await (await fetch(`${cli.base}/metrics`, { headers: { ...auth, accept: 'application/openmetrics-text' } })).text();
      expect(om).toMatch(/^ditto_backend_sqlite3_txn_permits_total\{/m);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it.each<[string, string[], Record<string, string>, RegExp]>([
    ['the engine exporter enabled by the environment with no address (it would bind 0.0.0.0:9000)', [], { [ENABLED]: 'true' }, /0\.0\.0\.0:9000/],
    ['an unquoted address (Ditto would ignore it and bind 0.0.0.0:9000)', [], { [ENABLED]: 'true', [ADDR]: '127.0.0.1:9464' }, /JSON-quoted loopback/],
    ['--ditto-engine-metrics with an address on every interface', ['--ditto-engine-metrics'], { [ADDR]: '"0.0.0.0:9464"' }, /JSON-quoted loopback/],
    ['--ditto-engine-metrics with the exporter switched off', ['--ditto-engine-metrics'], { [ENABLED]: 'false' }, /contradicts/],
    ['--ditto-engine-metrics without the ditto source', ['--ditto-engine-metrics', '--source', 'simulate'], {}, /--ditto-engine-metrics needs --source ditto/],
    ['--publish-health without the ditto source', ['--publish-health', '--source', 'simulate'], {}, /--publish-health needs --source ditto/],
    ['a bad --publish-interval', ['--publish-interval', '0'], {}, /--publish-interval/],
  ])('exits 2, opening nothing, on %s', async (_name, args, env, message) => {
    const { code, stderr, stdout } = await runCli(['--persistence-dir', store(), '--listen', '127.0.0.1:0', ...args], cleanEnv(env));
    expect(code, stdout + stderr).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it('exits 1 when the engine port is taken by another process, rather than merge that process\'s metrics', async () => {
    const blocker = createServer((socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\nditto_fake 1'));
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const { code, stdout, stderr } = await runCli(['--persistence-dir', store(), '--listen', '127.0.0.1:0', '--ditto-engine-metrics'], cleanEnv({ [ADDR]: JSON.stringify(`127.0.0.1:${port}`) }));
      expect(code).toBe(1);
      expect(stdout + stderr).toContain(`could not bind 127.0.0.1:${port}: another process listens there`);
    } finally {
      blocker.close();
    }
  });
});
