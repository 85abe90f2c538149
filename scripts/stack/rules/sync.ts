/**
 * The sync area's alerts and recording rules (families from src/catalogue/sync.ts). Why each
 * threshold and window: docs/runbook.md.
 */
import { F } from '../../../src/catalogue/index.js';
import { duration, prose, type StackConfig } from '../config.js';
import { promql } from '../promql.js';
import { runbookUrl, selectorFor, type AlertRule, type RecordingRule, type RuleArea } from './kit.js';

export const SYNC_ALERT_NAMES = [
  'DittoCloudSyncGapGrowing',
  'DittoNoCloudServerConnected',
  'DittoPeerSyncStale',
  'DittoSyncRowsUnusable',
  'DittoTrackedCommitsDropped',
  'DittoSyncObserverStalled',
  'DittoSyncExporterDown',
] as const;
type SyncAlertName = (typeof SYNC_ALERT_NAMES)[number];

export const ACK_QUANTILES = ['0.5', '0.9', '0.99'] as const;

/**
 * `and`-ed onto every sync alert but the two health alerts: silent while the latest ditto_sync_up is
 * 0. The windows would otherwise keep judging the last samples of a closed or failing source for up
 * to a window; DittoSyncObserverStalled speaks for that time. One lost scrape does not silence them:
 * last_over_time keeps the last value read.
 */
export function whileSourceUp(c: StackConfig): string {
  return `and on (job, instance)\nlast_over_time(${selectorFor(c)(F.up.name)}[${duration(c.gaugeWindow)}]) == 1`;
}

