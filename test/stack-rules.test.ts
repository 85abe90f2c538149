import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG } from '../scripts/stack/config.js';
import { ALERT_NAMES, alertRules, FLEET_ALERT_NAMES, recordingRules, RULE_AREAS, runbookAnchor, SYNC_ALERT_NAMES } from '../scripts/stack/rules/index.js';
import { allowedLabels, loadRuleFiles, markdownAnchors, readText, repoPath, SAMPLE_FAMILIES } from './stack/files.js';
import { selectors } from './stack/promql-selectors.js';

const files = loadRuleFiles();
const rules = files.flatMap(({ file, doc }) => doc.groups.flatMap((g) => g.rules.map((rule) => ({ file, group: g.name, rule }))));
const alerts = rules.filter((r) => r.rule.alert);
const recorded = new Set(rules.flatMap((r) => (r.rule.record ? [r.rule.record] : [])));
const runbook = readText('docs/runbook.md');
const stackDoc = readText('docs/stack.md');

/** Functions that read a gauge over a window, so one lost scrape cannot flip an alert. */
const WINDOWED = new Set(['max_over_time', 'min_over_time', 'avg_over_time', 'last_over_time', 'changes', 'absent_over_time', 'count_over_time', 'predict_linear']);
const COUNTER_ONLY = new Set(['rate', 'irate', 'increase', 'resets']);

interface TestFile {
  rule_files: string[];
  tests: {
    name: string;
    input_series?: { series: string; values: string }[];
    alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
    promql_expr_test?: { expr: string }[];
  }[];
}
const ruleTests = readdirSync(repoPath('prometheus/tests'))
  .filter((f) => f.endsWith('.test.yml'))
  .map((f) => parse(readText(`prometheus/tests/${f}`)) as TestFile);

