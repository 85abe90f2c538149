import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FAMILIES, sampleNames, type FamilyDef } from '../../src/catalogue/index.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

export const repoPath = (...parts: string[]): string => join(ROOT, ...parts);
export const readText = (path: string): string => readFileSync(repoPath(path), 'utf8');
export const readYaml = <T = unknown>(path: string): T => parse(readText(path)) as T;

/** Every sample name the exporter can emit, mapped to its family (histograms add _bucket/_sum/_count). */
export const SAMPLE_FAMILIES: ReadonlyMap<string, FamilyDef> = new Map(FAMILIES.flatMap((def) => sampleNames(def).map((name) => [name, def] as const)));

/** Labels a selector may match on for a sample: the family's, the target labels, and `le` on buckets. */
export function allowedLabels(sample: string, def: FamilyDef): Set<string> {
  return new Set(['__name__', 'job', 'instance', ...def.labels, ...(sample.endsWith('_bucket') && def.type === 'histogram' ? ['le'] : [])]);
}

export interface Dashboard {
  readonly file: string;
  readonly json: Record<string, unknown> & { uid: string; title: string; panels: Panel[]; templating: { list: Variable[] } };
}

export interface Panel {
  id: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr?: string; refId?: string; datasource?: { uid?: string } }[];
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps?: unknown[] } } };
  panels?: Panel[];
}

export interface Variable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
  datasource?: { uid?: string };
}

export const DASHBOARD_DIR = 'grafana/dashboards';

export function loadDashboards(): Dashboard[] {
  return readdirSync(repoPath(DASHBOARD_DIR))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: `${DASHBOARD_DIR}/${f}`, json: JSON.parse(readText(`${DASHBOARD_DIR}/${f}`)) as Dashboard['json'] }));
}

/** Panels including those nested in collapsed rows. */
export function allPanels(d: Dashboard): Panel[] {
  return d.json.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

export const variableQuery = (v: Variable): string | undefined => (typeof v.query === 'string' ? v.query : v.query?.query);

export interface RuleYaml {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[] }[];
}

export const RULES_DIR = 'prometheus/rules';

export function loadRuleFiles(): { file: string; doc: RuleYaml }[] {
  return readdirSync(repoPath(RULES_DIR))
    .filter((f) => f.endsWith('.yml'))
    .sort()
    .map((f) => ({ file: `${RULES_DIR}/${f}`, doc: readYaml<RuleYaml>(`${RULES_DIR}/${f}`) }));
}

/** Markdown heading anchors as GitHub renders them. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    anchors.add(
      m[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return anchors;
}
