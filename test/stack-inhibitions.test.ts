/**
 * prometheus/alertmanager.yml's inhibitions against a real Alertmanager: for every ordered pair of
 * the stack's alerts, both fire on one instance (and job) of their own, and `amtool alert query`
 * must show exactly the documented inhibitions (docs/runbook.md#alertmanager-inhibitions); a source
 * on another instance, or in another job, must hold nothing back where `equal` says so. The alerts
 * are posted to /api/v2/alerts as Prometheus posts them, in one request (hundreds of amtool calls
 * would take longer than the check).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALERT_NAMES, FLEET_ALERT_NAMES } from '../scripts/stack/rules/index.js';
import { haveBinary, run } from './helpers/tools.js';
import { readYaml } from './stack/files.js';
import { onPath, startAlertmanager, waitFor, type Started } from './stack/processes.js';

const alertmanagerBinary = onPath('alertmanager') ? 'alertmanager' : haveBinary('prometheus-alertmanager') ? 'prometheus-alertmanager' : undefined;
const amtool = haveBinary('amtool');

/** The policy, as docs/runbook.md states it: which alert holds back which, and on which labels. */
const SYNC_TARGETS = ['DittoCloudSyncGapGrowing', 'DittoNoCloudServerConnected', 'DittoPeerSyncStale', 'DittoSyncRowsUnusable', 'DittoTrackedCommitsDropped'];
const POLICY: readonly { source: string; targets: readonly string[]; equal: readonly ('job' | 'instance')[] }[] = [
  {
    source: 'DittoSyncExporterDown',
    targets: [...SYNC_TARGETS, 'DittoSyncObserverStalled', 'DittoDeviceDiskFillingUp', 'DittoDeviceStorageUnreadable', 'DittoFleetSourceDown', 'DittoFleetDeviceSyncGapGrowing', 'DittoFleetDeviceDiskAlmostFull'],
    equal: ['job', 'instance'],
  },
  { source: 'DittoSyncObserverStalled', targets: [...SYNC_TARGETS, 'DittoDeviceStorageUnreadable'], equal: ['job', 'instance'] },
  { source: 'DittoCloudSyncGapGrowing', targets: ['DittoNoCloudServerConnected'], equal: ['job', 'instance'] },
  { source: 'DittoFleetSourceDown', targets: ['DittoFleetDeviceSyncGapGrowing', 'DittoFleetDeviceDiskAlmostFull'], equal: ['job', 'instance'] },
  { source: 'DittoFleetSourceDown', targets: ['DittoFleetDevicesSilent'], equal: ['job'] },
];

/** The labels each alert carries besides alertname, job and instance, as its rule produces them (see prometheus/tests). */
const EXTRA_LABELS: Readonly<Record<string, Record<string, string>>> = {
  DittoCloudSyncGapGrowing: { severity: 'critical' },
  DittoPeerSyncStale: { severity: 'warning', peer_id: 'pkPeer', peer_type: 'device' },
  DittoSyncRowsUnusable: { severity: 'warning', field: 'synced_up_to_local_commit_id' },
  DittoFleetDeviceSyncGapGrowing: { severity: 'warning', device_id: 'pkDevice' },
  DittoFleetDeviceDiskAlmostFull: { severity: 'warning', device_id: 'pkDevice' },
  DittoFleetDevicesSilent: { severity: 'warning', older_than: '24h' },
};
/** Fleet-wide: one alert per job, no instance label. */
const WITHOUT_INSTANCE = new Set(['DittoFleetDevicesSilent']);

const ALL = [...ALERT_NAMES, ...FLEET_ALERT_NAMES];

interface Placed {
  readonly alertname: string;
  readonly job: string;
  readonly instance: string;
}
const labelsOf = (p: Placed): Record<string, string> => ({
  alertname: p.alertname,
  job: p.job,
  ...(WITHOUT_INSTANCE.has(p.alertname) ? {} : { instance: p.instance }),
  severity: 'warning',
  ...EXTRA_LABELS[p.alertname],
});
/** One alert's identity in a check: every scenario has a job of its own, and fleet-wide alerts no instance. */
const keyOf = (labels: Record<string, string>) => `${labels['alertname']} ${labels['job']} ${labels['instance'] ?? ''}`;

/** What the policy says: is `target` held back by `source`, given where each fires? */
function inhibits(source: Placed, target: Placed): boolean {
  if (source === target) return false;
  const s = labelsOf(source);
  const t = labelsOf(target);
  return POLICY.some((r) => r.source === source.alertname && r.targets.includes(target.alertname) && r.equal.every((l) => s[l] === t[l]));
}

