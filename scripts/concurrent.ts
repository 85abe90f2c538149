/**
 * `npm run concurrent`: the real CLI at 10,000 simulated peers (--max-peers 10000) under 200
 * clients scraping /metrics at once for 30 s, in a separate process from the exporter. Checks:
 * peak resident memory below 500 MB, no 5xx but the cap's 503 (with Retry-After), no errors or
 * timeouts, every 200 body whole. Exits 1 when a check fails, 2 on bad options.
 * Flags (environment twins): --peers (CONCURRENT_PEERS), --clients (CONCURRENT_CLIENTS),
 * --duration (CONCURRENT_DURATION, s), --max-concurrent-scrapes (CONCURRENT_MAX_SCRAPES, passed to
 * the exporter; default its own), --json FILE. Build first (npm run build).
 */
import { fileURLToPath } from 'node:url';
import { readNumbers, runScript } from './lib/args.js';
import { FULL_CONCURRENT, runConcurrent } from './lib/concurrent-run.js';

async function main() {
  const args = readNumbers(process.argv.slice(2), process.env, {
    peers: { flag: 'peers', env: 'CONCURRENT_PEERS', fallback: FULL_CONCURRENT.peers },
    clients: { flag: 'clients', env: 'CONCURRENT_CLIENTS', fallback: FULL_CONCURRENT.clients },
    duration: { flag: 'duration', env: 'CONCURRENT_DURATION', fallback: FULL_CONCURRENT.duration },
    maxScrapes: { flag: 'max-concurrent-scrapes', env: 'CONCURRENT_MAX_SCRAPES', fallback: 0, min: 0 },
  });
  const result = await runConcurrent({
    peers: args.peers,
    clients: args.clients,
    duration: args.duration,
    extraArgs: args.maxScrapes > 0 ? ['--max-concurrent-scrapes', String(args.maxScrapes)] : [],
    root: fileURLToPath(new URL('..', import.meta.url)),
  });
  return { result, json: args.json };
}

runScript('concurrent', main);
