/**
 * Sharpness checks for the promtool tests: run the committed prometheus/tests against rule files
 * built differently (other thresholds, or a part of one rule taken out) and require the case meant
 * to catch that change to fail.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expect } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, type StackConfig } from '../../scripts/stack/config.js';
import { DEFAULT_FLEET_CONFIG, type FleetStackConfig } from '../../scripts/stack/fleet-config.js';
import { RULE_FILES, rulesYaml } from '../../scripts/stack/generate.js';
import { alertRules, fleetAlertRules, fleetRecordingRules, recordingRules } from '../../scripts/stack/rules/index.js';
import { run } from '../helpers/tools.js';
import { readYaml, repoPath } from './files.js';

export type RuleTexts = Record<keyof typeof RULE_FILES, string>;

/** Every rule file as generated from these configs. */
export function ruleTexts(config: StackConfig = DEFAULT_CONFIG, fleet: FleetStackConfig = DEFAULT_FLEET_CONFIG): RuleTexts {
  return {
    alerts: rulesYaml(alertRules(config)),
    recording: rulesYaml(recordingRules(config)),
    fleetAlerts: rulesYaml(fleetAlertRules(config, fleet)),
    fleetRecording: rulesYaml(fleetRecordingRules(config)),
  };
}

const DEFAULT_TEXTS = ruleTexts();

interface TestFile {
  rule_files?: string[];
  tests: { alert_rule_test?: { alertname: string }[]; promql_expr_test?: unknown[] }[];
}
interface RuleFileYaml {
  groups: { rules: { alert?: string; record?: string }[] }[];
}

/** Alert names whose rule differs between two texts of a rule file, and whether a recording rule does. */
function changes(before: string, after: string): { alerts: Set<string>; recording: boolean } {
  const rules = (text: string) => new Map((parse(text) as RuleFileYaml).groups.flatMap((g) => g.rules.map((r) => [r.alert ?? `record:${r.record}`, JSON.stringify(r)] as const)));
  const a = rules(before);
  const b = rules(after);
  const changed = new Set([...a.keys(), ...b.keys()].filter((k) => a.get(k) !== b.get(k)));
  return { alerts: new Set([...changed].filter((k) => !k.startsWith('record:'))), recording: [...changed].some((k) => k.startsWith('record:')) };
}

/**
 * `promtool test rules` with these rule files in a temporary copy of prometheus/. Only the
 * committed test files that can notice the difference from the generated rules run: those with a
 * case for a changed alert, or with expression tests over a changed recording file. A case only
 * judges its own alert, so the others cannot fail for it; skipping them keeps each check short.
 */
export function promtoolTestWith(texts: RuleTexts): { status: number; stdout: string; stderr: string } {
  const alerts = new Set<string>();
  const recordingFiles = new Set<string>();
  for (const [key, path] of Object.entries(RULE_FILES)) {
    const c = changes(DEFAULT_TEXTS[key as keyof RuleTexts], texts[key as keyof RuleTexts]);
    for (const a of c.alerts) alerts.add(a);
    if (c.recording) recordingFiles.add(basename(path));
  }
  if (alerts.size === 0 && recordingFiles.size === 0) throw new Error('these rule files are the generated defaults: nothing to check');
  const tests = readdirSync(repoPath('prometheus/tests'))
    .filter((f) => f.endsWith('.test.yml'))
    .filter((f) => {
      const t = readYaml<TestFile>(`prometheus/tests/${f}`);
      if (t.tests.some((c) => (c.alert_rule_test ?? []).some((a) => alerts.has(a.alertname)))) return true;
      return (t.rule_files ?? []).some((r) => recordingFiles.has(basename(r))) && t.tests.some((c) => (c.promql_expr_test ?? []).length > 0);
    });
  const dir = mkdtempSync(join(tmpdir(), 'ditto-rules-'));
  try {
    mkdirSync(join(dir, 'rules'));
    mkdirSync(join(dir, 'tests'));
    for (const [key, path] of Object.entries(RULE_FILES)) writeFileSync(join(dir, 'rules', basename(path)), texts[key as keyof RuleTexts]);
    for (const f of tests) copyFileSync(repoPath('prometheus/tests', f), join(dir, 'tests', f));
    return run('promtool', ['test', 'rules', ...tests.map((f) => join(dir, 'tests', f))]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `text` with `from` replaced by `to`; throws when `from` is not there, so a mutation cannot silently do nothing. */
export function mutate(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`mutation target not found: ${from}`);
  return text.split(from).join(to);
}

/** Like mutate, but only inside the rule `alert` of a generated rule file. */
export function mutateAlert(text: string, alert: string, from: string, to: string): string {
  const start = text.indexOf(`- alert: ${alert}\n`);
  if (start < 0) throw new Error(`no alert ${alert} in the rule file`);
  const next = text.slice(start + 1).search(/\n\s*- (alert|record): /);
  const end = next < 0 ? text.length : start + 1 + next;
  return text.slice(0, start) + mutate(text.slice(start, end), from, to) + text.slice(end);
}

/** promtool failed, and the output names the case that should have caught the change. */
export function failsWith(r: { status: number; stdout: string; stderr: string }, caseName: string): void {
  expect(r.status, r.stdout).not.toBe(0);
  expect(r.stdout + r.stderr).toContain('FAILED');
  expect(r.stdout + r.stderr, 'the case that should catch this change').toContain(caseName);
}
