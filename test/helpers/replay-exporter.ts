import { SyncExporter, type ExporterOptions } from '../../src/exporter.js';
import { ReplaySource } from '../../src/sources/replay.js';

export const SCENARIO = new URL('../fixtures/scenario.jsonl', import.meta.url).pathname;

/** An exporter that has applied a whole replay file, without process metrics. */
export async function replayed(file = SCENARIO, options: ExporterOptions = {}): Promise<SyncExporter> {
  const source = new ReplaySource({ file });
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false, ...options });
  await exporter.start();
  await source.applied();
  return exporter;
}