function syncAlerts(c: StackConfig): AlertRule[] {
  const m = selectorFor(c);
  const w = duration(c.gaugeWindow);
  const runbook = (alert: SyncAlertName) => runbookUrl(c, alert);
  const sourceUp = whileSourceUp(c);
  const gap = c.cloudGap;
  const rowsWindow = duration(gap.cloudRowsWindow);
  const stale = c.peerStale;
  const lagWindow = duration(stale.lagWindow);

  const rules: AlertRule[] = [
    {
      alert: 'DittoCloudSyncGapGrowing',
      // (1) Tracked commits keep waiting for a cloud ack. (2) The cloud lag stays above every value it
      // had two windows ago while no cloud server says anything: it carries the alert through an app
      // restart, after which the oldest unacked age starts again from nothing (docs/runbook.md).
      // Armed by rows that are or may be cloud servers, so a shape surprise cannot pass for a
      // peer-to-peer-only device; a duplicate _id repeats a row already counted, so it does not arm.
      expr: promql`
        (
          min_over_time(${m(F.cloudOldestUnackedAge.name)}[${w}]) > ${gap.unackedAge}
          or
          (
            min_over_time(${m(F.cloudSecondsSince.name)}[${w}]) > ${gap.cloudSilence}
            and
            min_over_time(${m(F.cloudCommitLag.name)}[${w}])
              > max_over_time(${m(F.cloudCommitLag.name)}[${w}] offset ${duration(2 * c.gaugeWindow)})
          )
        )
        and
        (
          max_over_time(${m(F.cloudServers.name)}[${rowsWindow}]) > 0
          or
          max without (peer_type, status) (max_over_time(${m(F.peers.name, 'peer_type="unknown"')}[${rowsWindow}])) > 0
          or
          max without (reason) (max_over_time(${m(F.rowsUnusable.name, 'reason!="duplicate_id"')}[${rowsWindow}])) > 0
        )
        ${sourceUp}
      `,
      for: duration(gap.for),
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Local writes on {{ $labels.instance }} are not reaching the Ditto cloud.',
        description:
          'For at least {{ $value | humanizeDuration }}, local writes on {{ $labels.instance }} (job {{ $labels.job }}) have not reached any ' +
          'cloud server: tracked commits are still waiting for a cloud server to receive them, or the cloud commit lag keeps rising ' +
          'while no cloud server sends anything. Data written there is not backed up to the cloud, and other sites do not see it. ' +
          '(The time is the age of the oldest waiting commit, or how long no cloud server has sent anything.)',
        runbook_url: runbook('DittoCloudSyncGapGrowing'),
      },
    },
    {
      alert: 'DittoNoCloudServerConnected',
      expr: promql`
        max_over_time(${m(F.cloudServers.name)}[${w}]) > 0
        and
        max_over_time(${m(F.cloudServersConnected.name)}[${w}]) == 0
        ${sourceUp}
      `,
      for: duration(c.noCloudServer.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'No Ditto cloud server is connected to {{ $labels.instance }}.',
        description:
          `{{ $labels.instance }} (job {{ $labels.job }}) has {{ $value }} cloud server session(s), and none has been Connected for ` +
          `${prose(c.gaugeWindow + c.noCloudServer.for)}. Local writes stay on this device and its mesh until a cloud server reconnects.`,
        runbook_url: runbook('DittoNoCloudServerConnected'),
      },
    },
    {
      alert: 'DittoPeerSyncStale',
      // A quiet mesh (lag 0) and a busy one that keeps receiving (synced id moving) both stay silent.
      expr: promql`
        time() - max_over_time(${m(F.peerLastUpdate.name)}[${w}]) > ${stale.silence}
        and
        min_over_time(${m(F.peerCommitLag.name)}[${lagWindow}]) > 0
        and
        changes(${m(F.peerSyncedCommitId.name)}[${lagWindow}]) == 0
        and ignoring (status)
        min_over_time(${m(F.peerStatus.name, 'status="connected"')}[${lagWindow}]) == 1
        ${sourceUp}
      `,
      for: duration(stale.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Connected {{ $labels.peer_type }} peer {{ $labels.peer_id }} is not syncing with {{ $labels.instance }}.',
        description:
          `Peer {{ $labels.peer_id }} ({{ $labels.peer_type }}) has been Connected to {{ $labels.instance }} for ${prose(stale.lagWindow)} ` +
          `without receiving any of its newer commits (commit lag above 0, synced commit id unchanged), and nothing has arrived from it ` +
          `for {{ $value | humanizeDuration }}.`,
        runbook_url: runbook('DittoPeerSyncStale'),
      },
    },
    {
      alert: 'DittoSyncRowsUnusable',
      // One alert per reason a row was left out and per unusable field, so the notification names it.
      expr: promql`
        (
          min_over_time(${m(F.rowsUnusable.name)}[${w}]) > 0
          or
          min_over_time(${m(F.fieldsUnusable.name)}[${w}]) > 0
        )
        ${sourceUp}
      `,
      for: duration(c.rowsUnusable.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'system:data_sync_info on {{ $labels.instance }} has rows the exporter cannot fully use.',
        description:
          `For ${prose(c.gaugeWindow + c.rowsUnusable.for)}, every snapshot on {{ $labels.instance }} (job {{ $labels.job }}) has had at least ` +
          `{{ $value }} row(s) {{ with $labels.reason }}left out entirely ({{ . }}){{ else }}in which {{ $labels.field }} could not be used{{ end }}. ` +
          `Ditto returns something this exporter does not expect: the sync metrics miss or do not classify those rows, and the cloud gap ` +
          `alert treats them as possible cloud servers.`,
        runbook_url: runbook('DittoSyncRowsUnusable'),
      },
    },
    {
      alert: 'DittoTrackedCommitsDropped',
      expr: promql`
        increase(${m(F.trackedCommitsDropped.name)}[${duration(c.rateWindow)}]) > 0
        ${sourceUp}
      `,
      for: duration(c.trackedCommitsDropped.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The exporter on {{ $labels.instance }} forgets tracked commits before the cloud acknowledges them.',
        description:
          `About {{ $value | humanize }} tracked commit(s) were dropped unacked on {{ $labels.instance }} (job {{ $labels.job }}) in the last ` +
          `${prose(c.rateWindow)}: more commits wait for the cloud than --max-tracked-commits allows. The oldest unacked commit age ` +
          `and the ack latency now under-report the cloud sync gap.`,
        runbook_url: runbook('DittoTrackedCommitsDropped'),
      },
    },
    {
      alert: 'DittoSyncObserverStalled',
      expr: promql`
        min_over_time(${m(F.snapshotAge.name)}[${w}]) > ${c.observerStalled.snapshotAge}
        or
        max_over_time(${m(F.up.name)}[${w}]) == 0
      `,
      for: duration(c.observerStalled.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'The Ditto sync exporter on {{ $labels.instance }} gets no fresh data from its source.',
        description:
          `For ${prose(c.gaugeWindow + c.observerStalled.for)}, the exporter on {{ $labels.instance }} (job {{ $labels.job }}) has reported ` +
          `only snapshots older than ${prose(c.observerStalled.snapshotAge)}, or ditto_sync_up 0. Its other Ditto sync metrics are out of date ` +
          `or left out, and the other Ditto sync alerts are silent meanwhile. ` +
          `Snapshot age: {{ $value | humanizeDuration }} (0s when only ditto_sync_up tripped).`,
        runbook_url: runbook('DittoSyncObserverStalled'),
      },
    },
    {
      alert: 'DittoSyncExporterDown',
      expr: promql`
        max_over_time(${m('up')}[${w}]) == 0
        or
        absent_over_time(${m('up')}[${w}])
      `,
      for: duration(c.exporterDown.for),
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Prometheus cannot scrape the Ditto sync exporter{{ with $labels.instance }} on {{ . }}{{ end }}.',
        description:
          `Prometheus has had no successful scrape of job {{ $labels.job }}{{ with $labels.instance }} target {{ . }}{{ else }} (no target at all){{ end }} ` +
          `for ${prose(c.gaugeWindow + c.exporterDown.for)}. No other Ditto sync alert can fire for it meanwhile.`,
        runbook_url: runbook('DittoSyncExporterDown'),
      },
    },
  ];
  return rules;
}

