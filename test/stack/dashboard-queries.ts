import { allPanels, variableQuery, type Dashboard } from './files.js';
import { parseLabelValues } from './promql-selectors.js';

export interface DashboardQuery {
  readonly where: string;
  readonly expr: string;
}

/** What Grafana would put in place of each variable, for running dashboard queries by hand. */
const VALUES: Readonly<Record<string, string>> = {
  job: '.+',
  instance: '.+',
  peer_type: '.+',
  peer_id: '.+',
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

export function substitute(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (_, name: string) => {
    const value = VALUES[name];
    if (value === undefined) throw new Error(`unknown dashboard variable $${name} in ${expr}`);
    return value;
  });
}

/** Every panel target, variables substituted. */
export function panelQueries(dashboards: readonly Dashboard[]): DashboardQuery[] {
  return dashboards.flatMap((d) =>
    allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ where: `${d.json.uid} / ${p.title} / ${t.refId}`, expr: substitute(t.expr ?? '') }))),
  );
}

/** Every label_values() variable as a series selector and the label it lists. */
export function variableSelectors(dashboards: readonly Dashboard[]): (DashboardQuery & { label: string })[] {
  return dashboards.flatMap((d) =>
    d.json.templating.list
      .filter((v) => v.type === 'query')
      .map((v) => {
        const { selector, label } = parseLabelValues(variableQuery(v) ?? '');
        return { where: `${d.json.uid} / $${v.name}`, expr: substitute(selector ?? '{__name__=~".+"}'), label };
      }),
  );
}
