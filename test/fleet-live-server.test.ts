/**
 * The fleet source against a REAL Ditto Server, when one is configured:
 *   DITTO_SERVER_HTTP_URL   the HTTP API base from the portal (https://<id>.cloud.dittolive.app/<app-id>…)
 *   DITTO_SERVER_API_KEY    an API key with read access to __small_peer_info (a read-only key)
 *   DITTO_SERVER_LIVE=1     also try remote execute (the key then needs remote-query permission)
 * Without them it is skipped, and says so. Everything else in test/ runs against an emulator.
 */
import { describe, expect, it } from 'vitest';
import { SyncExporter } from '../src/exporter.js';
import { FleetSource } from '../src/sources/fleet/fleet-source.js';
import { checkExposition } from './helpers/exposition-check.js';
import { parseSamples, valueOf } from './helpers/exposition.js';

const url = process.env['DITTO_SERVER_HTTP_URL'];
const key = process.env['DITTO_SERVER_API_KEY'];
const configured = Boolean(url && key);
if (!configured) {
  console.warn('SKIPPED: the live Ditto Server test did not run: set DITTO_SERVER_HTTP_URL and DITTO_SERVER_API_KEY to run it against a real server');
}

describe.skipIf(!configured)('the fleet source against a real Ditto Server', () => {
  it('reads the whole __small_peer_info inventory, page by page, and exports it', async () => {
    const source = new FleetSource({ url: url!, apiKey: () => key!, intervalSeconds: 3600, pageSize: 100, live: process.env['DITTO_SERVER_LIVE'] === '1' });
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    try {
      await exporter.start();
      await source.readNow();
      const body = (await exporter.scrape('prometheus')).body;
      expect(checkExposition(body)).toEqual([]);
      const failures = parseSamples(body).filter((s) => s.name === 'ditto_fleet_read_failures_total' && s.value > 0);
      expect(failures, JSON.stringify(failures)).toEqual([]);
      expect(valueOf(body, 'ditto_fleet_up')).toBe(1);
      expect(valueOf(body, 'ditto_fleet_inventory_reads_total')).toBe(1);
      const devices = parseSamples(body).filter((s) => s.name === 'ditto_fleet_devices').reduce((n, s) => n + s.value, 0);
      console.info(`live Ditto Server: ${devices} devices; fields unusable: ${parseSamples(body).filter((s) => s.name === 'ditto_fleet_fields_unusable' && s.value > 0).map((s) => `${s.labels['field']}=${s.value}`).join(', ') || 'none'}`);
    } finally {
      await exporter.close();
    }
  }, 120_000);
});
