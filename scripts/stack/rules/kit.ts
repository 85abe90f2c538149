/**
 * What every area's rules are made of. An area (sync, device, fleet) is one file under rules/ that
 * exports a RuleArea; rules/index.ts combines the areas into the generated rule files.
 */
import type { StackConfig } from '../config.js';
import { series } from '../promql.js';

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: { readonly summary: string; readonly description: string; readonly runbook_url: string };
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RuleGroup<R> {
  readonly name: string;
  readonly rules: readonly R[];
}

export interface RuleFile<R> {
  readonly groups: readonly RuleGroup<R>[];
}

/** One area's alerts and recording rules; each area becomes its own rule group. */
export interface RuleArea {
  /** Group names are `ditto-<name>.alerts` and `ditto-<name>.recording`. */
  readonly name: string;
  /** Every alert `alerts()` defines, in order; each needs a docs/runbook.md section and promtool cases. */
  readonly alertNames: readonly string[];
  alerts(c: StackConfig): readonly AlertRule[];
  recording(c: StackConfig): readonly RecordingRule[];
}

/** GitHub's heading anchor for a runbook section titled with the alert name. */
export const runbookAnchor = (alert: string): string => alert.toLowerCase();

export const runbookUrl = (c: StackConfig, alert: string): string => `${c.runbookUrl}#${runbookAnchor(alert)}`;

/** `metric{job selector, extra matchers}`: every rule selects the exporter's job. */
export const selectorFor =
  (c: StackConfig) =>
  (name: string, ...extra: string[]): string =>
    series(name, c.selector, ...extra);
