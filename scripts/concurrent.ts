/**
 * `npm run concurrent`: the real CLI at 10,000 simulated peers (--max-peers 10000) under 200
 * clients scraping /metrics at once for 30 s, in a separate process from the exporter. Checks:
 * peak resident memory below 500 MB, no 5xx but the cap's 503 (with Retry-After), no errors or
 * timeouts, every 200 body whole. Exits 1 when a check fails, 2 on bad options.
 * Flags (environment twins): --peers (CONCURRENT_PEERS), --clients (CONCURRENT_CLIENTS),
 * --duration (CONCURRENT_DURATION, s), --max-concurrent-scrapes (CONCURRENT_MAX_SCRAPES, passed to
 * the exporter; default its own), --json FILE. Build first (npm run build).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNumbers, UsageError } from './lib/args.js';
import { FULL_CONCURRENT, runConcurrent } from './lib/concurrent-run.js';

async function main(): Promise<number> {
  let args;
  try {
    args = readNumbers(process.argv.slice(2), process.env, {
      peers: { flag: 'peers', env: 'CONCURRENT_PEERS', fallback: FULL_CONCURRENT.peers },
      clients: { flag: 'clients', env: 'CONCURRENT_CLIENTS', fallback: FULL_CONCURRENT.clients },
      duration: { flag: 'duration', env: 'CONCURRENT_DURATION', fallback: FULL_CONCURRENT.duration },
      maxScrapes: { flag: 'max-concurrent-scrapes', env: 'CONCURRENT_MAX_SCRAPES', fallback: 0, min: 0 },
    });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`concurrent: ${error.message}`);
    return 2;
  }
  const result = await runConcurrent({
    peers: args.peers,
    clients: args.clients,
    duration: args.duration,
    extraArgs: args.maxScrapes > 0 ? ['--max-concurrent-scrapes', String(args.maxScrapes)] : [],
    root: fileURLToPath(new URL('..', import.meta.url)),
  });
  if (args.json) writeFileSync(args.json, `${JSON.stringify(result, null, 2)}\n`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error('concurrent: failed to run:', error);
    process.exitCode = 1;
  },
);
