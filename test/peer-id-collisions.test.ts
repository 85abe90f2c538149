import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCli } from './helpers/cli.js';
import { valueOf } from './helpers/exposition.js';
import { row } from './helpers/fake-source.js';
import { waitFor } from './helpers/net.js';
import { checkOpenMetricsStrict } from './helpers/openmetrics-strict.js';

const OPENMETRICS = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

describe('one label text per peer, through the HTTP path', () => {
  it('leaves out and counts ids that would write the same label text; the OpenMetrics body stays valid for a strict parser', async () => {
    // JSON's \ud800 and \udfff are lone surrogates: both would be written as U+FFFD, one label text
    // for two peers. A 600-character id is refused too. The other ids are ordinary.
    const line = JSON.stringify({
      t: 1_700_000_000,
      rows: [row('pkGood1', { synced: 1 }), row('pkDup\ud800', { synced: 2 }), row('pkDup\udfff', { synced: 3 }), row('x'.repeat(600)), row('pkGood2', { synced: 4 })],
    });
    const file = join(mkdtempSync(join(tmpdir(), 'collide-')), 'ids.jsonl');
    writeFileSync(file, `${line}\n`);
    const cli = await startCli(['--source', 'replay', '--replay', file, '--log-level', 'warn']);
    try {
      await waitFor(async () => ((await fetch(`${cli.base}/readyz`)).status === 200 ? true : undefined));
      const res = await fetch(`${cli.base}/metrics`, { headers: { accept: OPENMETRICS } });
      expect(res.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
      const raw = Buffer.from(await res.arrayBuffer());
      expect(checkOpenMetricsStrict(raw)).toEqual([]);
      const body = raw.toString('utf8');
      expect(valueOf(body, 'ditto_sync_rows_unusable', { reason: 'bad_id' })).toBe(3);
      expect(body).not.toContain('\ufffd');
      const peers = [...body.matchAll(/^ditto_sync_peer_synced_commit_id\{peer_id="([^"]*)"/gm)].map((m) => m[1]);
      expect(peers.sort()).toEqual(['pkGood1', 'pkGood2']);
      // A row without a usable id is left out entirely (and counted above), aggregates included.
      expect(valueOf(body, 'ditto_sync_peers', { peer_type: 'device', status: 'connected' })).toBe(2);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it('the strict checker itself rejects a body that repeats a label set', () => {
    const body = '# HELP a_b x\n# TYPE a_b gauge\na_b{peer_id="x\ufffd"} 1\na_b{peer_id="x\ufffd"} 2\n# EOF\n';
    expect(checkOpenMetricsStrict(Buffer.from(body))).toEqual(['duplicate label set a_b{peer_id=x\ufffd} in family a_b']);
    expect(checkOpenMetricsStrict(Buffer.from('# TYPE c counter\nc_total 1\n'))).toContain('the body does not end with "# EOF\\n"');
  });
});
