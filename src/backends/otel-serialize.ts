import { PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import { DataPointType, type MetricData, type ResourceMetrics, type ScopeMetrics } from '@opentelemetry/sdk-metrics';
import { LoopSlicer } from '../exposition/loop-slicer.js';

/** The constructor arguments of OpenTelemetry's PrometheusSerializer, by name. */
export interface PrometheusSerializerSettings {
  readonly prefix?: string;
  readonly appendTimestamp?: boolean;
  readonly withResourceConstantLabels?: RegExp;
  readonly withoutTargetInfo?: boolean;
  readonly withoutScopeInfo?: boolean;
}

export interface SliceOptions {
  /** Longest stretch of serializing before the event loop is handed back (ms). */
  readonly sliceMs?: number;
  /** Sample lines serialized per call, about; a single data point is never split. */
  readonly linesPerPiece?: number;
}

/**
 * Sample lines per serializer call. About 0.3 ms of work here: small enough that the 2 ms budget
 * is overshot by little, big enough that a few-hundred-line body is one call, as before.
 */
export const LINES_PER_PIECE = 256;

/** What PrometheusSerializer writes in place of an empty body (its NO_REGISTERED_METRICS). */
const NO_REGISTERED_METRICS = '# no registered metrics';

/** A metric, or a run of its data points, with the scope it was collected under. */
interface Piece {
  readonly scope: ScopeMetrics['scope'];
  readonly metric: MetricData;
  readonly lines: number;
  /** Set on every run of a split metric after its first: the header its output starts with. */
  readonly repeatedHeader?: string;
}

/**
 * OpenTelemetry's PrometheusSerializer, run in pieces with the event loop handed back every
 * `SLICE_MS`, as the text writer does (src/exposition/loop-slicer.ts). `serialize()` in one call
 * blocks the loop for the whole body: about 200 ms at 10,000 peers.
 *
 * The output is byte for byte what `whole.serialize(resourceMetrics)` returns. That method writes
 * `target_info` (when enabled), then for each scope and each metric its header lines
 * (`# HELP`, `# UNIT` when the unit is set, `# TYPE`), its data points and a newline, or
 * `# no registered metrics` when no metric wrote anything. Every data point is written on its own,
 * so a metric's points can be cut into runs: each run goes through the public `serialize()` with
 * the same settings, and runs after the first drop the header lines they repeat. Only the first
 * piece may write `target_info`. A body that fits in one piece is one `serialize()` call.
 */
export class SlicedPrometheusSerializer {
  /** The serializer whose single call the output equals. */
  readonly whole: PrometheusSerializer;
  /** The same settings without `target_info`, for every piece after the first. */
  private readonly rest: PrometheusSerializer;

  constructor(settings: PrometheusSerializerSettings = {}) {
    const { prefix, appendTimestamp = false, withResourceConstantLabels, withoutTargetInfo = false, withoutScopeInfo = false } = settings;
    this.whole = new PrometheusSerializer(prefix, appendTimestamp, withResourceConstantLabels, withoutTargetInfo, withoutScopeInfo);
    this.rest = new PrometheusSerializer(prefix, appendTimestamp, withResourceConstantLabels, true, withoutScopeInfo);
  }

  async serialize(resourceMetrics: ResourceMetrics, options: SliceOptions = {}): Promise<string> {
    const slicer = new LoopSlicer(options.sliceMs);
    const { resource } = resourceMetrics;
    let body = '';
    let calls = 0;
    let wroteMetrics = false;
    for (const batch of this.batches(resourceMetrics, options.linesPerPiece ?? LINES_PER_PIECE)) {
      const serializer = calls++ === 0 ? this.whole : this.rest;
      let text = serializer.serialize({ resource, scopeMetrics: scopeMetricsOf(batch) });
      // Metric text always ends in a newline, so the placeholder means this piece wrote none.
      if (text.endsWith(NO_REGISTERED_METRICS)) text = text.slice(0, -NO_REGISTERED_METRICS.length);
      else wroteMetrics = true;
      const header = batch[0]!.repeatedHeader;
      if (header !== undefined) {
        // A serializer that writes a run otherwise is not the one this file was checked against.
        if (!text.startsWith(header)) {
          throw new Error(`PrometheusSerializer wrote a run of ${batch[0]!.metric.descriptor.name} without its header lines: src/backends/otel-serialize.ts does not match this @opentelemetry/exporter-prometheus`);
        }
        text = text.slice(header.length);
      }
      body += text;
      await slicer.pace();
    }
    // No metric at all: target_info (when enabled) and the placeholder, from the one call.
    if (calls === 0) return this.whole.serialize(resourceMetrics);
    await slicer.finish();
    return wroteMetrics ? body : body + NO_REGISTERED_METRICS;
  }

  /** Pieces grouped up to `linesPerPiece` lines, one serializer call each; a later run of a metric starts a group. */
  private *batches(resourceMetrics: ResourceMetrics, linesPerPiece: number): Generator<Piece[]> {
    let batch: Piece[] = [];
    let lines = 0;
    for (const piece of this.pieces(resourceMetrics, linesPerPiece)) {
      if (batch.length > 0 && (piece.repeatedHeader !== undefined || lines + piece.lines > linesPerPiece)) {
        yield batch;
        batch = [];
        lines = 0;
      }
      batch.push(piece);
      lines += piece.lines;
    }
    if (batch.length > 0) yield batch;
  }

  /** Every metric whole, or cut into runs of data points when it has more lines than a piece. */
  private *pieces(resourceMetrics: ResourceMetrics, linesPerPiece: number): Generator<Piece> {
    for (const { scope, metrics } of resourceMetrics.scopeMetrics) {
      for (const metric of metrics) {
        const weights = pointLines(metric);
        const total = weights?.reduce((a, b) => a + b, 0) ?? metric.dataPoints.length;
        const header = weights && total > linesPerPiece && metric.dataPoints.length > 1 ? this.header(resourceMetrics.resource, scope, metric) : undefined;
        if (!weights || header === undefined) {
          yield { scope, metric, lines: total };
          continue;
        }
        let from = 0;
        while (from < weights.length) {
          let to = from;
          let lines = 0;
          while (to < weights.length && (to === from || lines + weights[to]! <= linesPerPiece)) lines += weights[to++]!;
          const run = { ...metric, dataPoints: metric.dataPoints.slice(from, to) } as MetricData;
          yield { scope, metric: run, lines, ...(from > 0 ? { repeatedHeader: header } : {}) };
          from = to;
        }
      }
    }
  }

  /**
   * The metric's header lines as the serializer writes them for the metric with no points
   * (`# HELP …\n[# UNIT …\n]# TYPE …\n`); undefined when it writes nothing for this metric (a name
   * it cannot use), which is then left whole.
   */
  private header(resource: Resource, scope: ScopeMetrics['scope'], metric: MetricData): string | undefined {
    const empty = { ...metric, dataPoints: [] } as MetricData;
    const text = this.rest.serialize({ resource, scopeMetrics: [{ scope, metrics: [empty] }] });
    return text.endsWith('\n') ? text : undefined;
  }
}

/** Lines per data point where points can be written separately; undefined for other kinds. */
function pointLines(metric: MetricData): number[] | undefined {
  switch (metric.dataPointType) {
    case DataPointType.GAUGE:
    case DataPointType.SUM:
      return metric.dataPoints.map(() => 1);
    case DataPointType.HISTOGRAM:
      return metric.dataPoints.map((p) => p.value.buckets.counts.length + 2);
    default:
      return undefined;
  }
}

function scopeMetricsOf(batch: readonly Piece[]): ScopeMetrics[] {
  const out: { scope: ScopeMetrics['scope']; metrics: MetricData[] }[] = [];
  for (const { scope, metric } of batch) {
    const last = out[out.length - 1];
    if (last && last.scope === scope) last.metrics.push(metric);
    else out.push({ scope, metrics: [metric] });
  }
  return out;
}
