/**
 * `npm run load`: GET /metrics on the standalone server at 1,000 churning peers under 64
 * concurrent connections for 30 s while ticks flow every 500 ms. Exits 1 when a check fails, 2 on
 * bad options. Flags (environment twins): --duration (LOAD_DURATION, s), --connections
 * (LOAD_CONNECTIONS), --peers (LOAD_PEERS), --tick-ms (LOAD_TICK_MS), --seed (LOAD_SEED), --json FILE.
 */
import { readNumbers, runScript } from './lib/args.js';
import { FULL_LOAD, runLoad } from './lib/load-run.js';

async function main() {
  const args = readNumbers(process.argv.slice(2), process.env, {
    duration: { flag: 'duration', env: 'LOAD_DURATION', fallback: FULL_LOAD.duration },
    connections: { flag: 'connections', env: 'LOAD_CONNECTIONS', fallback: FULL_LOAD.connections },
    peers: { flag: 'peers', env: 'LOAD_PEERS', fallback: FULL_LOAD.peers, min: 10 },
    tickMs: { flag: 'tick-ms', env: 'LOAD_TICK_MS', fallback: FULL_LOAD.tickMs, min: 10 },
    seed: { flag: 'seed', env: 'LOAD_SEED', fallback: FULL_LOAD.seed, min: 0 },
  });
  const result = await runLoad({ ...FULL_LOAD, ...args });
  return { result, json: args.json };
}

runScript('load', main);
