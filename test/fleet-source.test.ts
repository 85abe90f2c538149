/**
 * The fleet source end to end, through SyncExporter and both backends, against an emulator of the
 * Ditto Server HTTP API (written from Ditto's specification; not the real server).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FAMILIES } from '../src/catalogue/index.js';
import { SyncExporter } from '../src/exporter.js';
import type { Logger } from '../src/logger.js';
import { FleetSource, type FleetSourceOptions } from '../src/sources/fleet/fleet-source.js';
import { DittoServerEmulator, deriveFleet } from './helpers/ditto-server-emulator.js';
import { checkExposition } from './helpers/exposition-check.js';
import { parseSamples, sampleMap, valueOf } from './helpers/exposition.js';
import { waitFor } from './helpers/net.js';

const KEY = 'emulator-read-only-key';
const T = 1_796_112_000;

interface Line {
  level: string;
  msg: string;
}
function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (a: unknown, b?: unknown) => void lines.push({ level, msg: String(typeof a === 'string' ? a : b) });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger & { lines: Line[] };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: Partial<FleetSourceOptions> = {}, exporterOptions: ConstructorParameters<typeof SyncExporter>[1] = {}) {
  const emu = await new DittoServerEmulator({ keys: [KEY] }).start();
  const logger = recordingLogger();
  const clock = { now: T };
  const source = new FleetSource({
    url: emu.url,
    apiKey: () => KEY,
    // Long enough that only the reads a test asks for happen.
    intervalSeconds: 3600,
    pageSize: 4,
    backoffMs: 10,
    clock: () => clock.now,
    logger,
    ...options,
  });
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false, logger, ...exporterOptions });
  cleanups.push(async () => {
    await exporter.close();
    await emu.stop();
  });
  await exporter.start();
  await source.readNow();
  const scrape = async () => {
    const { body } = await exporter.scrape('prometheus');
    expect(checkExposition(body)).toEqual([]);
    return body;
  };
  return { emu, source, exporter, logger, clock, scrape };
}

const deviceIds = (body: string) => new Set(parseSamples(body).filter((s) => s.name === 'ditto_fleet_device_info').map((s) => s.labels['device_id']));
const devices = (body: string) => parseSamples(body).filter((s) => s.name === 'ditto_fleet_devices').reduce((n, s) => n + s.value, 0);

describe('the fleet source', () => {
  it('serves every fleet family from the captured documents, and no sync or device family at all (no ditto_sync_up to stall)', async () => {
    const { scrape, emu } = await setup();
    const body = await scrape();
    const names = new Set(parseSamples(body).map((s) => s.name));
    const sync = FAMILIES.filter((f) => f.area === 'sync' || f.area === 'device').map((f) => f.name);
    for (const name of sync) expect(names, name).not.toContain(name);
    expect(names).not.toContain('ditto_sync_commit_cloud_ack_seconds_bucket');
    expect(valueOf(body, 'ditto_fleet_up')).toBe(1);
    expect(valueOf(body, 'ditto_sync_exporter_info', { source: 'fleet', backend: 'prom-client', strict_mode: 'none', peer_id_label: 'full' })).toBe(1);
    expect(deviceIds(body)).toEqual(new Set(emu.documents.keys()));
    const gap = [...emu.documents.values()].find((d) => (d['metadata'] as { site?: string }).site)!;
    expect(valueOf(body, 'ditto_fleet_device_cloud_unacked_commits', { device_id: String(gap['_id']) })).toBe(2);
  });

  it('reads on its interval, not on scrapes: a scrape serves the last complete inventory and computes ages then', async () => {
    const { scrape, emu, clock } = await setup();
    const requests = emu.requests.length;
    clock.now = T + 42;
    const body = await scrape();
    await scrape();
    expect(emu.requests.length).toBe(requests);
    expect(valueOf(body, 'ditto_fleet_inventory_age_seconds')).toBe(42);
  });

  it('serves the whole fleet when the server caps pages below --fleet-page-size, not the first short page', async () => {
    const { scrape, emu, source } = await setup();
    const fleet = deriveFleet(11);
    emu.setDocuments(fleet);
    emu.pageCap = 3;
    await source.readNow();
    const body = await scrape();
    expect(devices(body)).toBe(11);
    expect(deviceIds(body)).toEqual(new Set(fleet.map((d) => d['_id'])));
  });

  it('reads again every --fleet-interval by itself', async () => {
    const { source } = await setup({ intervalSeconds: 0.2, clock: undefined });
    await waitFor(async () => (source.fleetView().reads >= 3 ? true : undefined), 10_000);
  });

  it('never serves a half-read inventory: a read that fails on page 3 leaves the last complete one, its age growing, and ditto_fleet_up 0', async () => {
    const { scrape, emu, clock, source, exporter } = await setup();
    emu.setDocuments(deriveFleet(10));
    clock.now = T + 60;
    // Pages 1 and 2 of 4 documents arrive, page 3 fails.
    let later = 0;
    emu.intercept = (r) => (r.args?.['after'] !== undefined && ++later >= 2 ? { kind: 'status', status: 500 } : undefined);
    await source.readNow();
    clock.now = T + 90;
    const body = await scrape();
    expect(valueOf(body, 'ditto_fleet_up')).toBe(0);
    expect(devices(body)).toBe(3);
    expect(valueOf(body, 'ditto_fleet_inventory_age_seconds')).toBe(90);
    expect(valueOf(body, 'ditto_fleet_read_failures_total', { read: 'inventory', reason: 'http_5xx' })).toBe(1);
    expect(exporter.readiness()).toEqual({ ready: false, reason: 'fleet inventory reads failing (http_5xx)' });
    emu.intercept = undefined;
    await source.readNow();
    const healed = await scrape();
    expect(valueOf(healed, 'ditto_fleet_up')).toBe(1);
    expect(devices(healed)).toBe(10);
    expect(valueOf(healed, 'ditto_fleet_inventory_reads_total')).toBe(2);
    expect(exporter.readiness().ready).toBe(true);
  });

  it('reports a key revoked mid-run as ditto_fleet_up 0 with one clear log line, and picks up a rotated key file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleet-key-'));
    const file = join(dir, 'key');
    writeFileSync(file, `${KEY}\n`);
    const { scrape, emu, source, logger } = await setup({ apiKey: () => readFileSync(file, 'utf8') });
    expect(valueOf(await scrape(), 'ditto_fleet_up')).toBe(1);
    emu.revoke(KEY);
    for (let i = 0; i < 3; i++) await source.readNow();
    const body = await scrape();
    expect(valueOf(body, 'ditto_fleet_up')).toBe(0);
    expect(valueOf(body, 'ditto_fleet_read_failures_total', { read: 'inventory', reason: 'unauthorized' })).toBe(3);
    // The last complete inventory is still served.
    expect(devices(body)).toBe(3);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/refused the fleet API key \(HTTP 401\).*ditto_fleet_up is 0.*--fleet-api-key-file/);
    expect(errors[0]!.msg).not.toContain(KEY);
    // The operator puts a new key in the file: the next read uses it.
    emu.keys.add('rotated-key');
    writeFileSync(file, 'rotated-key\n');
    await source.readNow();
    expect(valueOf(await scrape(), 'ditto_fleet_up')).toBe(1);
    expect(emu.requests.at(-1)!.authorization).toBe('Bearer rotated-key');
    expect(logger.lines.filter((l) => l.level === 'info' && /read again after failures/.test(l.msg))).toHaveLength(1);
  });

  it('follows a fleet that shrinks and grows between refreshes: vanished devices vanish, new ones appear', async () => {
    const { scrape, emu, source } = await setup();
    const fleet = deriveFleet(12);
    emu.setDocuments(fleet);
    await source.readNow();
    expect(deviceIds(await scrape()).size).toBe(12);
    emu.setDocuments(fleet.slice(0, 5));
    await source.readNow();
    const shrunk = await scrape();
    expect(deviceIds(shrunk)).toEqual(new Set(fleet.slice(0, 5).map((d) => d['_id'])));
    expect(devices(shrunk)).toBe(5);
    for (const d of fleet.slice(5)) expect(shrunk).not.toContain(String(d['_id']));
    const grown = [...fleet.slice(0, 5), ...deriveFleet(7, undefined, 2)];
    emu.setDocuments(grown);
    await source.readNow();
    const body = await scrape();
    expect(deviceIds(body)).toEqual(new Set(grown.map((d) => d['_id'])));
    expect(devices(body)).toBe(12);
  });

  it('survives slow, hung, 5xx and malformed answers, counting each, and recovers', async () => {
    const { scrape, emu, source } = await setup({ requestTimeoutSeconds: 0.3, retries: 1 });
    const faults = [
      [{ kind: 'hang' }, 'timeout'],
      [{ kind: 'body', body: 'not json' }, 'malformed'],
      [{ kind: 'status', status: 502 }, 'http_5xx'],
      [{ kind: 'error-in-2xx', description: 'boom' }, 'error_envelope'],
    ] as const;
    for (const [fault, reason] of faults) {
      emu.queue(fault);
      await source.readNow();
      expect(valueOf(await scrape(), 'ditto_fleet_read_failures_total', { read: 'inventory', reason }), reason).toBe(1);
    }
    // Slow but within the timeout: fine.
    emu.queue({ kind: 'delay', ms: 100 });
    await source.readNow();
    const body = await scrape();
    expect(valueOf(body, 'ditto_fleet_up')).toBe(1);
    expect(valueOf(body, 'ditto_fleet_inventory_reads_total')).toBe(2);
  });

  it('counts retries that succeeded as retries, not failures', async () => {
    const { scrape, emu, source } = await setup();
    emu.queue({ kind: 'status', status: 429 }, { kind: 'status', status: 503 });
    await source.readNow();
    const body = await scrape();
    expect(valueOf(body, 'ditto_fleet_request_retries_total')).toBe(2);
    expect(valueOf(body, 'ditto_fleet_up')).toBe(1);
    expect(parseSamples(body).filter((s) => s.name === 'ditto_fleet_read_failures_total').every((s) => s.value === 0)).toBe(true);
  });

  it('closes promptly while a request hangs', async () => {
    const { emu, source, exporter } = await setup({ requestTimeoutSeconds: 60 });
    const before = emu.requests.length;
    emu.queue({ kind: 'hang' });
    const reading = source.readNow();
    await waitFor(async () => (emu.requests.length > before ? true : undefined), 5000);
    const started = performance.now();
    await exporter.close();
    await reading;
    expect(performance.now() - started).toBeLessThan(5000);
    expect(exporter.readiness()).toEqual({ ready: false, reason: 'source closed' });
  });

  it('is not ready before its first complete inventory', async () => {
    const emu = await new DittoServerEmulator({ keys: ['other'] }).start();
    const source = new FleetSource({ url: emu.url, apiKey: () => KEY, intervalSeconds: 3600 });
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    cleanups.push(async () => {
      await exporter.close();
      await emu.stop();
    });
    await exporter.start();
    await source.readNow();
    expect(exporter.readiness()).toEqual({ ready: false, reason: 'no complete fleet inventory yet' });
    const body = (await exporter.scrape('prometheus')).body;
    expect(valueOf(body, 'ditto_fleet_up')).toBe(0);
    expect(valueOf(body, 'ditto_fleet_inventory_age_seconds')).toBeUndefined();
  });

  it('serves the same fleet series through the otel backend as through prom-client', async () => {
    const prom = await setup();
    const otel = await setup({}, { backend: 'otel' });
    const a = sampleMap(await prom.scrape());
    const b = sampleMap((await otel.exporter.scrape('prometheus')).body);
    const fleetKeys = (m: Map<string, unknown>) => [...m.keys()].filter((k) => k.startsWith('ditto_fleet_') && !k.startsWith('ditto_fleet_inventory_read_duration') && !k.startsWith('ditto_fleet_inventory_age'));
    expect(fleetKeys(b).sort()).toEqual(fleetKeys(a).sort());
    for (const k of fleetKeys(a)) expect(b.get(k)?.value, k).toBe(a.get(k)?.value);
  });
});
