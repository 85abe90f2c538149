import type { Attributes } from '@opentelemetry/api';
import { DataPointType, type MetricData } from '@opentelemetry/sdk-metrics';
import { familyHeader, formatLe, formatValue } from '../exposition/format.js';
import { escapeLabelValue } from '../exposition/labels.js';
import { LoopSlicer } from '../exposition/loop-slicer.js';

/** Data points written between two looks at the clock. */
const POINTS_PER_CLOCK_CHECK = 100;

/** Attributes as label text; non-strings as JSON, as OpenTelemetry's own serializer writes them. */
function attributeText(attributes: Attributes, extra: string | undefined, scope: string): string {
  let text = '';
  for (const key in attributes) {
    const raw = attributes[key];
    if (raw === undefined) continue;
    const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
    text += `${text ? ',' : ''}${key}="${escapeLabelValue(value)}"`;
  }
  if (scope) text += `${text ? ',' : ''}${scope}`;
  if (extra) text += `${text ? ',' : ''}${extra}`;
  return text;
}

const line = (name: string, labels: string, value: number) => (labels ? `${name}{${labels}} ${formatValue(value)}\n` : `${name} ${formatValue(value)}\n`);

/**
 * Prometheus text 0.0.4 of the exporter's own metric data as the OpenTelemetry reader collected it
 * (gauges, monotonic sums, explicit-bucket histograms), handing the event loop back every
 * `sliceMs`. Names are the contract names the producer gave: nothing is renamed here. Anything
 * else is refused, so a kind this writer does not know can never be written wrongly.
 */
export async function otelMetricsText(
  metrics: readonly MetricData[],
  options: { sliceMs?: number; signal?: AbortSignal; scope?: { readonly name: string; readonly version?: string } } = {},
): Promise<string> {
  const slicer = new LoopSlicer(options.sliceMs);
  // OpenTelemetry's serializer writes the scope as the last labels when asked to; so does this writer.
  const scope = options.scope ? `otel_scope_name="${escapeLabelValue(options.scope.name)}"${options.scope.version === undefined ? '' : `,otel_scope_version="${escapeLabelValue(options.scope.version)}"`}` : '';
  const labelText = (attributes: Attributes, extra?: string) => attributeText(attributes, extra, scope);
  const parts: string[] = [];
  let untilCheck = POINTS_PER_CLOCK_CHECK;
  const paced = async () => {
    if (--untilCheck > 0) return;
    untilCheck = POINTS_PER_CLOCK_CHECK;
    await slicer.pace();
    options.signal?.throwIfAborted();
  };
  for (const metric of metrics) {
    const { name, description } = metric.descriptor;
    const lines: string[] = [];
    switch (metric.dataPointType) {
      case DataPointType.GAUGE:
      case DataPointType.SUM: {
        const type = metric.dataPointType === DataPointType.SUM ? (metric.isMonotonic ? 'counter' : 'gauge') : 'gauge';
        if (metric.dataPoints.length === 0) continue;
        lines.push(familyHeader(name, type, description, 'prometheus'));
        for (const point of metric.dataPoints) {
          lines.push(line(name, labelText(point.attributes), point.value));
          await paced();
        }
        break;
      }
      case DataPointType.HISTOGRAM: {
        if (metric.dataPoints.length === 0) continue;
        lines.push(familyHeader(name, 'histogram', description, 'prometheus'));
        for (const point of metric.dataPoints) {
          const { boundaries, counts } = point.value.buckets;
          let cumulative = 0;
          for (let i = 0; i < boundaries.length; i++) {
            cumulative += counts[i] ?? 0;
            lines.push(line(`${name}_bucket`, labelText(point.attributes, `le="${formatLe(boundaries[i]!)}"`), cumulative));
          }
          lines.push(line(`${name}_bucket`, labelText(point.attributes, 'le="+Inf"'), point.value.count));
          lines.push(line(`${name}_sum`, labelText(point.attributes), point.value.sum ?? 0));
          lines.push(line(`${name}_count`, labelText(point.attributes), point.value.count));
          await paced();
        }
        break;
      }
      default:
        throw new TypeError(`metric ${name} has data point type ${String(metric.dataPointType)}, which the exporter's writer does not write`);
    }
    parts.push(lines.join(''));
  }
  await slicer.finish();
  return parts.join('');
}
