import type { ByteWriter } from '../exposition/byte-writer.js';
import type { ExpositionFormat } from '../exposition/format.js';

export const BACKENDS = ['prom-client', 'otel'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface RenderOptions {
  /** Once aborted (every client of this render went away), rendering stops with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface Rendered {
  readonly contentType: string;
  readonly body: string;
}



/** Binds the exporter's view to one metrics library and renders exposition text; HTTP is the server's job. */
export interface MetricsBackend {
  readonly name: BackendName;
  /** The formats render() can write; the server negotiates among them. */
  readonly formats: readonly ExpositionFormat[];
  /** The full exposition body of one scrape (the view is already fresh). */
  render(format: ExpositionFormat, options?: RenderOptions): Promise<Rendered>;
  /**
   * The same body written into `writer` (the bytes the server sends), where a backend can make that
   * cheaper than one string from render(); resolves with the content type.
   */
  renderInto?(writer: ByteWriter, format: ExpositionFormat, options?: RenderOptions): Promise<string>;
  close(): Promise<void>;
}

/** A failed collection the backend has already counted in ditto_sync_observer_errors_total; the server answers 500. */
export class CollectionError extends Error {
  constructor(
    message: string,
    readonly causes: readonly unknown[],
  ) {
    super(message);
    this.name = 'CollectionError';
  }
}
