import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { escapeLabelValue } from './labels.js';
import { familyHeader, formatValue, type ExpositionFormat } from './format.js';

type AnyMetricValue = MetricValue<string> & { metricName?: string };
interface CollectableMetric {
  readonly name: string;
  get(): Promise<MetricObjectWithValues<AnyMetricValue>>;
}

/**
 * Serializes the metrics of a prom-client registry (process metrics, the user's own) in either
 * format, skipping the families the exporter writes itself.
 */
export async function registryText(registry: Registry, format: ExpositionFormat, skip: (metric: unknown) => boolean): Promise<string> {
  const defaultLabels = readDefaultLabels(registry);
  // The typings hide it, but every registered metric has an async get().
  const metrics = (registry.getMetricsAsArray() as unknown as CollectableMetric[]).filter((m) => !skip(m));
  const families = await Promise.all(metrics.map((m) => m.get()));
  let out = '';
  for (const family of families) {
    if (!family.values || family.values.length === 0) continue;
    const type = String(family.type);
    out += familyHeader(family.name, type, family.help, format);
    for (const value of family.values) {
      let name = value.metricName ?? family.name;
      if (format === 'openmetrics' && type === 'counter' && !name.endsWith('_total')) name += '_total';
      const labels = { ...defaultLabels, ...(value.labels as Record<string, string | number>) };
      const text = Object.entries(labels)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}="${escapeLabelValue(formatLabelValue(v))}"`)
        .join(',');
      out += `${name}${text ? `{${text}}` : ''} ${formatValue(value.value)}\n`;
    }
  }
  return out;
}

function formatLabelValue(v: string | number): string {
  if (typeof v === 'number') return formatValue(v);
  return String(v);
}

/** prom-client keeps registry default labels private; honour them when a user set some. */
function readDefaultLabels(registry: Registry): Record<string, string> {
  const labels = (registry as unknown as { _defaultLabels?: Record<string, string> })._defaultLabels;
  return labels && typeof labels === 'object' ? labels : {};
}
