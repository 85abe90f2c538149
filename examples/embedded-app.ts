/**
 * An application that owns a Ditto store, embeds the exporter in its own express server, writes
 * continuously, and shuts down on SIGTERM/SIGINT without losing a write.
 *
 *   node --import tsx examples/embedded-app.ts [--host 127.0.0.1] [--port 9730] [--dir ./data/embedded-app]
 *                                              [--database-id UUID] [--writers 2] [--pause-ms 5]
 * Environment twins: HOST, PORT, DITTO_PERSISTENCE_DIR, DITTO_DATABASE_ID.
 *
 * stdout (one line each): `listening HOST:PORT`, `wrote DOC_ID COMMIT_ID` for every write whose
 * promise resolved, and `stopped` once everything is closed.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Ditto, DittoConfig, Logger } from '@dittolive/ditto';
import express from 'express';
import { attachSyncExporter } from '../src/attach.js';
import { boundPort, closeServer, listen } from '../src/server.js';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    port: { type: 'string', default: process.env.PORT ?? '9730' },
    dir: { type: 'string', default: process.env.DITTO_PERSISTENCE_DIR ?? './data/embedded-app' },
    'database-id': { type: 'string', default: process.env.DITTO_DATABASE_ID ?? DittoConfig.DEFAULT_DATABASE_ID },
    writers: { type: 'string', default: '2' },
    'pause-ms': { type: 'string', default: '5' },
  },
});

const port = Number(args.port);
const writers = Number(args.writers);
const pauseMs = Number(args['pause-ms']);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port: expected 0-65535, got ${args.port}`);
if (!Number.isInteger(writers) || writers < 1) fail(`--writers: expected a positive integer, got ${args.writers}`);
if (!Number.isFinite(pauseMs) || pauseMs < 0) fail(`--pause-ms: expected a non-negative number, got ${args['pause-ms']}`);

Logger.minimumLogLevel = 'Warning';
const ditto = await Ditto.open(new DittoConfig(args['database-id'], { mode: 'smallPeersOnly' }, resolve(args.dir)));

// Every commitID the writers get is tracked: attachSyncExporter wraps ditto.store.execute by default.
const exporter = await attachSyncExporter(ditto);

const app = express();
app.get('/', (_req, res) => void res.type('text/plain').send('embedded app\n'));
app.use('/', exporter.router);
const server = await listen(app, { host: args.host, port });
console.log(`listening ${args.host}:${boundPort(server)}`);

let stopping = false;
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** One writer: a write at a time; resolves (never rejects) once it has stopped. */
async function writeUntilStopped(writer: number): Promise<void> {
  for (let seq = 0; !stopping; seq++) {
    const id = `w${writer}-${seq}`;
    try {
      const result = await ditto.store.execute('INSERT INTO events DOCUMENTS (:event)', {
        event: { _id: id, writer, seq, at: Date.now() },
      });
      process.stdout.write(`wrote ${id} ${result.commitID}\n`);
    } catch (error) {
      process.stderr.write(`write ${id} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    }
    if (pauseMs > 0) await sleep(pauseMs);
  }
}

const writing = Promise.all(Array.from({ length: writers }, (_, i) => writeUntilStopped(i)));

async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true; // no writer starts another write
  process.stderr.write(`${signal}: shutting down\n`);
  // Should anything still hold the event loop after the orderly close, exit non-zero rather than hang.
  setTimeout(() => {
    process.stderr.write('shutdown did not finish within 15 s\n');
    process.exit(1);
  }, 15_000).unref();

  const serverClosed = closeServer(server); // stops accepting now; in-flight requests finish
  await writing; // in-flight writes resolve (and are printed) before the store closes
  await exporter.close(); // cancels the observer and restores ditto.store.execute
  await serverClosed;
  await ditto.close(); // flushes and releases the store lock
  process.stdout.write('stopped\n');
  process.exitCode = 0; // and let the process end by itself: nothing of ours may be left running
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    shutdown(signal).catch((error: unknown) => {
      process.stderr.write(`shutdown failed: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
  });
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
