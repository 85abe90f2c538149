/**
 * Library mode with the real SDK: the application enables Ditto's engine exporter before it opens
 * Ditto (enableDittoEngineMetrics), and attachSyncExporter merges it from the loopback URL.
 *
 * The variables are process-wide and Ditto installs its exporter once per process, in the first
 * instance opened with them; once that instance closes, no later instance of the process serves
 * engine metrics again (measured on 5.1.0). So this file's vitest worker opens that first instance
 * once, keeps it open for every case, and these cases live in a file of their own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { attachSyncExporter, type AttachedSyncExporter } from '../src/attach.js';
import { enableDittoEngineMetrics, ENGINE_ADDRESS_VAR, freeLoopbackPort } from '../src/sources/engine-exporter-env.js';
import { listeningAddresses } from '../src/sources/socket-owner.js';
import { openTempDitto, type TempDitto } from './ditto-test-kit.js';
import { valueOf } from './helpers/exposition.js';
import { captureLogger } from './otel-support.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(): Promise<TempDitto> {
  const store = await openTempDitto();
  cleanups.push(() => store.dispose());
  return store;
}

/** Attaches to `store`; writes are not tracked, so several attachments to one instance stay independent. */
async function attach(store: TempDitto, url: string, logger = captureLogger()): Promise<AttachedSyncExporter> {
  const attached = await attachSyncExporter(store.ditto, { engineMetrics: { url }, collectDefaultMetrics: false, trackWrites: false, logger });
  cleanups.push(() => attached.close());
  return attached;
}

// Set before any open in this worker.
const engine = enableDittoEngineMetrics();
/** The instance that owns the process's engine exporter, open for the whole file. */
let owner: TempDitto;

beforeAll(async () => {
  await engine;
  owner = await openTempDitto();
});
afterAll(() => owner?.dispose());

describe('engineMetrics in library mode (real SDK)', () => {
  it('merges the engine families of the app\'s Ditto from the loopback URL the app enabled, and the exporter sees nothing wrong', async () => {
    const { url, port } = await engine;
    // The exporter was bound during the open, on loopback, by this process.
    expect(await listeningAddresses()).toContain(`127.0.0.1:${port}`);
    await owner.ditto.store.execute("INSERT INTO orders DOCUMENTS ({'_id': 'o1', 'total': 5})");
    const logger = captureLogger();
    const attached = await attach(owner, url, logger);
    const { body } = await attached.metrics();
    expect(valueOf(body, 'ditto_engine_up')).toBe(1);
    expect(body).toContain('\n# TYPE ditto_store_transaction_commit_secs histogram\n');
    expect(valueOf(body, 'ditto_store_transaction_commit_secs_count')).toBeGreaterThanOrEqual(1);
    expect(valueOf(body, 'ditto_sync_up')).toBe(1);
    expect(logger.warnings).toEqual([]);
    const shown = await attached.source.engineExporter();
    expect(shown).toEqual({ enabled: true, address: `127.0.0.1:${port}` });
  });

  it('a second instance in the same process gets an exporter of its own that serves nothing: ditto_engine_up 0, reason empty', async () => {
    const port = await freeLoopbackPort();
    process.env[ENGINE_ADDRESS_VAR] = JSON.stringify(`127.0.0.1:${port}`);
    try {
      const second = await open();
      expect(await listeningAddresses()).toContain(`127.0.0.1:${port}`);
      const attached = await attach(second, `http://127.0.0.1:${port}/metrics`);
      const { body } = await attached.metrics();
      expect(valueOf(body, 'ditto_engine_up')).toBe(0);
      expect(valueOf(body, 'ditto_engine_scrape_errors_total', { reason: 'empty' })).toBe(1);
      expect(body).not.toContain('ditto_backend_sqlite3');
    } finally {
      process.env[ENGINE_ADDRESS_VAR] = JSON.stringify(`127.0.0.1:${(await engine).port}`);
    }
  });

  it('refuses a URL that is not loopback, before attaching anything', async () => {
    for (const url of ['http://10.0.0.1:9000/metrics', 'http://localhost:9000/metrics', 'http://0.0.0.0:9000/metrics']) {
      await expect(attachSyncExporter(owner.ditto, { engineMetrics: { url }, collectDefaultMetrics: false, trackWrites: false })).rejects.toThrow(/loopback/);
    }
  });

  it('warns, without failing, when engineMetrics points where nothing listens', async () => {
    const logger = captureLogger();
    const attached = await attach(owner, `http://127.0.0.1:${await freeLoopbackPort()}/metrics`, logger);
    expect(logger.warnings.map((w) => String(w[1]))).toEqual([expect.stringContaining('nothing listens on engineMetrics.url')]);
    const { body } = await attached.metrics();
    expect(valueOf(body, 'ditto_engine_up')).toBe(0);
    expect(valueOf(body, 'ditto_engine_scrape_errors_total', { reason: 'unreachable' })).toBe(1);
  });
});
