import type { Request, Response } from 'express';
import type { ExpositionFormat } from '../exposition/format.js';

export const BACKENDS = ['prom-client', 'otel'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** Binds the exporter's snapshot to one metrics API and serves it. */
export interface MetricsBackend {
  readonly name: BackendName;
  /** Answers GET /metrics (the view is already fresh). */
  handle(req: Request, res: Response): Promise<void>;
  /** The full exposition body, for embedding without HTTP. */
  render(format: ExpositionFormat): Promise<{ contentType: string; body: string }>;
  close(): Promise<void>;
}
