import { NO_IDS, type KeptIds } from '../collectors/selection.js';
import type { DeviceView, SyncView } from '../collectors/families/view.js';
import { buildPresence, type PeerDescription, type PresenceSnapshot } from '../collectors/presence.js';
import type { Snapshot } from '../collectors/snapshot.js';
import type { RawStorage } from '../model.js';
import { PeerInfoLabels } from './peer-info-labels.js';
import { StorageReader } from './storage-reader.js';

export interface DeviceStateOptions {
  /** Write device_name on ditto_sync_peer_info (default true). */
  readonly deviceNames?: boolean;
  /** The source's storage read; without it there are no storage families. */
  readonly readStorage?: () => Promise<RawStorage>;
  readonly now: () => number;
  /** Storage freshness: as --max-snapshot-age and --refresh-timeout (seconds). */
  readonly maxSnapshotAge: number;
  readonly refreshTimeout: number;
  /** Called with every error the state swallows (it counts them where they belong). */
  readonly onError: (error: unknown, context: string) => void;
}

/**
 * What the exporter knows about this device beside system:data_sync_info: the presence graph
 * (pushed by the source's observer), the storage figures (read at scrape time) and the label sets
 * that join the two to the per-peer series. Methods that apply input never throw.
 */
export class DeviceState {
  private presence: PresenceSnapshot | undefined;
  /**
   * What each peer last said about itself in a usable graph. A description stays while the peer is
   * in the graph or keeps its per-peer series, so a peer that leaves the graph (disconnected) keeps
   * its name instead of churning its series; it goes with the peer's row.
   */
  private readonly known = new Map<string, PeerDescription>();
  private knownVersion = 0;
  private kept: Pick<KeptIds, 'has'> = NO_IDS;
  private readonly describe = (id: string) => this.known.get(id);
  private readonly peerInfo: PeerInfoLabels;
  private readonly storage: StorageReader | undefined;

  constructor(private readonly options: DeviceStateOptions) {
    this.peerInfo = new PeerInfoLabels(options.deviceNames ?? true);
    const read = options.readStorage;
    if (read) {
      this.storage = new StorageReader({
        read,
        now: options.now,
        maxAge: options.maxSnapshotAge,
        timeout: options.refreshTimeout,
        onError: options.onError,
      });
    }
  }

  /**
   * Applies a presence graph. An unusable graph is an error: the previous graph is not served as
   * current after it, until a usable one arrives.
   */
  ingestPresence(graph: unknown, readAt: number): boolean {
    try {
      const result = buildPresence(graph, readAt);
      if (result.ok) {
        this.presence = result.snapshot;
        for (const [key, description] of result.snapshot.peers) {
          const old = this.known.get(key);
          if (old && old.deviceName === description.deviceName && old.os === description.os && old.sdkVersion === description.sdkVersion) continue;
          this.known.set(key, description);
          this.knownVersion++;
        }
        this.forget();
        return true;
      }
      this.presence = undefined;
      this.report(new TypeError(result.reason), 'applying a presence graph');
    } catch (error) {
      this.presence = undefined;
      this.report(error, 'applying a presence graph');
    }
    return false;
  }

  /** A sync snapshot was applied: descriptions of peers that lost their series and left the graph go. */
  syncApplied(snapshot: Snapshot): void {
    this.kept = snapshot.kept;
    this.forget();
  }

  private forget(): void {
    const inGraph = this.presence?.peers;
    // Every description is of a peer in the graph: nothing to look at.
    if (inGraph && this.known.size === inGraph.size) return;
    for (const key of this.known.keys()) {
      if (!inGraph?.has(key) && !this.kept.has(key)) {
        this.known.delete(key);
        this.knownVersion++;
      }
    }
  }

  private report(error: unknown, context: string): void {
    try {
      this.options.onError(error, context);
    } catch {
      // A failing logger must not take the exporter down with it.
    }
  }

  /** Re-reads storage when it is stale or failing; never throws. */
  async ensureFresh(): Promise<void> {
    await this.storage?.ensureFresh();
  }

  /** The device part of a scrape. While the sync view serves no snapshot (source closed or failing), nothing derived is served either. */
  view(sync: SyncView | undefined): DeviceView {
    const up = sync?.snapshot !== undefined;
    const storage = this.storage?.view();
    return {
      presence: up ? this.presence : undefined,
      peerInfo: this.peerInfo.resolve(sync?.snapshot, this.describe, this.knownVersion),
      storage: storage && (up ? storage : { up: storage.up, reading: undefined, readErrors: storage.readErrors }),
    };
  }
}
