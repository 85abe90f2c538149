import type { BackendName } from '../src/backends/backend.js';
import { SyncExporter, type ExporterOptions } from '../src/exporter.js';
import { BenchSource } from './bench-source.js';

export type BackendFactory = NonNullable<ExporterOptions['backendFactory']>;

export interface BenchBackend {
  readonly name: BackendName;
  /** Needed for backends other than prom-client. */
  readonly factory?: BackendFactory;
}

export interface BenchExporter {
  readonly exporter: SyncExporter;
  readonly source: BenchSource;
}

/** An exporter as the CLI builds one (process metrics on), fed by hand, every peer detailed. */
export async function benchExporter(backend: BenchBackend, peers: number): Promise<BenchExporter> {
  const source = new BenchSource();
  const exporter = new SyncExporter(source, {
    backend: backend.name,
    ...(backend.factory ? { backendFactory: backend.factory } : {}),
    // The default cap is 1000; the bench raises it so every peer gets its series, as --max-peers would.
    maxPeers: Math.max(1000, peers),
  });
  await exporter.start();
  return { exporter, source };
}

/**
 * The backends available in this tree. The OpenTelemetry backend is written separately; when
 * src/backends/otel.ts does not export `createOtelBackend` yet, say so loudly and go on without it.
 */
export async function availableBackends(): Promise<{ backends: BenchBackend[]; missing: string[] }> {
  const backends: BenchBackend[] = [{ name: 'prom-client' }];
  const missing: string[] = [];
  const otel = await loadOtelFactory();
  if (typeof otel === 'function') backends.push({ name: 'otel', factory: otel });
  else missing.push(`otel: not available (${otel})`);
  return { backends, missing };
}

async function loadOtelFactory(): Promise<BackendFactory | string> {
  // A computed specifier keeps the typecheck independent of a file that may not exist yet.
  const specifier = new URL('../src/backends/otel.js', import.meta.url).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return 'src/backends/otel.ts does not exist';
    return `src/backends/otel.ts failed to load: ${(error as Error).message}`;
  }
  const create = mod['createOtelBackend'];
  if (typeof create !== 'function') return 'src/backends/otel.ts has no createOtelBackend export';
  return adaptOtelFactory(create as (...args: unknown[]) => unknown);
}

/** `createOtelBackend(view, state, options)` as ExporterOptions.backendFactory, default options (as the CLI uses it). */
function adaptOtelFactory(create: (...args: unknown[]) => unknown): BackendFactory {
  return ((_name, view, state) => create(view, state)) as BackendFactory;
}
