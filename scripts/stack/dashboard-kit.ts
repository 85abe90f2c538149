/**
 * A small typed builder for the Grafana dashboard JSON this repository ships (schemaVersion 39,
 * Grafana 10.4+). It writes only what the dashboards use, so the output stays reviewable.
 */
import { GRAFANA } from './config.js';

export const DATASOURCE = Object.freeze({ type: 'prometheus', uid: '${datasource}' });

export interface Query {
  readonly expr: string;
  readonly legend?: string;
  /** Instant query in table form, for table panels. */
  readonly table?: boolean;
}

export interface Threshold {
  readonly color: string;
  /** null for the base step. */
  readonly value: number | null;
}

export type ValueMapping = Readonly<Record<string, { readonly text: string; readonly color: string }>>;

interface PanelBase {
  readonly title: string;
  /** One or two sentences: what the panel shows and what a bad value means. */
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly thresholds?: readonly Threshold[];
  readonly mappings?: ValueMapping;
  readonly decimals?: number;
  readonly min?: number;
  /** Grid width (of 24) and height. */
  readonly w: number;
  readonly h: number;
}

export interface TimeseriesPanel extends PanelBase {
  readonly type: 'timeseries';
  readonly stacked?: boolean;
  /** Draw the thresholds as dashed lines. */
  readonly thresholdLines?: boolean;
}
export interface StatPanel extends PanelBase {
  readonly type: 'stat';
  /** Show the series name (from the legend) instead of its value. */
  readonly showName?: boolean;
}
export interface StateTimelinePanel extends PanelBase {
  readonly type: 'state-timeline';
}
export interface TablePanel extends PanelBase {
  readonly type: 'table';
  /** Column names for the merged table: each query's value column, then the label columns. */
  readonly columns: { readonly values: readonly string[]; readonly labels: Readonly<Record<string, string>> };
  /** Per value column, a unit other than the panel's. */
  readonly columnUnits?: Readonly<Record<string, string>>;
  readonly columnMappings?: Readonly<Record<string, ValueMapping>>;
}
export interface RowPanel {
  readonly type: 'row';
  readonly title: string;
}

export type PanelSpec = TimeseriesPanel | StatPanel | StateTimelinePanel | TablePanel | RowPanel;

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  /** `label_values(selector, label)`; ignored for the datasource variable. */
  readonly query?: string;
  readonly multi?: boolean;
}

export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly VariableSpec[];
  readonly panels: readonly PanelSpec[];
}

type Json = Record<string, unknown>;

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targets(queries: readonly Query[]): Json[] {
  return queries.map((q, i) => ({
    datasource: DATASOURCE,
    refId: REF_IDS[i],
    expr: q.expr,
    legendFormat: q.legend ?? '__auto',
    range: !q.table,
    instant: !!q.table,
    format: q.table ? 'table' : 'time_series',
    editorMode: 'code',
  }));
}

function mappingList(mapping: ValueMapping | undefined): Json[] {
  if (!mapping) return [];
  const options: Json = {};
  Object.entries(mapping).forEach(([value, m], index) => (options[value] = { text: m.text, color: m.color, index }));
  return [{ type: 'value', options }];
}

function fieldDefaults(p: Exclude<PanelSpec, RowPanel>, custom?: Json): Json {
  const defaults: Json = {
    unit: p.unit,
    color: { mode: p.type === 'timeseries' ? 'palette-classic' : 'thresholds' },
    thresholds: { mode: 'absolute', steps: p.thresholds ?? [{ color: 'green', value: null }] },
    mappings: mappingList(p.mappings),
  };
  if (p.decimals !== undefined) defaults['decimals'] = p.decimals;
  if (p.min !== undefined) defaults['min'] = p.min;
  if (custom) defaults['custom'] = custom;
  return defaults;
}

const legend = { displayMode: 'list', placement: 'bottom', showLegend: true };
const tooltip = { mode: 'multi', sort: 'desc' };