describe('alert and recording rules', () => {
  it('come from the areas of rules/index.ts: one group per area, each area naming exactly its own alerts', () => {
    for (const area of RULE_AREAS) expect(area.alerts(DEFAULT_CONFIG).map((r) => r.alert), area.name).toEqual([...area.alertNames]);
    expect(new Set(ALERT_NAMES).size, 'an alert name repeats across areas').toBe(ALERT_NAMES.length);
    const groups = [...alertRules(DEFAULT_CONFIG).groups, ...recordingRules(DEFAULT_CONFIG).groups].map((g) => g.name);
    expect(new Set(groups).size, 'a group name repeats').toBe(groups.length);
    // ditto-fleet-*.yml hold the fleet area's groups, built apart (fleetAlertRules, fleetRecordingRules).
    const syncFiles = files.filter((f) => /\/ditto-sync-[a-z]+\.yml$/.test(f.file));
    expect(syncFiles.flatMap((f) => f.doc.groups.map((g) => g.name)).sort()).toEqual([...groups].sort());
  });

  it('define exactly the documented alerts, PascalCase with the Ditto prefix', () => {
    expect(alerts.map((a) => a.rule.alert).sort()).toEqual([...ALERT_NAMES, ...FLEET_ALERT_NAMES].sort());
    for (const { rule } of alerts) expect(rule.alert).toMatch(/^Ditto[A-Z][A-Za-z]+$/);
  });

  it.each(alerts.map((a) => [a.rule.alert!, a.rule] as const))('%s has severity, summary, description with $labels and a runbook anchor that exists', (name, rule) => {
    expect(['critical', 'warning', 'info']).toContain(rule.labels?.['severity']);
    expect(rule.for, 'every alert says how long its condition must hold').toMatch(/^\d+[smh]/);
    const a = rule.annotations ?? {};
    expect(a['summary']).toBeTruthy();
    expect(a['description']).toMatch(/\$labels\./);
    const url = new URL(a['runbook_url']!);
    expect(url.pathname.endsWith('/docs/runbook.md')).toBe(true);
    expect(url.hash).toBe(`#${runbookAnchor(name)}`);
    expect(markdownAnchors(runbook), `docs/runbook.md needs a "## ${name}" section`).toContain(runbookAnchor(name));
    expect(stackDoc, `docs/stack.md should describe ${name}`).toContain(name);
  });

  it.each(rules.map((r) => [r.rule.alert ?? r.rule.record!, r.rule] as const))('%s names only contract metrics, selected by the job', (_name, rule) => {
    const found = selectors(rule.expr);
    expect(found.length).toBeGreaterThan(0);
    for (const s of found) {
      expect(s.metric, `bare selector in ${rule.expr}`).toBeDefined();
      const metric = s.metric!;
      const def = SAMPLE_FAMILIES.get(metric);
      // `up` is Prometheus' own per-target series; recorded names come from our recording rules.
      expect(def || metric === 'up' || recorded.has(metric), `${metric} is not in src/catalogue/`).toBeTruthy();
      expect(s.matchers.map((m) => `${m.label}${m.op}"${m.value}"`)).toContain(DEFAULT_CONFIG.selector);
      if (def) {
        const allowed = allowedLabels(metric, def);
        for (const m of s.matchers) expect(allowed, `${metric} has no label ${m.label}`).toContain(m.label);
      }
    }
  });

  it.each(rules.map((r) => [r.rule.alert ?? r.rule.record!, r.rule] as const))('%s uses rate()/increase() on counters and histograms only', (_name, rule) => {
    for (const s of selectors(rule.expr)) {
      if (!s.fn || !COUNTER_ONLY.has(s.fn)) continue;
      const def = SAMPLE_FAMILIES.get(s.metric!);
      expect(def?.type, `${s.fn}(${s.metric}) on a gauge`).toMatch(/^(counter|histogram)$/);
    }
  });

  it.each(alerts.map((a) => [a.rule.alert!, a.rule] as const))('%s reads every gauge through a window function', (_name, rule) => {
    for (const s of selectors(rule.expr)) {
      const def = SAMPLE_FAMILIES.get(s.metric!);
      if (def?.type !== 'gauge' && s.metric !== 'up') continue;
      expect(WINDOWED, `${s.metric} read bare in ${rule.expr}`).toContain(s.fn);
    }
  });

  it('recording rules follow level:metric:operations', () => {
    for (const name of recorded) expect(name).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
  });

  it('every alert has a promtool case where it fires and one where it stays silent', () => {
    const cases = ruleTests.flatMap((f) => f.tests.flatMap((t) => t.alert_rule_test ?? []));
    for (const name of [...ALERT_NAMES, ...FLEET_ALERT_NAMES]) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${name} never fires in prometheus/tests`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${name} is never shown silent in prometheus/tests`).toBe(true);
    }
  });

  it.each([
    [
      'ditto_sync_up',
      'last_over_time(ditto_sync_up{job="ditto-sync"}[5m]) == 1',
      [...SYNC_ALERT_NAMES.filter((a) => a !== 'DittoSyncObserverStalled' && a !== 'DittoSyncExporterDown'), 'DittoDeviceStorageUnreadable'],
    ],
    ['ditto_device_storage_up', 'last_over_time(ditto_device_storage_up{job="ditto-sync"}[5m]) == 1', ['DittoDeviceDiskFillingUp']],
  ])('gates exactly the intended alerts on %s, and every promtool case of one gives that series', (series, gate, intended) => {
    const gated = alerts.filter((a) => a.rule.expr.includes(gate)).map((a) => a.rule.alert!);
    expect(gated.sort()).toEqual([...intended].sort());
    // Without the gate's series every gated alert is silent, so a silent case would pass for the wrong reason.
    for (const t of ruleTests.flatMap((f) => f.tests)) {
      if (!(t.alert_rule_test ?? []).some((c) => gated.includes(c.alertname))) continue;
      expect((t.input_series ?? []).some((i) => i.series.startsWith(`${series}{`)), `${t.name} gives no ${series}`).toBe(true);
    }
  });

  it('every recording rule has a promql_expr_test', () => {
    const tested = new Set(ruleTests.flatMap((f) => f.tests.flatMap((t) => (t.promql_expr_test ?? []).flatMap((c) => selectors(c.expr).map((s) => s.metric)))));
    for (const name of recorded) expect(tested, `${name} has no promql_expr_test`).toContain(name);
  });

  it('Alertmanager holds back every other alert of an instance while its exporter is down, and the sync alerts while its source stalled', () => {
    // The full policy is checked against a real Alertmanager in test/stack-inhibitions.test.ts; this
    // keeps the two health inhibitions complete when an alert is added.
    const config = parse(readText('prometheus/alertmanager.yml')) as { inhibit_rules: { source_matchers: string[]; target_matchers: string[]; equal: string[] }[] };
    const targetsOf = (source: string) => {
      const rule = config.inhibit_rules.find((r) => r.source_matchers.includes(`alertname="${source}"`));
      expect(rule, `no inhibit rule with source ${source}`).toBeDefined();
      expect(rule!.equal).toEqual(['job', 'instance']);
      const m = /^alertname=~"(.*)"$/.exec(rule!.target_matchers[0] ?? '');
      return new Set(m?.[1]?.split('|'));
    };
    const health = ['DittoSyncExporterDown', 'DittoSyncObserverStalled'];
    const perInstance = [...ALERT_NAMES, ...FLEET_ALERT_NAMES].filter((a) => a !== 'DittoSyncExporterDown' && a !== 'DittoFleetDevicesSilent');
    expect([...targetsOf('DittoSyncExporterDown')].sort()).toEqual(perInstance.sort());
    const stalledTargets = [...SYNC_ALERT_NAMES.filter((a) => !health.includes(a)), 'DittoDeviceStorageUnreadable'];
    expect([...targetsOf('DittoSyncObserverStalled')].sort()).toEqual(stalledTargets.sort());
  });

  it('docs/runbook.md says what $value is for every alert', () => {
    for (const name of [...ALERT_NAMES, ...FLEET_ALERT_NAMES]) {
      const section = runbook.split(/^## /m).find((s) => s.startsWith(`${name}\n`));
      expect(section, `no runbook section ${name}`).toBeDefined();
      expect(section, `the ${name} section does not say what \`$value\` is`).toMatch(/`\$value`\s+(is|carries)/);
    }
  });

  it('the promtool tests load every rule file', () => {
    const loaded = new Set(ruleTests.flatMap((f) => f.rule_files.map((p) => p.replace(/^\.\.\//, 'prometheus/'))));
    expect([...loaded].sort()).toEqual(files.map((f) => f.file).sort());
  });
});