/** Every ordered pair on a job and instance of its own; each policy pair also split across instances and across jobs. */
function scenarios(): Placed[][] {
  const out: Placed[][] = [];
  let n = 0;
  for (const source of ALL) {
    for (const target of ALL) {
      if (source === target) continue;
      n++;
      out.push([
        { alertname: source, job: `job-${n}`, instance: `pair-${n}:9730` },
        { alertname: target, job: `job-${n}`, instance: `pair-${n}:9730` },
      ]);
    }
  }
  for (const rule of POLICY) {
    for (const target of rule.targets) {
      n++;
      out.push([
        { alertname: rule.source, job: `job-${n}`, instance: `other-a-${n}:9730` },
        { alertname: target, job: `job-${n}`, instance: `other-b-${n}:9730` },
      ]);
      n++;
      out.push([
        { alertname: rule.source, job: `job-${n}-a`, instance: `same-${n}:9730` },
        { alertname: target, job: `job-${n}-b`, instance: `same-${n}:9730` },
      ]);
    }
  }
  return out;
}

interface QueriedAlert {
  labels: Record<string, string>;
  status: { state: string; inhibitedBy: string[] };
}

describe.skipIf(!alertmanagerBinary || !amtool)('Alertmanager inhibitions (prometheus/alertmanager.yml, real Alertmanager, amtool)', () => {
  let alertmanager: Started | undefined;
  const placed = scenarios();
  const expected = new Map<string, boolean>();
  /** key → the other alert of its scenario and where it fired, for readable failures. */
  const beside = new Map<string, string>();
  for (const group of placed) {
    for (const target of group) {
      expected.set(keyOf(labelsOf(target)), group.some((source) => inhibits(source, target)));
      beside.set(keyOf(labelsOf(target)), group.filter((o) => o !== target).map((o) => `${o.alertname} (${o.job}, ${o.instance})`).join(', '));
    }
  }

  beforeAll(async () => {
    alertmanager = await startAlertmanager(alertmanagerBinary!, readYaml('prometheus/alertmanager.yml'));
    const endsAt = new Date(Date.now() + 30 * 60_000).toISOString();
    const body = placed.flat().map((p) => ({ labels: labelsOf(p), annotations: {}, endsAt }));
    const res = await fetch(`${alertmanager.base}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status, await res.text()).toBe(200);
  }, 30_000);

  afterAll(async () => {
    await alertmanager?.stop();
  });

  /** Every alert as amtool reports it: key → inhibited. */
  const query = (): Map<string, boolean> => {
    const r = run('amtool', ['--alertmanager.url', alertmanager!.base, 'alert', 'query', '--active', '--inhibited', '--output', 'json']);
    if (r.status !== 0) throw new Error(`amtool alert query: ${r.stderr}`);
    return new Map((JSON.parse(r.stdout) as QueriedAlert[]).map((a) => [keyOf(a.labels), a.status.inhibitedBy.length > 0]));
  };

  it('holds back exactly what the runbook says, on the labels it says', async () => {
    // The inhibitor sees new alerts shortly after they arrive: wait (bounded) until every alert and
    // every expected inhibition shows, then compare everything.
    const complete = (got: Map<string, boolean>) => got.size === expected.size && [...expected].every(([k, v]) => !v || got.get(k) === true);
    const seen = await waitFor(() => {
      const got = query();
      return complete(got) ? got : undefined;
    }, 20_000, 250).catch(() => query());
    const wrong = [...expected]
      .filter(([k, v]) => seen.get(k) !== v)
      .map(([k, v]) => `${k}: ${v ? 'should be held back' : 'should not be held back'} by ${beside.get(k)} (amtool: ${seen.has(k) ? (seen.get(k) ? 'inhibited' : 'active') : 'missing'})`);
    expect(wrong, wrong.join('\n')).toEqual([]);
    expect(seen.size).toBe(expected.size);
    // Not an empty check: each policy pair is held back in both ordered-pair scenarios it is part of,
    // and across instances where only the job must match; everything else is left alone.
    const pairs = POLICY.reduce((n, r) => n + r.targets.length, 0);
    const jobOnly = POLICY.filter((r) => !r.equal.includes('instance')).reduce((n, r) => n + r.targets.length, 0);
    expect([...expected.values()].filter(Boolean).length).toBe(2 * pairs + jobOnly);
    expect([...expected.values()].filter((v) => !v).length).toBeGreaterThan(200);
  }, 60_000);
});

describe('prometheus/alertmanager.yml inhibitions', () => {
  it('name only alerts the rules define, through alertname matchers', () => {
    const config = readYaml<{ inhibit_rules: { source_matchers: string[]; target_matchers: string[] }[] }>('prometheus/alertmanager.yml');
    expect(config.inhibit_rules.length).toBeGreaterThan(0);
    for (const rule of config.inhibit_rules) {
      for (const matcher of [...rule.source_matchers, ...rule.target_matchers]) {
        const m = /^alertname(=~?)"(.*)"$/.exec(matcher);
        expect(m, `only alertname matchers are used: ${matcher}`).not.toBeNull();
        for (const name of m![1] === '=~' ? m![2]!.split('|') : [m![2]!]) expect(ALL, `${matcher} names an alert no rule defines`).toContain(name);
      }
    }
  });
});
