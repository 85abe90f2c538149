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
  'DittoSyncObserverStalled',
  'DittoSyncExporterDown',
] as const;
type SyncAlertName = (typeof SYNC_ALERT_NAMES)[number];

export const ACK_QUANTILES = ['0.5', '0.9', '0.99'] as const;

function syncAlerts(c: StackConfig): AlertRule[] {
  const m = selectorFor(c);
  const w = duration(c.gaugeWindow);
  const runbook = (alert: SyncAlertName) => runbookUrl(c, alert);
  const gap = c.cloudGap;
  const stale = c.peerStale;
  const lagWindow = duration(stale.lagWindow);

  const rules: AlertRule[] = [
    {
      alert: 'DittoCloudSyncGapGrowing',
      // Either tracked commits keep waiting for a cloud ack, or (without tracked commits) the cloud lag
      // stays above every value it had two windows ago while no cloud server says anything.
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
        max_over_time(${m(F.cloudServers.name)}[${duration(gap.cloudRowsWindow)}]) > 0
      `,
      for: duration(gap.for),
      labels: { severity: 'critical' },
      annotations: {
        summary: 'Local writes on {{ $labels.instance }} are not reaching the Ditto cloud.',
        description:
          'For at least {{ $value | humanizeDuration }}, local writes on {{ $labels.instance }} (job {{ $labels.job }}) have not reached any ' +
          'cloud server: tracked commits are still waiting for a cloud server to receive them, or the cloud commit lag keeps rising ' +
          'while no cloud server sends anything. Data written there is not backed up to the cloud, and other sites do not see it.',
        runbook_url: runbook('DittoCloudSyncGapGrowing'),
      },
    },
    {
      alert: 'DittoNoCloudServerConnected',
      expr: promql`
        max_over_time(${m(F.cloudServers.name)}[${w}]) > 0
        and
        max_over_time(${m(F.cloudServersConnected.name)}[${w}]) == 0
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
          `only snapshots older than ${prose(c.observerStalled.snapshotAge)}, or ditto_sync_up 0. Its other Ditto sync metrics are out of date. ` +
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
      record: `instance_peer_type:${F.peerCommitLag.name}:max`,
      expr: `max without (peer_id) (${m(F.peerCommitLag.name)})`,
    },
  ];
  return rules;
}

export const SYNC_RULES: RuleArea = { name: 'sync', alertNames: SYNC_ALERT_NAMES, alerts: syncAlerts, recording: syncRecording };