/** Pre-computed series for dashboards over long ranges and for federation; named level:metric:operations. */
function syncRecording(c: StackConfig): RecordingRule[] {
  const m = selectorFor(c);
  const r = duration(c.rateWindow);
  const ack = F.commitCloudAck.name;
  const rules: RecordingRule[] = [
    ...ACK_QUANTILES.map((q) => ({
      record: `instance_quantile:${ack}:histogram_quantile_rate${r}`,
      expr: `histogram_quantile(${q}, rate(${m(`${ack}_bucket`)}[${r}]))`,
      labels: { quantile: q },
    })),
    {
      record: `instance:${ack}_count:rate${r}`,
      expr: `rate(${m(`${ack}_count`)}[${r}])`,
    },
    {
      record: `instance:${F.cloudServersConnected.name}:ratio`,
      expr: `${m(F.cloudServersConnected.name)} / (${m(F.cloudServers.name)} > 0)`,
    },
    {
      record: `instance:${F.connectedPeers.name}:ratio`,
      expr: `${m(F.connectedPeers.name)} / (sum without (peer_type, status) (${m(F.peers.name)}) > 0)`,
    },
    {
      // Peers that can sync: a Disabled session's lag only grows and would hide the real ones
      // (peers that never received a commit have no lag series at all).
      record: `instance_peer_type:${F.peerCommitLag.name}:max`,
      expr: `max without (peer_id) (${m(F.peerCommitLag.name)} unless on (job, instance, peer_id, peer_type) (${m(F.peerStatus.name, 'status="disabled"')} == 1))`,
    },
  ];
  return rules;
}

export const SYNC_RULES: RuleArea = { name: 'sync', alertNames: SYNC_ALERT_NAMES, alerts: syncAlerts, recording: syncRecording };
