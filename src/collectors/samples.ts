import type { FamilyDef } from '../catalogue/index.js';
import type { LabelSet } from '../exposition/labels.js';
import type { HistogramData } from './histogram.js';

/**
 * Receives the typed samples of one scrape. The Prometheus text writer, the prom-client bridge and
 * the OpenTelemetry producer each implement it; none of them parses text back.
 */
export interface SampleSink {
  /** One gauge, counter or untyped value; `extra` labels are written after `labels`. */
  value(def: FamilyDef, labels: LabelSet, value: number | bigint, extra?: LabelSet): void;
  /** One histogram series: numeric upper bounds and per-bucket (not cumulative) counts, +Inf last. */
  histogram(def: FamilyDef, labels: LabelSet, data: HistogramData): void;
}
