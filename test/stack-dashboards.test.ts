import { describe, expect, it } from 'vitest';
import { GRAFANA } from '../scripts/stack/config.js';
import { FLEET_DASHBOARD_UID } from '../scripts/stack/fleet-config.js';
import { allPanels, allowedLabels, loadDashboards, readText, SAMPLE_FAMILIES, variableQuery, type Dashboard, type Panel } from './stack/files.js';
import { parseLabelValues, selectors, type Selector } from './stack/promql-selectors.js';

const dashboards = loadDashboards();
const stackDoc = readText('docs/stack.md');

/** Grafana unit ids the dashboards may use; a typo would silently show raw numbers. */
const UNITS = new Set(['s', 'ms', 'none', 'short', 'cps', 'ops', 'percentunit', 'percent', 'bytes', 'dateTimeFromNow', 'dateTimeAsIso']);
const TARGET_VARIABLES = ['job', 'instance'] as const;
const PEER_VARIABLES = ['peer_type', 'peer_id'] as const;

const hasVariableFilter = (s: Selector, variable: string) => s.matchers.some((m) => m.label === variable && m.op === '=~' && m.value === `$${variable}`);
const dataPanels = (d: Dashboard) => allPanels(d).filter((p) => p.type !== 'row');
const exprs = (p: Panel) => (p.targets ?? []).map((t) => t.expr ?? '');

describe('Grafana dashboards', () => {
  it('are the provisioned dashboards, with stable uids', () => {
    expect(dashboards.map((d) => d.json.uid).sort()).toEqual([GRAFANA.overviewUid, GRAFANA.peersUid, GRAFANA.deviceUid, FLEET_DASHBOARD_UID].sort());
  });

  describe.each(dashboards.map((d) => [d.file, d] as const))('%s', (_file, d) => {
    const json = d.json;
    const text = JSON.stringify(json);
    const variables = json.templating.list;
    const names = variables.map((v) => v.name);

    it('is provisionable: not editable, no import placeholders, no fixed id', () => {
      expect(json.editable).toBe(false);
      expect(json.uid).toMatch(/^[a-z0-9-]{1,40}$/);
      expect(text).not.toContain('${DS_');
      expect(json).not.toHaveProperty('__inputs');
      expect(json['id'] ?? null).toBeNull();
      expect(json.title).toBeTruthy();
    });

    it('has a datasource variable and the job and instance variables', () => {
      const ds = variables.find((v) => v.name === 'datasource');
      expect(ds?.type).toBe('datasource');
      expect(ds?.query).toBe('prometheus');
      for (const v of TARGET_VARIABLES) expect(names).toContain(v);
    });

    it('filters every variable query by the variables before it, on contract metrics', () => {
      variables.forEach((v, index) => {
        if (v.type !== 'query') return;
        expect(v.datasource?.uid).toBe('${datasource}');
        const { selector, label } = parseLabelValues(variableQuery(v) ?? '');
        expect(label).toBe(v.name);
        const [s] = selectors(selector ?? '');
        expect(s?.metric && SAMPLE_FAMILIES.has(s.metric), `${v.name}: ${selector}`).toBeTruthy();
        const def = SAMPLE_FAMILIES.get(s!.metric!)!;
        expect(allowedLabels(s!.metric!, def)).toContain(label);
        for (const earlier of variables.slice(0, index)) {
          if (earlier.type === 'query') expect(hasVariableFilter(s!, earlier.name), `${v.name} is not filtered by $${earlier.name}`).toBe(true);
        }
      });
    });

    it('gives every panel a title, description, unit and the ${datasource} data source', () => {
      for (const p of allPanels(d)) {
        expect(p.title, `panel ${p.id}`).toBeTruthy();
        if (p.type === 'row') continue;
        expect(p.description, p.title).toBeTruthy();
        expect(UNITS, `${p.title}: unit ${p.fieldConfig?.defaults?.unit}`).toContain(p.fieldConfig?.defaults?.unit);
        expect(p.datasource?.uid, p.title).toBe('${datasource}');
        expect(p.targets?.length, p.title).toBeGreaterThan(0);
        for (const t of p.targets!) {
          expect(t.datasource?.uid, p.title).toBe('${datasource}');
          expect(t.expr, p.title).toBeTruthy();
        }
      }
    });

    it('uses only contract metrics, filtered by job and instance, and by peer where per-peer', () => {
      for (const p of dataPanels(d)) {
        for (const expr of exprs(p)) {
          for (const s of selectors(expr)) {
            const def = s.metric ? SAMPLE_FAMILIES.get(s.metric) : undefined;
            expect(def, `${p.title}: ${s.metric ?? 'bare selector'} is not in src/catalogue/`).toBeDefined();
            const allowed = allowedLabels(s.metric!, def!);
            for (const m of s.matchers) expect(allowed, `${p.title}: ${s.metric} has no label ${m.label}`).toContain(m.label);
            const wanted = def!.labels.includes('peer_id') ? [...TARGET_VARIABLES, ...PEER_VARIABLES] : TARGET_VARIABLES;
            for (const v of wanted) {
              expect(names, `${p.title} needs a $${v} variable`).toContain(v);
              expect(hasVariableFilter(s, v), `${p.title}: ${s.metric} is not filtered by ${v}=~"$${v}"`).toBe(true);
            }
          }
        }
      }
    });

    it('lays panels out without overlaps, with unique ids', () => {
      const panels = allPanels(d);
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      const cells = new Set<string>();
      for (const p of panels) {
        const { x, y, w, h } = p.gridPos;
        expect(x + w, p.title).toBeLessThanOrEqual(24);
        for (let i = x; i < x + w; i++)
          for (let j = y; j < y + h; j++) {
            expect(cells.has(`${i},${j}`), `${p.title} overlaps another panel`).toBe(false);
            cells.add(`${i},${j}`);
          }
      }
    });

    it('is described panel by panel in docs/stack.md', () => {
      expect(stackDoc).toContain(json.title);
      // As a bold list item of its own, so one title inside another ("Tracked commits" in "Tracked commits per second") does not pass for it.
      for (const p of dataPanels(d)) expect(stackDoc, `docs/stack.md does not describe "${p.title}"`).toContain(`- **${p.title!}**:`);
    });
  });
});
