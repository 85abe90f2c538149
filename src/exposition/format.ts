import type { FamilyDef } from '../catalogue/index.js';

export type ExpositionFormat = 'prometheus' | 'openmetrics';
export const EXPOSITION_FORMATS: readonly ExpositionFormat[] = ['prometheus', 'openmetrics'];

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

export function formatValue(value: number | bigint): string {
  // 0 and 1 are most samples (status sets, info gauges): no conversion for them.
  if (value === 0) return '0';
  if (value === 1) return '1';
  if (typeof value === 'bigint') return value.toString();
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** `le` values as Prometheus' Go client writes them. */
export function formatLe(bound: number): string {
  return bound === Infinity ? '+Inf' : String(bound);
}

export function escapeHelp(help: string, format: ExpositionFormat): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? escaped.replace(/"/g, '\\"') : escaped;
}

/** The TYPE word: OpenMetrics calls untyped `unknown`. */
function typeWord(type: string, format: ExpositionFormat): string {
  return format === 'openmetrics' && type === 'untyped' ? 'unknown' : type;
}

/** OpenMetrics names a counter family without its `_total`; its samples keep it. */
export function familyName(name: string, type: string, format: ExpositionFormat): string {
  return format === 'openmetrics' && type === 'counter' && name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}

/**
 * The name a gauge, counter or untyped family's samples carry. Prometheus text writes a counter's
 * samples under the family name as declared; OpenMetrics always ends them in `_total`.
 */
export function sampleName(def: Pick<FamilyDef, 'name' | 'type'>, format: ExpositionFormat): string {
  if (format === 'openmetrics' && def.type === 'counter' && !def.name.endsWith('_total')) return `${def.name}_total`;
  return def.name;
}

export function familyHeader(name: string, type: string, help: string, format: ExpositionFormat): string {
  const n = familyName(name, type, format);
  return `# HELP ${n} ${escapeHelp(help, format)}\n# TYPE ${n} ${typeWord(type, format)}\n`;
}

const headerCache: Record<ExpositionFormat, WeakMap<FamilyDef, string>> = { prometheus: new WeakMap(), openmetrics: new WeakMap() };

export function headerFor(def: FamilyDef, format: ExpositionFormat): string {
  let header = headerCache[format].get(def);
  if (header === undefined) {
    header = familyHeader(def.name, def.type, def.help, format);
    headerCache[format].set(def, header);
  }
  return header;
}
