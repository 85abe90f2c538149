import { performance } from 'node:perf_hooks';
import { familyEmitters, type SampleSink, type ScrapeView } from '../collectors/families.js';
import type { ExpositionFormat } from './format.js';
import { TextSink } from './text-sink.js';

/**
 * Longest a scrape keeps the event loop while writing per-peer series before handing it back (ms).
 * A time budget rather than a count of peers: the same count blocks several times longer on a
 * small edge device than here, and a 1,000-peer body that takes 2 ms needs no yield at all.
 */
export const SLICE_MS = 2;
/** Per-peer emits between two looks at the clock (reading it on every emit costs more than it saves). */
const EMITS_PER_CLOCK_CHECK = 100;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Visits every sample of the view, handing the event loop back at least every `sliceMs`. */
export async function visitSliced(view: ScrapeView, out: SampleSink, sliceMs = SLICE_MS): Promise<void> {
  const peers = view.snapshot?.peers ?? [];
  let sliceStart = performance.now();
  let untilCheck = EMITS_PER_CLOCK_CHECK;
  let yielded = false;
  for (const family of familyEmitters()) {
    if (!family.perPeer) {
      family.emit(view, out);
      continue;
    }
    for (const peer of peers) {
      family.emitPeer(view, peer, out);
      if (--untilCheck === 0) {
        untilCheck = EMITS_PER_CLOCK_CHECK;
        if (performance.now() - sliceStart >= sliceMs) {
          await yieldToLoop();
          yielded = true;
          sliceStart = performance.now();
        }
      }
    }
  }
  // A body big enough to need slices is also slow to send: keep its last slice and the caller's
  // write out of one stretch.
  if (yielded) await yieldToLoop();
}

/** The exporter's own families as exposition text. */
export async function renderFamilies(view: ScrapeView, format: ExpositionFormat): Promise<string> {
  const sink = new TextSink(format);
  await visitSliced(view, sink);
  return sink.text();
}
