import { Gauge, Registry } from 'prom-client';
import { F } from '../src/catalogue/index.js';
import type { SdkRow } from './fixtures.js';

/** Ditto's status strings as the contract's label values. */
const STATUS_LABEL: Readonly<Record<string, string>> = {
  Connected: 'connected',
  'Not Connected': 'not_connected',
  Disabled: 'disabled',
};
const STATUSES = ['connected', 'not_connected', 'disabled', 'unknown'] as const;

/**
 * The floor: what a user would build with a plain prom-client registry. The same five per-peer
 * families (a status set and four value gauges, same names, help and labels), reset and set from
 * the rows on every scrape, then `registry.metrics()`. No validation, no aggregates, no process
 * metrics: it only does the part of the work that grows with the peer count.
 */
export class PromClientFloor {
  private readonly registry = new Registry();
  private readonly status = this.gauge(F.peerStatus.name, F.peerStatus.help, ['peer_id', 'peer_type', 'status']);
  private readonly lag = this.gauge(F.peerCommitLag.name, F.peerCommitLag.help, ['peer_id', 'peer_type']);
  private readonly synced = this.gauge(F.peerSyncedCommitId.name, F.peerSyncedCommitId.help, ['peer_id', 'peer_type']);
  private readonly lastUpdate = this.gauge(F.peerLastUpdate.name, F.peerLastUpdate.help, ['peer_id', 'peer_type']);
  private readonly secondsSince = this.gauge(F.peerSecondsSince.name, F.peerSecondsSince.help, ['peer_id', 'peer_type']);

  private gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  /** One scrape: reset, set every series, serialize. */
  async scrape(rows: readonly SdkRow[], localCommitId: number, now: number): Promise<string> {
    this.status.reset();
    this.lag.reset();
    this.synced.reset();
    this.lastUpdate.reset();
    this.secondsSince.reset();
    for (const row of rows) {
      const peer = { peer_id: row._id, peer_type: row.is_ditto_server ? 'cloud' : 'device' };
      const current = STATUS_LABEL[row.documents.sync_session_status] ?? 'unknown';
      for (const s of STATUSES) this.status.set({ ...peer, status: s }, s === current ? 1 : 0);
      const synced = row.documents.synced_up_to_local_commit_id;
      if (synced !== null) {
        this.lag.set(peer, Math.max(0, localCommitId - synced));
        this.synced.set(peer, synced);
      }
      const t = row.documents.last_update_received_time;
      if (t !== null) {
        this.lastUpdate.set(peer, t);
        this.secondsSince.set(peer, Math.max(0, now - t));
      }
    }
    return this.registry.metrics();
  }
}
