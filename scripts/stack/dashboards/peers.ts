import { F } from '../../../src/catalogue/index.js';
import { PEER_STATUSES, type PeerStatus } from '../../../src/model.js';
import { GRAFANA, type StackConfig } from '../config.js';
import type { DashboardSpec, ValueMapping } from '../dashboard-kit.js';
import { series } from '../promql.js';

/** Every selector on this dashboard: job, instance, peer type and peer id. */
const SEL = ['job=~"$job"', 'instance=~"$instance"', 'peer_type=~"$peer_type"', 'peer_id=~"$peer_id"'];
const m = (name: string, ...extra: string[]) => series(name, ...SEL, ...extra);
const LEGEND = '{{peer_type}} {{device_name}} {{peer_id}}';
const PEER_KEY = 'instance, peer_type, peer_id';
const SERIES_KEY = `job, ${PEER_KEY}`;

/**
 * `expr` (one series per peer, keyed by `on`) with the peer's descriptive labels joined from
 * ditto_sync_peer_info, kube-state-metrics style; a peer without an info series keeps its line.
 */
const named = (expr: string, on: string, labels = 'device_name') =>
  `(\n  ${expr}\n  * on (${on}) group_left (${labels})\n  max by (${on}, ${labels}) (${m(F.peerInfo.name)})\n)\nor on (${on})\n${expr}`;

/** Status as one number per peer, so a state timeline and a table cell can colour it. */
const STATUS_CODE: Record<PeerStatus, { code: number; text: string; color: string }> = {
  connected: { code: 3, text: 'Connected', color: 'green' },
  not_connected: { code: 2, text: 'Not connected', color: 'red' },
  disabled: { code: 1, text: 'Disabled', color: 'text' },
  unknown: { code: 0, text: 'Unknown', color: 'orange' },
};
const STATUS_MAPPING: ValueMapping = Object.fromEntries(
  PEER_STATUSES.map((s) => [String(STATUS_CODE[s].code), { text: STATUS_CODE[s].text, color: STATUS_CODE[s].color }]),
);
const statusCode = (by: string) =>
  `max by (${by}) (\n` +
  PEER_STATUSES.map((s) => `  ${STATUS_CODE[s].code} * (${m(F.peerStatus.name, `status="${s}"`)} == 1)`).join('\n  or\n') +
  '\n)';

/**
 * Commit lag of the peers that can sync: a Disabled session's lag only grows and would hide the real
 * ones (a peer that never received a commit has no lag series at all).
 */
const syncingLag = `(${m(F.peerCommitLag.name)} unless on (job, ${PEER_KEY}) (${m(F.peerStatus.name, 'status="disabled"')} == 1))`;

export function peersDashboard(c: StackConfig): DashboardSpec {
  return {
    uid: GRAFANA.peersUid,
    title: 'Ditto sync / Peers',
    description: 'One line per peer session, named by its device name where the presence graph gives it: status, commit lag and time since data last arrived.',
    variables: [
      { name: 'datasource', label: 'Data source' },
      { name: 'job', label: 'Job', query: `label_values(${F.up.name}, job)`, multi: true },
      { name: 'instance', label: 'Instance', query: `label_values(${series(F.up.name, 'job=~"$job"')}, instance)`, multi: true },
      { name: 'peer_type', label: 'Peer type', query: `label_values(${series(F.peerStatus.name, 'job=~"$job"', 'instance=~"$instance"')}, peer_type)`, multi: true },
      {
        name: 'peer_id',
        label: 'Peer',
        query: `label_values(${series(F.peerStatus.name, 'job=~"$job"', 'instance=~"$instance"', 'peer_type=~"$peer_type"')}, peer_id)`,
        multi: true,
      },
    ],
    panels: [
      {
        type: 'table',
        title: 'Peers now',
        description: 'Every selected peer session at the end of the time range: its device name, OS and Ditto SDK version where the presence graph gives them (empty for cloud servers), status, commit lag (commit-id units; empty for a Disabled session, a peer that never received a commit, and without tracked commits), seconds since data last arrived and the highest local commit id it has received.',
        unit: 'none',
        decimals: 0,
        queries: [
          { expr: named(statusCode(PEER_KEY), PEER_KEY, 'device_name, os, sdk_version'), table: true },
          { expr: `max by (${PEER_KEY}) (${syncingLag})`, table: true },
          { expr: `max by (${PEER_KEY}) (${m(F.peerSecondsSince.name)})`, table: true },
          { expr: `max by (${PEER_KEY}) (${m(F.peerSyncedCommitId.name)})`, table: true },
        ],
        columns: {
          values: ['Status', 'Commit lag', 'Since last update', 'Synced commit id'],
          labels: { instance: 'Instance', peer_type: 'Peer type', device_name: 'Device name', peer_id: 'Peer id', os: 'OS', sdk_version: 'SDK' },
        },
        columnUnits: { 'Since last update': 's' },
        columnMappings: { Status: STATUS_MAPPING },
        w: 24,
        h: 9,
      },
      {
        type: 'state-timeline',
        title: 'Session status',
        description: 'Status of each peer session over time: Connected, Not connected, Disabled, or Unknown (a status string this exporter does not know).',
        unit: 'none',
        mappings: STATUS_MAPPING,
        queries: [{ expr: named(statusCode(SERIES_KEY), SERIES_KEY), legend: LEGEND }],
        w: 24,
        h: 9,
      },
      {
        type: 'timeseries',
        title: 'Commit lag per peer',
        description: 'Local commit id minus the highest one the peer has received (commit-id units, not a count of commits), for peers that can sync: not for Disabled sessions or peers that never received a commit. Falling back to 0 again and again is healthy; a line that keeps rising is a peer that receives nothing.',
        unit: 'none',
        min: 0,
        queries: [{ expr: named(syncingLag, SERIES_KEY), legend: LEGEND }],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Seconds since last update per peer',
        description: `Seconds since data last arrived from each peer. A quiet peer is not a problem by itself; DittoPeerSyncStale needs this above ${c.peerStale.silence} s (dashed) while the peer is Connected and its commit lag stays above 0.`,
        unit: 's',
        min: 0,
        thresholds: [
          { color: 'green', value: null },
          { color: 'orange', value: c.peerStale.silence },
        ],
        thresholdLines: true,
        queries: [{ expr: named(m(F.peerSecondsSince.name), SERIES_KEY), legend: LEGEND }],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Synced commit id per peer',
        description: 'Highest local commit id each peer has received. A flat line while the local commit id rises is a peer that is not receiving.',
        unit: 'none',
        queries: [{ expr: named(m(F.peerSyncedCommitId.name), SERIES_KEY), legend: LEGEND }],
        w: 12,
        h: 8,
      },
      {
        type: 'timeseries',
        title: 'Worst commit lag by peer type',
        description: 'The highest commit lag among the selected peers of each type that can sync: a Disabled session, whose lag only grows, or a peer that never received a commit cannot hide the real lags.',
        unit: 'none',
        min: 0,
        queries: [{ expr: `max by (job, instance, peer_type) (${syncingLag})`, legend: '{{peer_type}} {{instance}}' }],
        w: 12,
        h: 8,
      },
    ],
  };
}
