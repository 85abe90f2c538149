import { familyEmitters, type SampleSink, type ScrapeView } from '../collectors/families.js';
import type { ExpositionFormat } from './format.js';
import { TextSink } from './text-sink.js';

/** Per-peer emits between two yields to the event loop: keeps a 10,000-peer scrape from blocking. */
export const PEER_EMITS_PER_SLICE = 4000;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Visits every sample of the view, handing the event loop back between slices of peers. */
export async function visitSliced(view: ScrapeView, out: SampleSink, slice = PEER_EMITS_PER_SLICE): Promise<void> {
  let budget = slice;
  const peers = view.snapshot?.peers ?? [];
  for (const family of familyEmitters()) {
    if (!family.perPeer) {
      family.emit(view, out);
      continue;
    }
    for (const peer of peers) {
      family.emitPeer(view, peer, out);
      if (--budget === 0) {
        budget = slice;
        await yieldToLoop();
      }
    }
  }
}

/** The exporter's own families as exposition text. */
export async function renderFamilies(view: ScrapeView, format: ExpositionFormat): Promise<string> {
  const sink = new TextSink(format);
  await visitSliced(view, sink);
  return sink.text();
}
