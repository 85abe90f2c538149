/**
 * The scaling examples docs/fleet.md ships (examples/fleet/): each is a valid Prometheus config, and
 * the remote-write one, pointed at local stand-ins, really forwards the fleet series. (The OTLP
 * path is the exporter's own --otlp-endpoint, tested in test/fleet-cli.test.ts.)
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FAMILIES, sampleNames } from '../src/catalogue/index.js';
import { JOB } from '../scripts/stack/config.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { DittoServerEmulator, deriveFleet } from './helpers/ditto-server-emulator.js';
import { haveBinary, run } from './helpers/tools.js';
import { readText, repoPath } from './stack/files.js';
import { startPrometheus, waitFor, type Started } from './stack/processes.js';

const promtool = haveBinary('promtool');
const prometheusInstalled = haveBinary('prometheus');
const EXAMPLES = ['examples/fleet/prometheus-shards.yml', 'examples/fleet/prometheus-remote-write.yml'];

interface PromConfig {
  scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
  remote_write?: { name: string; url: string; headers?: Record<string, string>; write_relabel_configs?: { regex: string; action: string }[] }[];
}
const config = (path: string) => parse(readText(path)) as PromConfig;

describe.skipIf(!promtool)('the scaling examples', () => {
  it.each(EXAMPLES)('%s passes promtool check config', (path) => {
    const r = run('promtool', ['check', 'config', repoPath(path)]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it.each(EXAMPLES)('%s scrapes under the job the shipped rules select', (path) => {
    expect(config(path).scrape_configs.map((s) => s.job_name)).toContain(JOB);
  });

  it('forwards every fleet family and nothing of the sync families', () => {
    const fleet = FAMILIES.filter((f) => f.area === 'fleet').flatMap((f) => sampleNames(f));
    const sync = FAMILIES.filter((f) => f.area === 'sync').flatMap((f) => sampleNames(f));
    for (const rw of config('examples/fleet/prometheus-remote-write.yml').remote_write!) {
      const keep = rw.write_relabel_configs!.find((r) => r.action === 'keep')!;
      const re = new RegExp(`^(?:${keep.regex})$`);
      for (const name of fleet) expect(re.test(name), `${rw.name} drops ${name}`).toBe(true);
      for (const name of sync) expect(re.test(name), `${rw.name} forwards ${name}`).toBe(false);
    }
  });
});

describe.skipIf(!prometheusInstalled)('the remote-write example with local stand-ins for Mimir and Thanos Receive', () => {
  let emu: DittoServerEmulator | undefined;
  let exporter: RunningCli | undefined;
  let prometheus: Started | undefined;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d) => chunks.push(d as Buffer));
    req.on('end', () => {
      writes.push({ path: req.url ?? '', headers: req.headers, bytes: Buffer.concat(chunks).length });
      res.writeHead(204).end();
    });
  });
  const writes: { path: string; headers: IncomingHttpHeaders; bytes: number }[] = [];

  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.stop();
    await emu?.stop();
    receiver.close();
  });

  it('sends snappy-compressed remote-write requests to both', async () => {
    emu = await new DittoServerEmulator({ keys: ['k'] }).start();
    emu.setDocuments(deriveFleet(20));
    exporter = await startCli(['--source', 'fleet', '--fleet-url', emu.url, '--fleet-interval', '1', '--log-level', 'warn'], { env: { DITTO_EXPORTER_FLEET_API_KEY: 'k' } });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const local = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const example = config('examples/fleet/prometheus-remote-write.yml');
    // The example as shipped, only its addresses replaced (and intervals shortened for the test).
    const doc = parse(readText('examples/fleet/prometheus-remote-write.yml')) as PromConfig & { global: Record<string, unknown> };
    doc.global = { ...doc.global, scrape_interval: '1s', evaluation_interval: '1s' };
    doc.scrape_configs[0]!.static_configs = [{ targets: [`127.0.0.1:${exporter.port}`] }];
    (doc.scrape_configs[0] as unknown as Record<string, unknown>)['scrape_timeout'] = '1s';
    doc.remote_write = example.remote_write!.map((rw) => ({ ...rw, url: `${local}${new URL(rw.url).pathname}` }));
    prometheus = await startPrometheus(doc);
    await waitFor(() => (['/api/v1/push', '/api/v1/receive'].every((p) => writes.some((w) => w.path === p && w.bytes > 0)) ? true : undefined), 40_000);
    for (const w of writes) {
      expect(w.headers['content-encoding']).toBe('snappy');
      expect(w.headers['content-type']).toBe('application/x-protobuf');
      expect(w.headers['x-prometheus-remote-write-version']).toMatch(/^0\.1/);
    }
  }, 60_000);
});
