/**
 * Alert and recording rules for the exporter, built from a StackConfig: one file per area under
 * rules/, combined here. The committed files under prometheus/rules/ are this module's output with
 * DEFAULT_CONFIG; the live and end-to-end tests build copies with short windows. To add an area,
 * export a RuleArea from rules/<area>.ts and list it in RULE_AREAS.
 */
import type { StackConfig } from '../config.js';
import { DEVICE_RULES } from './device.js';
import type { AlertRule, RecordingRule, RuleArea, RuleFile } from './kit.js';
import { SYNC_RULES } from './sync.js';

export { DEVICE_ALERT_NAMES } from './device.js';
export { FLEET_ALERT_NAMES, FLEET_RECORDS, fleetAlertRules, fleetRecordingRules } from './fleet.js';
export { ACK_QUANTILES, SYNC_ALERT_NAMES } from './sync.js';
export { runbookAnchor, type AlertRule, type RecordingRule, type RuleArea, type RuleFile, type RuleGroup } from './kit.js';

/**
 * The areas whose groups make up ditto-sync-alerts.yml and ditto-sync-recording.yml, in that order.
 * The fleet area (--source fleet, a job of its own) has its own rule files and thresholds
 * (fleet-config.ts): fleetAlertRules and fleetRecordingRules.
 */
export const RULE_AREAS: readonly RuleArea[] = Object.freeze([SYNC_RULES, DEVICE_RULES]);

/** Every alert of the areas above. */
export const ALERT_NAMES: readonly string[] = Object.freeze(RULE_AREAS.flatMap((a) => a.alertNames));

export function alertRules(c: StackConfig): RuleFile<AlertRule> {
  return {
    groups: RULE_AREAS.map((a) => ({ area: a, rules: a.alerts(c) }))
      .filter((g) => g.rules.length > 0)
      .map((g) => ({ name: `ditto-${g.area.name}.alerts`, rules: g.rules })),
  };
}

export function recordingRules(c: StackConfig): RuleFile<RecordingRule> {
  return {
    groups: RULE_AREAS.map((a) => ({ area: a, rules: a.recording(c) }))
      .filter((g) => g.rules.length > 0)
      .map((g) => ({ name: `ditto-${g.area.name}.recording`, rules: g.rules })),
  };
}
