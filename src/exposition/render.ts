import { familyEmitters, type SampleSink, type ScrapeView } from '../collectors/families.js';
import type { ExpositionFormat } from './format.js';
import { LoopSlicer, SLICE_MS } from './loop-slicer.js';
import { TextSink } from './text-sink.js';

/** Per-peer emits between two looks at the clock (reading it on every emit costs more than it saves). */
const EMITS_PER_CLOCK_CHECK = 100;

/** Visits every sample of the view, handing the event loop back at least every `sliceMs`. */
export async function visitSliced(view: ScrapeView, out: SampleSink, sliceMs = SLICE_MS): Promise<void> {
  const peers = view.snapshot?.peers ?? [];
  const slicer = new LoopSlicer(sliceMs);
  let untilCheck = EMITS_PER_CLOCK_CHECK;
  for (const family of familyEmitters()) {
    if (!family.perPeer) {
      family.emit(view, out);
      continue;
    }
    for (const peer of peers) {
      family.emitPeer(view, peer, out);
      if (--untilCheck === 0) {
        untilCheck = EMITS_PER_CLOCK_CHECK;
        await slicer.pace();
      }
    }
  }
  await slicer.finish();
}

/** The exporter's own families as exposition text. */
export async function renderFamilies(view: ScrapeView, format: ExpositionFormat): Promise<string> {
  const sink = new TextSink(format);
  await visitSliced(view, sink);
  return sink.text();
}
