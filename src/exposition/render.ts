import { EMITTERS, isItemFamily, type FamilyEmitter, type ScrapeView } from '../collectors/families/index.js';
import type { SampleSink } from '../collectors/samples.js';
import type { ExpositionFormat } from './format.js';
import type { LabelSet } from './labels.js';
import { LoopSlicer, SLICE_MS } from './loop-slicer.js';
import type { ByteWriter } from './byte-writer.js';
import { TextSink } from './text-sink.js';

/** Per-item emits between two looks at the clock (reading it on every emit costs more than it saves). */
const EMITS_PER_CLOCK_CHECK = 100;

export interface VisitOptions {
  readonly sliceMs?: number;
  /** Checked between slices: once aborted, the visit stops with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly emitters?: readonly FamilyEmitter[];
}

/** Visits every sample of the view, handing the event loop back at least every `sliceMs`. */
export async function visitSliced(view: ScrapeView, out: SampleSink, options: VisitOptions = {}): Promise<void> {
  const slicer = new LoopSlicer(options.sliceMs ?? SLICE_MS);
  const signal = options.signal;
  let untilCheck = EMITS_PER_CLOCK_CHECK;
  for (const family of options.emitters ?? EMITTERS) {
    if (!isItemFamily(family)) {
      family.emit(view, out);
      continue;
    }
    for (const item of family.items(view)) {
      family.emitItem(view, item, out);
      if (--untilCheck === 0) {
        untilCheck = EMITS_PER_CLOCK_CHECK;
        await slicer.pace();
        signal?.throwIfAborted();
      }
    }
  }
  await slicer.finish();
}

/** The exporter's own families as exposition text, written into `writer`. */
export async function renderFamiliesInto(writer: ByteWriter, view: ScrapeView, format: ExpositionFormat, options: VisitOptions & { constLabels?: LabelSet } = {}): Promise<void> {
  const sink = new TextSink(format, { constLabels: options.constLabels, writer });
  await visitSliced(view, sink, options);
  sink.end();
}

/** The exporter's own families as exposition text. */
export async function renderFamilies(view: ScrapeView, format: ExpositionFormat, options: VisitOptions & { constLabels?: LabelSet } = {}): Promise<string> {
  const sink = new TextSink(format, { constLabels: options.constLabels });
  await visitSliced(view, sink, options);
  return sink.text();
}
