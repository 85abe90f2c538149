import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { emptyResource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricDescriptor,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { FamilyDef } from '../catalogue/index.js';
import type { ScrapeView } from '../collectors/families/index.js';
import type { HistogramData } from '../collectors/histogram.js';
import type { SampleSink } from '../collectors/samples.js';
import type { LabelSet } from '../exposition/labels.js';
import { visitSliced } from '../exposition/render.js';
import { EXPORTER_VERSION } from '../version.js';

/** The instrumentation scope of every family the exporter produces in OpenTelemetry output. */
export const OTEL_SCOPE = Object.freeze({ name: 'ditto-sync-exporter', version: EXPORTER_VERSION });

/**
 * OpenTelemetry descriptor of a contract family. The name is the contract name as it is and the
 * unit is the catalogue's ('s' for seconds, '' otherwise): every counter already ends in `_total`,
 * and OTLP→Prometheus translators that add `_seconds`/`_total` find them present, so every path
 * yields the contract name.
 */
export function otelDescriptor(def: FamilyDef): MetricDescriptor {
  return { name: def.name, description: def.help, unit: def.unit ?? '', valueType: ValueType.DOUBLE };
}

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

const attributesOf = (labels: LabelSet, extra?: LabelSet): Attributes => (extra && extra.text ? { ...labels.pairs, ...extra.pairs } : labels.pairs);

/** Builds OpenTelemetry metric data from typed samples, one family at a time, in the order they arrive. */
class OtelSink implements SampleSink {
  private readonly order: FamilyDef[] = [];
  private readonly points = new Map<FamilyDef, DataPoint<number | Histogram>[]>();

  constructor(
    private readonly startTime: HrTime,
    private readonly endTime: HrTime,
  ) {}

  value(def: FamilyDef, labels: LabelSet, value: number | bigint, extra?: LabelSet): void {
    this.pointsOf(def).push({ startTime: this.startTime, endTime: this.endTime, attributes: attributesOf(labels, extra), value: Number(value) });
  }

  histogram(def: FamilyDef, labels: LabelSet, data: HistogramData): void {
    const value: Histogram = { buckets: { boundaries: [...data.bounds], counts: [...data.counts] }, sum: data.sum, count: data.count };
    this.pointsOf(def).push({ startTime: this.startTime, endTime: this.endTime, attributes: attributesOf(labels), value });
  }

  private pointsOf(def: FamilyDef): DataPoint<number | Histogram>[] {
    let points = this.points.get(def);
    if (!points) {
      this.points.set(def, (points = []));
      this.order.push(def);
    }
    return points;
  }

  /** Metric data in the order the families were visited; families without samples are left out. */
  metrics(): MetricData[] {
    return this.order.map((def) => {
      const descriptor = otelDescriptor(def);
      const aggregationTemporality = AggregationTemporality.CUMULATIVE;
      const dataPoints = this.points.get(def)!;
      if (def.type === 'histogram') return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints: dataPoints as DataPoint<Histogram>[] };
      if (def.type === 'counter') return { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints: dataPoints as DataPoint<number>[] };
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints: dataPoints as DataPoint<number>[] };
    });
  }
}

/**
 * A MetricProducer that builds every family afresh from the current ScrapeView at each collection,
 * from the same typed samples the text writer gets. Nothing is kept between collections, so a peer
 * absent from the view is absent from the output: this is how the OTel backend avoids
 * open-telemetry/opentelemetry-js#4096, where observable instruments keep exporting attribute sets
 * they saw once.
 *
 * Every point is cumulative with the producer's creation as start time; counters are monotonic
 * sums, so a reader with delta preference still receives cumulative data from this producer.
 */
export class ViewMetricProducer implements MetricProducer {
  private readonly startMs: number;

  constructor(
    private readonly view: () => ScrapeView,
    private readonly clockMs: () => number = Date.now,
  ) {
    this.startMs = clockMs();
  }

  async collect(): Promise<CollectionResult> {
    const view = this.view();
    const sink = new OtelSink(hrTime(this.startMs), hrTime(this.clockMs()));
    await visitSliced(view, sink);
    return {
      // Readers replace a producer's resource with their MeterProvider's.
      resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: OTEL_SCOPE, metrics: sink.metrics() }] },
      errors: [],
    };
  }
}
