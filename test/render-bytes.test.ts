/**
 * The server sends scrapeBytes(): the body encoded chunk by chunk, an all-ASCII chunk as a plain
 * copy. It must be byte for byte the UTF-8 of the string body, non-ASCII text included.
 */
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { TextSink } from '../src/exposition/text-sink.js';
import { F } from '../src/catalogue/index.js';
import { labelSet, type LabelSet } from '../src/exposition/labels.js';
import { replayed } from './helpers/replay-exporter.js';

const PRESENCE = new URL('./fixtures/presence.jsonl', import.meta.url).pathname;

describe('bytes on the wire', () => {
  it.each(['prometheus', 'openmetrics'] as const)('equal the UTF-8 of the %s string body, with non-ASCII device names and default labels', async (format) => {
    const registry = new Registry();
    registry.setDefaultLabels({ site: 'Zürich' });
    // An app metric of its own (process metrics would change between the two scrapes compared).
    new Gauge({ name: 'app_queue_depth', help: 'Depth — of the queue', labelNames: ['queue'], registers: [registry] }).set({ queue: 'Café' }, 3);
    const exporter = await replayed(PRESENCE, { registry });
    try {
      const text = (await exporter.scrape(format)).body;
      expect(text).toContain('Zoë');
      expect(text).toContain('site="Zürich"');
      expect(text).toContain('app_queue_depth{queue="Café",site="Zürich"} 3');
      const bytes = (await exporter.scrapeBytes(format)).body;
      expect(bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
    } finally {
      await exporter.close();
    }
  });

  it('encode a chunk as UTF-8 when a label set does not say it is ASCII, and as a copy when it is', () => {
    // A label set made by hand, without the ascii flag, whose text is not ASCII.
    const handMade: LabelSet = { pairs: { name: 'Ωmega' }, text: 'name="Ωmega"' };
    const sink = new TextSink('prometheus', { output: 'buffer' });
    sink.value(F.connectedPeers, handMade, 1);
    sink.value(F.connectedPeers, labelSet({ name: 'plain' }), 2);
    const body = Buffer.concat(sink.bytes()).toString('utf8');
    expect(body).toContain('ditto_sync_connected_peers{name="Ωmega"} 1\n');
    expect(body).toContain('ditto_sync_connected_peers{name="plain"} 2\n');
  });

  it('are one chunk per 512 lines, so no body is one megabyte string to flatten', () => {
    const sink = new TextSink('prometheus', { output: 'buffer' });
    for (let i = 0; i < 2000; i++) sink.value(F.peerStatus, labelSet({ peer_id: `p${i}` }), 1);
    expect(sink.bytes().length).toBe(4);
  });
});
