import { benchExporter, type BenchBackend } from './exporters.js';
import { settledGc } from './gc.js';
import { createMesh, renderTick, type Mesh } from './fixtures.js';

export interface HeapResult {
  readonly peers: number;
  /** heapUsed after GC with `peers` peers, minus the same exporter holding no peers. */
  readonly retainedBytes: number;
  readonly bytesPerPeer: number;
}


/**
 * Heap an exporter keeps for its peers between scrapes: the latest snapshot, label sets, caches.
 * The SDK's row objects are dropped before measuring (they belong to the host), so what remains
 * is what the exporter itself holds on to.
 */
async function retainedWith(backend: BenchBackend, mesh: Mesh, peers: number): Promise<{ bytes: number; keep: unknown }> {
  await settledGc();
  const before = process.memoryUsage().heapUsed;
  const { exporter, source } = await benchExporter(backend, peers);
  // Several ticks and scrapes, so caches reach their steady state.
  for (let k = 0; k < 3; k++) {
    source.deliver(renderTick(mesh, k));
    await exporter.backend.render('prometheus');
  }
  await settledGc();
  const bytes = process.memoryUsage().heapUsed - before;
  return { bytes, keep: exporter };
}

export async function measureHeap(backend: BenchBackend, peers: number, repeats = 3): Promise<HeapResult> {
  const mesh = createMesh(peers);
  const empty = createMesh(0);
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const base = await retainedWith(backend, empty, peers);
    const full = await retainedWith(backend, mesh, peers);
    samples.push(full.bytes - base.bytes);
    await closeAll(base.keep, full.keep);
  }
  samples.sort((a, b) => a - b);
  const retainedBytes = samples[samples.length >> 1]!;
  return { peers, retainedBytes, bytesPerPeer: retainedBytes / peers };
}

async function closeAll(...exporters: unknown[]): Promise<void> {
  for (const e of exporters) await (e as { close(): Promise<void> }).close();
}
