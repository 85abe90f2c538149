/**
 * `npm run soak`: a million observer ticks at 1,000 churning peers in accelerated time, then a
 * verdict on heap and handles. Exits 1 when a check fails, 2 on bad options.
 * Flags (environment twins): --ticks (SOAK_TICKS), --warmup (SOAK_WARMUP), --peers (SOAK_PEERS),
 * --scrape-every (SOAK_SCRAPE_EVERY), --checkpoint-every (SOAK_CHECKPOINT_EVERY),
 * --heap-tolerance (SOAK_HEAP_TOLERANCE, a fraction), --heap-trend-limit (SOAK_HEAP_TREND_LIMIT,
 * bytes per 100,000 ticks), --seed (SOAK_SEED), --json FILE.
 */
import { readNumbers, runScript } from './lib/args.js';
import { FULL_SOAK, runSoak } from './lib/soak-run.js';

async function main() {
  const args = readNumbers(process.argv.slice(2), process.env, {
    ticks: { flag: 'ticks', env: 'SOAK_TICKS', fallback: FULL_SOAK.ticks },
    warmup: { flag: 'warmup', env: 'SOAK_WARMUP', fallback: FULL_SOAK.warmupTicks },
    peers: { flag: 'peers', env: 'SOAK_PEERS', fallback: FULL_SOAK.churn.peers, min: 10 },
    scrapeEvery: { flag: 'scrape-every', env: 'SOAK_SCRAPE_EVERY', fallback: FULL_SOAK.scrapeEvery },
    checkpointEvery: { flag: 'checkpoint-every', env: 'SOAK_CHECKPOINT_EVERY', fallback: FULL_SOAK.checkpointEvery },
    heapTolerance: { flag: 'heap-tolerance', env: 'SOAK_HEAP_TOLERANCE', fallback: FULL_SOAK.heapTolerance, integer: false },
    heapTrendLimit: { flag: 'heap-trend-limit', env: 'SOAK_HEAP_TREND_LIMIT', fallback: FULL_SOAK.heapTrendLimit },
    seed: { flag: 'seed', env: 'SOAK_SEED', fallback: FULL_SOAK.churn.seed, min: 0 },
  });
  if (args.ticks < 1_000_000) console.warn(`soak: ${args.ticks.toLocaleString('en')} ticks is a shortened run; the full soak is 1,000,000`);
  const result = await runSoak({
    ...FULL_SOAK,
    ticks: args.ticks,
    warmupTicks: Math.min(args.warmup, Math.floor(args.ticks / 2)),
    scrapeEvery: args.scrapeEvery,
    // A shortened run still sees a few stalls.
    stallEvery: Math.min(FULL_SOAK.stallEvery, Math.max(1, Math.floor(args.ticks / 20))),
    checkpointEvery: args.checkpointEvery,
    heapTolerance: args.heapTolerance,
    heapTrendLimit: args.heapTrendLimit,
    churn: { ...FULL_SOAK.churn, peers: args.peers, seed: args.seed },
  });
  return { result, json: args.json };
}

runScript('soak', main);
