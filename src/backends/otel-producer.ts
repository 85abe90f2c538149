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
import type { FamilyDef } from '../catalogue.js';
import type { SampleSink, ScrapeView } from '../collectors/families.js';
import type { LabelSet } from '../exposition/labels.js';
import { visitSliced } from '../exposition/render.js';
import { EXPORTER_VERSION } from '../version.js';

/** The instrumentation scope of every ditto_sync_* metric in OpenTelemetry output. */
export const OTEL_SCOPE = Object.freeze({ name: 'ditto-sync-exporter', version: EXPORTER_VERSION });

/**
 * OpenTelemetry descriptor of a contract family. The name is the contract name as it is and the
 * unit is the catalogue's ('s' for seconds, '' otherwise): the Prometheus exporter appends no
 * unit suffix, every counter already ends in `_total`, and OTLP→Prometheus translators that add
 * `_seconds`/`_total` find them present, so every path yields the contract name.
 */
export function otelDescriptor(def: FamilyDef): MetricDescriptor {
  return { name: def.name, description: def.help, unit: def.unit ?? '', valueType: ValueType.DOUBLE };
}

const hrTime = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

interface HistogramSeries {
  attributes: Attributes;
  /** Cumulative count per `le` as the family emitter writes it. */
  readonly cumulative: Map<string, number>;
  sum: number;
  count: number;
}

/** Turns the family emitters' samples back into OpenTelemetry metric data, one family at a time. */
class OtelSink implements SampleSink {
  /** Families in the order their first sample arrived (the emitters' exposition order). */
  private readonly order: FamilyDef[] = [];
  private readonly points = new Map<FamilyDef, DataPoint<number>[]>();
  private readonly histograms = new Map<FamilyDef, Map<string, HistogramSeries>>();

  constructor(
    private readonly startTime: HrTime,
    private readonly endTime: HrTime,
  ) {}

  sample(def: FamilyDef, name: string, labels: LabelSet, value: number | bigint, extra?: LabelSet): void {
    if (def.type === 'histogram') return this.histogramSample(def, name, labels, Number(value), extra);
    let points = this.points.get(def);
    if (!points) {
      this.points.set(def, (points = []));
      this.order.push(def);
    }
    const attributes = extra && extra.text ? { ...labels.pairs, ...extra.pairs } : labels.pairs;
    points.push({ startTime: this.startTime, endTime: this.endTime, attributes, value: Number(value) });
  }

  private histogramSample(def: FamilyDef, name: string, labels: LabelSet, value: number, extra?: LabelSet): void {
    const pairs: Record<string, string> = extra ? { ...labels.pairs, ...extra.pairs } : { ...labels.pairs };
    const le = pairs['le'];
    delete pairs['le'];
    const key = Object.keys(pairs)
      .sort()
      .map((k) => `${k}\u0000${pairs[k]}`)
      .join('\u0001');
    let series = this.histograms.get(def);
    if (!series) {
      this.histograms.set(def, (series = new Map()));
      this.order.push(def);
    }
    let s = series.get(key);
    if (!s) series.set(key, (s = { attributes: pairs, cumulative: new Map(), sum: 0, count: 0 }));
    if (name === `${def.name}_bucket` && le !== undefined) s.cumulative.set(le, value);
    else if (name === `${def.name}_sum`) s.sum = value;
    else if (name === `${def.name}_count`) s.count = value;
    else throw new Error(`unexpected sample ${name} in histogram ${def.name}`);
  }

  /** Metric data in the order the families were visited; families without samples are left out. */
  metrics(): MetricData[] {
    return this.order.map((def) => this.metric(def));
  }

  private metric(def: FamilyDef): MetricData {
    const descriptor = otelDescriptor(def);
    const aggregationTemporality = AggregationTemporality.CUMULATIVE;
    const series = this.histograms.get(def);
    if (series) {
      const dataPoints = [...series.values()].map((s) => ({
        startTime: this.startTime,
        endTime: this.endTime,
        attributes: s.attributes,
        value: toHistogramValue(def, s),
      }));
      return { descriptor, aggregationTemporality, dataPointType: DataPointType.HISTOGRAM, dataPoints };
    }
    const dataPoints = this.points.get(def)!;
    if (def.type === 'counter') return { descriptor, aggregationTemporality, dataPointType: DataPointType.SUM, isMonotonic: true, dataPoints };
    return { descriptor, aggregationTemporality, dataPointType: DataPointType.GAUGE, dataPoints };
  }
}

/** Cumulative `le` buckets → OpenTelemetry's explicit boundaries and per-bucket counts. */
function toHistogramValue(def: FamilyDef, s: HistogramSeries): Histogram {
  const finite = [...s.cumulative.keys()]
    .filter((le) => le !== '+Inf')
    .map((le) => ({ le, bound: Number(le) }))
    .sort((a, b) => a.bound - b.bound);
  const boundaries: number[] = [];
  const counts: number[] = [];
  let previous = 0;
  for (const { le, bound } of finite) {
    const cumulative = s.cumulative.get(le)!;
    if (!Number.isFinite(bound) || cumulative < previous) throw new Error(`histogram ${def.name} has an unusable bucket le="${le}"`);
    boundaries.push(bound);
    counts.push(cumulative - previous);
    previous = cumulative;
  }
  const total = s.cumulative.get('+Inf') ?? s.count;
  if (total < previous) throw new Error(`histogram ${def.name}: +Inf bucket below the last finite bucket`);
  counts.push(total - previous);
  return { buckets: { boundaries, counts }, sum: s.sum, count: s.count };
}

/**
 * A MetricProducer that builds every ditto_sync_* family afresh from the current ScrapeView at each
 * collection, through the same family emitters the text writer uses. Nothing is kept between
 * collections, so a peer absent from the view is absent from the output: this is how the OTel
 * backend avoids open-telemetry/opentelemetry-js#4096, where observable instruments keep exporting
 * attribute sets they saw once.
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
