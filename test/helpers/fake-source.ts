import type { SourceSink, SyncSource } from '../../src/sources/source.js';

/** A source the test drives by hand: its clock and open flag are plain fields. */
export class ManualSource implements SyncSource {
  readonly kind = 'replay' as const;
  open = true;
  clock = 1_700_000_000;
  sink: SourceSink | undefined;
  refresh?: () => Promise<{ rows: unknown[]; readAt: number }>;
  /** Set before the exporter is built: it looks for a storage read once. */
  readStorage?: () => Promise<{ rows: unknown[]; readAt: number }>;

  now(): number {
    return this.clock;
  }
  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
  }
  async close(): Promise<void> {
    this.open = false;
  }
}

/** A row shaped as Ditto documents it. */
export function row(id: string, opts: { cloud?: boolean; status?: string; synced?: unknown; lastUpdate?: unknown } = {}): Record<string, unknown> {
  return {
    _id: id,
    is_ditto_server: opts.cloud ?? false,
    documents: {
      sync_session_status: opts.status ?? 'Connected',
      synced_up_to_local_commit_id: opts.synced ?? null,
      last_update_received_time: opts.lastUpdate ?? null,
    },
  };
}
