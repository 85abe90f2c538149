#!/usr/bin/env node
// The bin entry. Stop signals are handled from its first instant: it loads only the lifecycle
// (which imports nothing), listens, and then loads the rest of the CLI (commander, express,
// prom-client, pino, ...), which takes hundreds of milliseconds on a busy machine. Before, a
// SIGTERM in that time killed the process (143) without a word.
import { Lifecycle, stoppedBeforeStartLine } from './lifecycle.js';

const lifecycle = new Lifecycle();

const fail = (error: unknown): never => {
  process.stderr.write(`ditto-sync-exporter: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
};

const loading = import('./cli-main.js');
const first = await Promise.race([loading.then(({ main }) => ({ main }), fail), lifecycle.stopped.then((signal) => ({ signal }))]);
if ('signal' in first) {
  // Nothing is open while modules load; what is still loading is left to the exit.
  process.stderr.write(`${stoppedBeforeStartLine(first.signal, 'loading')}\n`);
  process.exit(0);
}
first.main(process.argv.slice(2), lifecycle).then((code) => process.exit(code), fail);
