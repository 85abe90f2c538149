import { describe, expect, it } from 'vitest';
import { parseSamples, valueOf } from './helpers/exposition.js';
import { replayed } from './helpers/replay-exporter.js';
import { runCli, startCli } from './helpers/cli.js';
import { waitFor } from './helpers/net.js';
import { SCENARIO } from './helpers/replay-exporter.js';

const RAW_IDS = ['pkCloudServer000000000000000000000000001', 'pkDevice0000000000000000000000000000001'];

async function body(options: Parameters<typeof replayed>[1]): Promise<string> {
  const exporter = await replayed(undefined, options);
  try {
    return (await exporter.backend.render('prometheus')).body;
  } finally {
    await exporter.close();
  }
}

const peerIds = (text: string) => new Set(parseSamples(text).flatMap((s) => (s.labels['peer_id'] ? [s.labels['peer_id']] : [])));

describe('--peer-id-label', () => {
  it('hash: a stable keyed hash replaces every peer id, and the values stay the same', async () => {
    const full = await body({});
    const hashed = await body({ peerIdLabel: 'hash', peerIdHashKey: 'k1' });
    const again = await body({ peerIdLabel: 'hash', peerIdHashKey: 'k1' });
    const otherKey = await body({ peerIdLabel: 'hash', peerIdHashKey: 'k2' });
    for (const id of RAW_IDS) expect(hashed).not.toContain(id);
    const ids = peerIds(hashed);
    expect(ids.size).toBe(peerIds(full).size);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(hashed).toBe(again);
    expect([...peerIds(otherKey)].some((id) => ids.has(id))).toBe(false);
    // Same series, same values, only the ids differ.
    const values = (t: string) => parseSamples(t).map((s) => `${s.name} ${s.labels['status'] ?? ''} ${s.raw}`).sort();
    expect(values(hashed)).toEqual(values(full));
  });

  it('none: no per-peer series, aggregates intact, every peer counted as omitted', async () => {
    const text = await body({ peerIdLabel: 'none' });
    expect(peerIds(text).size).toBe(0);
    expect(text).not.toMatch(/^ditto_sync_peer_/m);
    expect(valueOf(text, 'ditto_sync_connected_peers')).toBe(2);
    expect(valueOf(text, 'ditto_sync_cloud_commit_lag')).toBe(2);
    expect(valueOf(text, 'ditto_sync_peers_omitted')).toBe(4);
  });

  it('works from the CLI, and hash without a key exits 2', async () => {
    const cli = await startCli(['--source', 'replay', '--replay', SCENARIO, '--peer-id-label', 'hash', '--peer-id-hash-key', 'secret', '--log-level', 'warn']);
    try {
      await waitFor(async () => ((await fetch(`${cli.base}/readyz`)).status === 200 ? true : undefined));
      const text = await (await fetch(`${cli.base}/metrics`)).text();
      for (const id of RAW_IDS) expect(text).not.toContain(id);
      expect(peerIds(text).size).toBeGreaterThan(0);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
    expect((await runCli(['--peer-id-label', 'hash'])).code).toBe(2);
  });
});
