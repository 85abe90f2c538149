import type { FamilyDef } from '../catalogue.js';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const CONTENT_TYPES: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};

/** OpenMetrics only when the scraper asks for it, as Prometheus does with its Accept header. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return accept && /application\/openmetrics-text/i.test(accept) ? 'openmetrics' : 'prometheus';
}

export function formatValue(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function escapeHelp(help: string, format: ExpositionFormat): string {
  const escaped = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return format === 'openmetrics' ? escaped.replace(/"/g, '\\"') : escaped;
}

/** OpenMetrics names a counter family without its `_total`; its samples keep it. */
export function familyName(name: string, type: string, format: ExpositionFormat): string {
  return format === 'openmetrics' && type === 'counter' && name.endsWith('_total') ? name.slice(0, -'_total'.length) : name;
}

export function familyHeader(name: string, type: string, help: string, format: ExpositionFormat): string {
  const n = familyName(name, type, format);
  return `# HELP ${n} ${escapeHelp(help, format)}\n# TYPE ${n} ${type}\n`;
}

const headerCache: Record<ExpositionFormat, Map<FamilyDef, string>> = { prometheus: new Map(), openmetrics: new Map() };

export function headerFor(def: FamilyDef, format: ExpositionFormat): string {
  let header = headerCache[format].get(def);
  if (header === undefined) {
    header = familyHeader(def.name, def.type, def.help, format);
    headerCache[format].set(def, header);
  }
  return header;
}
