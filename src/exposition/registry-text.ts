import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { escapeLabelValue } from './labels.js';
import { familyHeader, formatValue, type ExpositionFormat } from './format.js';

type AnyMetricValue = MetricValue<string> & { metricName?: string };

/**
 * Writes metrics as prom-client's registry hands them over (`getMetricsAsJSON()`: typed values with
 * the registry's default labels already applied) in either format, whatever format the registry
 * itself was made for.
 */
export function registryText(metrics: readonly MetricObjectWithValues<MetricValue<string>>[], format: ExpositionFormat): string {
  let out = '';
  for (const family of metrics) {
    if (!family.values || family.values.length === 0) continue;
    const type = String(family.type);
    out += familyHeader(family.name, type, family.help, format);
    for (const value of family.values as AnyMetricValue[]) {
      let name = value.metricName ?? family.name;
      if (format === 'openmetrics' && type === 'counter' && !name.endsWith('_total')) name += '_total';
      const text = Object.entries(value.labels as Record<string, string | number | undefined>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}="${escapeLabelValue(typeof v === 'number' ? formatValue(v) : String(v))}"`)
        .join(',');
      out += `${name}${text ? `{${text}}` : ''} ${formatValue(value.value)}\n`;
    }
  }
  return out;
}