function panelJson(p: Exclude<PanelSpec, RowPanel>, id: number, gridPos: Json): Json {
  const base = { id, type: p.type, title: p.title, description: p.description, gridPos, datasource: DATASOURCE, targets: targets(p.queries) };
  switch (p.type) {
    case 'timeseries':
      return {
        ...base,
        fieldConfig: {
          defaults: fieldDefaults(p, {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: p.stacked ? 60 : 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: p.stacked ? 'normal' : 'none', group: 'A' },
            thresholdsStyle: { mode: p.thresholdLines ? 'dashed' : 'off' },
          }),
          overrides: [],
        },
        options: { legend, tooltip },
      };
    case 'stat':
      return {
        ...base,
        fieldConfig: { defaults: fieldDefaults(p), overrides: [] },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          colorMode: p.showName ? 'none' : 'value',
          graphMode: 'none',
          justifyMode: 'auto',
          orientation: 'auto',
          textMode: p.showName ? 'name' : 'auto',
          wideLayout: true,
        },
      };
    case 'state-timeline':
      return {
        ...base,
        fieldConfig: { defaults: fieldDefaults(p, { fillOpacity: 80, lineWidth: 0 }), overrides: [] },
        options: { mergeValues: true, showValue: 'never', alignValue: 'left', rowHeight: 0.9, legend, tooltip: { mode: 'single', sort: 'none' } },
      };
    case 'table': {
      // Grafana names each instant query's value column "Value #<refId>"; organize keys on those names.
      const valueFields = p.columns.values.map((_, i) => (p.queries.length > 1 ? `Value #${REF_IDS[i]}` : 'Value'));
      const rename: Record<string, string> = { ...p.columns.labels };
      valueFields.forEach((field, i) => (rename[field] = p.columns.values[i]!));
      const order = [...Object.keys(p.columns.labels), ...valueFields];
      const overrides = [
        ...Object.entries(p.columnUnits ?? {}).map(([column, unit]) => ({
          matcher: { id: 'byName', options: column },
          properties: [{ id: 'unit', value: unit }],
        })),
        ...Object.entries(p.columnMappings ?? {}).map(([column, mapping]) => ({
          matcher: { id: 'byName', options: column },
          properties: [
            { id: 'mappings', value: mappingList(mapping) },
            { id: 'custom.cellOptions', value: { type: 'color-background' } },
          ],
        })),
      ];
      return {
        ...base,
        fieldConfig: { defaults: fieldDefaults(p, { align: 'auto', cellOptions: { type: 'auto' } }), overrides },
        options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], countRows: false, fields: '' } },
        transformations: [
          { id: 'merge', options: {} },
          {
            id: 'organize',
            options: {
              excludeByName: { Time: true },
              indexByName: Object.fromEntries(order.map((name, i) => [name, i])),
              renameByName: rename,
            },
          },
        ],
      };
    }
  }
}

/** Flows panels left to right over 24 columns; a row starts a new line and spans the width. */
function layout(panels: readonly PanelSpec[]): Json[] {
  const out: Json[] = [];
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  panels.forEach((p, i) => {
    const id = i + 1;
    if (p.type === 'row') {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
      out.push({ id, type: 'row', title: p.title, collapsed: false, gridPos: { x: 0, y, w: 24, h: 1 }, panels: [] });
      y += 1;
      return;
    }
    if (x + p.w > 24) {
      y += lineHeight;
      x = 0;
      lineHeight = 0;
    }
    out.push(panelJson(p, id, { x, y, w: p.w, h: p.h }));
    x += p.w;
    lineHeight = Math.max(lineHeight, p.h);
  });
  return out;
}

function variableJson(v: VariableSpec): Json {
  if (!v.query) {
    return { name: v.name, label: v.label, type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [], includeAll: false, multi: false };
  }
  return {
    name: v.name,
    label: v.label,
    type: 'query',
    datasource: DATASOURCE,
    // The classic string form: every Grafana version since 7 reads it, newer ones migrate it.
    query: v.query,
    definition: v.query,
    current: {},
    hide: 0,
    refresh: 2,
    regex: '',
    sort: 1,
    options: [],
    includeAll: !!v.multi,
    multi: !!v.multi,
    ...(v.multi ? { allValue: '.+' } : {}),
  };
}

export function dashboardJson(d: DashboardSpec): Json {
  return {
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: [...GRAFANA.tags],
    editable: false,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    refresh: '30s',
    fiscalYearStartMonth: 0,
    liveNow: false,
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [{ title: 'Ditto sync dashboards', type: 'dashboards', tags: [...GRAFANA.tags], asDropdown: false, includeVars: true, keepTime: true, icon: 'external link', targetBlank: false, tooltip: '', url: '' }],
    templating: { list: d.variables.map(variableJson) },
    panels: layout(d.panels),
  };
}
