import type { Ditto, Observer, PresenceGraph, QueryResult, StoreObserver } from '@dittolive/ditto';
import type { Logger } from '../logger.js';
import type { RawStorage, RawTick } from '../model.js';
import { dittoSdkVersion as installedSdkVersion } from '../version.js';
import {
  readEngineExporterSetting,
  readStrictMode,
  SHOW_ENGINE_EXPORTER,
  SHOW_STRICT_MODE,
  STORAGE_QUERY,
  storageQueryArgs,
  syncInfoQuery,
  type EngineExporterShown,
} from './ditto-queries.js';
import { HealthPublisher, type HealthPublisherOptions } from './health-publisher.js';
import { wallClock, type SourceSink, type SyncSource } from './source.js';

export interface DittoSourceOptions {
  readonly logger?: Logger;
  /** Close the Ditto instance in close(): true for the CLI's own store, false for an application's. */
  readonly ownsDitto?: boolean;
}

/**
 * Reads `system:data_sync_info` from an open Ditto instance: an observer delivers ticks, and
 * refresh() re-reads on demand because the observer goes quiet when nothing changes. A second
 * observer on `ditto.presence` delivers the presence graph on every change (the SDK calls it at
 * once and then whenever peers or connections change, so it is never polled), and readStorage()
 * reads this device's storage figures from `system:system_info` at scrape time.
 * Nothing in here may throw into the SDK or leave a promise rejected unhandled.
 */
export class DittoSource implements SyncSource {
  readonly kind = 'ditto' as const;
  readonly dittoSdkVersion: string;
  /** This peer's key (`pk…`), stable across restarts of the same store. */
  readonly localPeerId: string | undefined;
  private readonly logger: Logger | undefined;
  private readonly ownsDitto: boolean;
  private sink: SourceSink | undefined;
  private observer: StoreObserver | undefined;
  private presenceObserver: Observer | undefined;
  private strict = false;
  private started = false;
  private closed = false;
  private downReported = false;

  constructor(
    private readonly ditto: Ditto,
    options: DittoSourceOptions = {},
  ) {
    this.logger = options.logger;
    this.ownsDitto = options.ownsDitto ?? false;
    this.dittoSdkVersion = sdkVersionOf(ditto);
    this.localPeerId = localPeerKeyOf(ditto);
  }

  /** Whether DQL strict mode was on when the source started. */
  get strictMode(): boolean {
    return this.strict;
  }

  /** The query the observer and refresh() run. */
  get query(): string {
    return syncInfoQuery(this.strict);
  }

  /** False once closed, or once the application closed its Ditto instance under us. */
  get open(): boolean {
    if (this.closed) return false;
    if (this.dittoClosed()) {
      this.reportDown('the Ditto instance was closed');
      return false;
    }
    return true;
  }

  now(): number {
    return wallClock();
  }

  async start(sink: SourceSink): Promise<void> {
    if (this.started) throw new Error('DittoSource already started');
    if (this.closed) throw new Error('DittoSource is closed');
    if (this.dittoClosed()) throw new Error('the Ditto instance is already closed');
    this.started = true;
    this.sink = sink;
    this.strict = await this.detectStrictMode();
    if (this.closed) return;
    this.observer = this.ditto.store.registerObserver(this.query, (result) => this.onObserverResult(result));
    this.logger?.debug({ query: this.query, strictMode: this.strict }, 'observing system:data_sync_info');
    try {
      this.presenceObserver = this.ditto.presence.observe((graph) => this.onPresence(graph));
    } catch (error) {
      // Sync metrics do not depend on presence: without it the presence families are left out.
      this.logger?.warn({ err: error }, 'observing ditto.presence failed; presence metrics are left out');
      sink.error(error, 'observing the presence graph');
    }
  }

  async refresh(): Promise<RawTick> {
    if (this.closed) throw new Error('DittoSource is closed');
    // Stamped before the read: whatever the rows say is no newer than this.
    const readAt = wallClock();
    try {
      const result = await this.ditto.store.execute(this.query);
      return toTick(result, readAt);
    } catch (error) {
      if (this.dittoClosed()) this.reportDown('the Ditto instance was closed');
      throw error;
    }
  }

  /** This device's storage rows from system:system_info (newest first, bounded), stamped before the read. */
  async readStorage(): Promise<RawStorage> {
    if (this.closed) throw new Error('DittoSource is closed');
    const readAt = this.now();
    try {
      const result = await this.ditto.store.execute(STORAGE_QUERY, storageQueryArgs());
      return { rows: result.items.map((item) => item.value as unknown), readAt };
    } catch (error) {
      if (this.dittoClosed()) this.reportDown('the Ditto instance was closed');
      throw error;
    }
  }

  /** A publisher of the sync-health beacon into this instance's `smallPeerInfo.metadata`; not started. */
  publishHealth(options: HealthPublisherOptions): HealthPublisher {
    return new HealthPublisher(this.ditto.smallPeerInfo, options);
  }

  /**
   * What this instance says about Ditto's engine exporter (`SHOW` of its two system parameters):
   * the values it was opened with, unless something ran `ALTER SYSTEM` since (which changes the
   * answer but not the running exporter). Undefined when the SDK does not answer.
   */
  async engineExporter(): Promise<EngineExporterShown | undefined> {
    try {
      const answers = await Promise.all(SHOW_ENGINE_EXPORTER.map(async (q) => (await this.ditto.store.execute(q)).items.map((i) => i.value as unknown)));
      return readEngineExporterSetting(answers.flat());
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      this.observer?.cancel();
    } catch (error) {
      this.logger?.warn({ err: error }, 'cancelling the data_sync_info observer failed');
    }
    this.observer = undefined;
    try {
      this.presenceObserver?.stop();
    } catch (error) {
      this.logger?.warn({ err: error }, 'stopping the presence observer failed');
    }
    this.presenceObserver = undefined;
    if (this.ownsDitto && !this.dittoClosed()) await this.ditto.close();
  }

  private onObserverResult(result: QueryResult): void {
    // Runs inside the SDK's callback: nothing may escape from here.
    if (this.closed) return;
    const sink = this.sink;
    try {
      sink?.tick(toTick(result, wallClock()));
    } catch (error) {
      try {
        this.logger?.error({ err: error }, 'data_sync_info observer callback failed');
        sink?.error(error, 'handling an observer tick');
      } catch {
        // The sink and logger are not ours to fix; the SDK must still never see a throw.
      }
    }
  }

  private onPresence(graph: PresenceGraph): void {
    // Runs inside the SDK's callback: nothing may escape from here.
    if (this.closed) return;
    const sink = this.sink;
    try {
      sink?.presence(presenceRecord(graph), wallClock());
    } catch (error) {
      try {
        this.logger?.error({ err: error }, 'presence observer callback failed');
        sink?.error(error, 'handling a presence graph');
      } catch {
        // The sink and logger are not ours to fix; the SDK must still never see a throw.
      }
    }
  }

  /** `SHOW DQL_STRICT_MODE`; an unreadable or failing answer means the non-strict query. */
  private async detectStrictMode(): Promise<boolean> {
    try {
      const result = await this.ditto.store.execute(SHOW_STRICT_MODE);
      const strict = readStrictMode(result.items.map((item) => item.value as unknown));
      if (strict !== undefined) return strict;
      this.logger?.warn('could not read DQL strict mode from SHOW DQL_STRICT_MODE; assuming it is off');
    } catch (error) {
      if (this.dittoClosed()) throw error;
      this.logger?.warn({ err: error }, 'SHOW DQL_STRICT_MODE failed; assuming strict mode is off');
    }
    return false;
  }

  private dittoClosed(): boolean {
    try {
      return this.ditto.isClosed === true;
    } catch {
      return true;
    }
  }

  private reportDown(reason: string): void {
    if (this.downReported) return;
    this.downReported = true;
    this.logger?.warn(`ditto source down: ${reason}`);
    try {
      this.sink?.down();
    } catch {
      // Reporting must not fail the caller (a getter).
    }
  }
}

function toTick(result: QueryResult, readAt: number): RawTick {
  return { rows: result.items.map((item) => item.value as unknown), readAt };
}

/**
 * The fields of a presence graph the exporter reads, as plain JSON (the replay format's
 * `presence`): no CBOR bytes, and no peer or identity metadata, which are the application's.
 * Values are copied as they are; buildPresence validates them.
 */
export function presenceRecord(graph: PresenceGraph): unknown {
  return { localPeer: peerRecord(graph.localPeer), remotePeers: Array.isArray(graph.remotePeers) ? graph.remotePeers.map(peerRecord) : graph.remotePeers };
}

function peerRecord(peer: unknown): unknown {
  if (typeof peer !== 'object' || peer === null) return peer;
  const p = peer as Record<string, unknown>;
  const connections = p['connections'];
  return {
    peerKey: p['peerKey'],
    deviceName: p['deviceName'],
    os: p['os'],
    dittoSdkVersion: p['dittoSdkVersion'],
    isConnectedToDittoServer: p['isConnectedToDittoServer'],
    connections: Array.isArray(connections) ? connections.map(connectionRecord) : connections,
  };
}

function connectionRecord(connection: unknown): unknown {
  if (typeof connection !== 'object' || connection === null) return connection;
  const c = connection as Record<string, unknown>;
  return { id: c['id'], connectionType: c['connectionType'], peer1: c['peer1'], peer2: c['peer2'] };
}

function localPeerKeyOf(ditto: Ditto): string | undefined {
  try {
    const key: unknown = ditto.presence.graph.localPeer.peerKey;
    return typeof key === 'string' && key.length > 0 ? key : undefined;
  } catch {
    return undefined; // closed instance, or an SDK without a presence graph
  }
}

/** The SDK that made this instance (the application may load its own copy), else the installed one. */
function sdkVersionOf(ditto: Ditto): string {
  try {
    const version = (ditto.constructor as { VERSION?: unknown }).VERSION;
    if (typeof version === 'string' && version.length > 0) return version;
  } catch {
    // Fall through to the installed package's version.
  }
  return installedSdkVersion();
}
