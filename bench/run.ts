/**
 * `npm run bench`: what the exporter costs its host app, against a plain prom-client registry
 * holding the same per-peer series (the floor), from 10 to 10,000 peers. Prints one table and
 * writes every figure to bench/results.json. `npm run bench -- --help` lists the options.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { measureCosts } from './costs.js';
import { measureEventLoop } from './event-loop.js';
import { FLEET_MODES, measureFleet } from './fleet.js';
import { availableBackends } from './exporters.js';
import { measureHeap } from './heap.js';
import { measureGet } from './get.js';
import { measureHttp } from './http-load.js';
import { defaultRuns, readOptions } from './options.js';
import { formatFleetTable, formatTable, formatTargets, judgeTargets, type BenchResults } from './report.js';

const log = (line: string) => process.stderr.write(`${line}\n`);
let options: ReturnType<typeof readOptions>;
try {
  options = readOptions();
} catch (error) {
  log(`bench: ${(error as Error).message} (see --help)`);
  process.exit(2);
}

if (!(globalThis as { gc?: unknown }).gc) {
  log('bench: run with node --expose-gc (npm run bench does) so heap figures can force a collection');
  process.exit(2);
}

const { backends, missing } = await availableBackends();
for (const m of missing) log(`\n!!! ${m.toUpperCase()} — ITS COLUMNS ARE LEFT OUT OF THIS RUN !!!\n`);
const prom = backends[0]!;

const results: BenchResults = {
  meta: {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryBytes: totalmem(),
    // Other work on the machine shows in every event-loop figure: the 1-minute load at the start.
    loadAverage1m: loadavg()[0],
    options: { ...options, phases: [...options.phases] },
    backends: backends.map((b) => b.name),
  },
  missingBackends: missing,
  costs: [],
  heap: {},
  eventLoop: {},
  http: {},
  get: [],
  fleet: [],
};

// The live phases first, while the process holds nothing from the others (every exporter built
// adds prom-client's default-metrics observers for the life of the process).
if (options.phases.has('loop')) {
  for (const name of options.loopBackends) {
    const backend = backends.find((b) => b.name === name);
    // Asked for but missing: already announced loudly above, and its rows stay out.
    if (!backend) continue;
    results.eventLoop[name] = [];
    for (const peers of options.loopPeers) {
      log(`event loop (${name}): ${peers} peers, ticks every 500 ms, a scrape every second, ${options.loopSeconds} s`);
      results.eventLoop[name]!.push(await measureEventLoop(backend, peers, options.loopSeconds));
    }
  }
}

if (options.phases.has('http')) {
  log(`http: ${options.httpPeers} peers, ${options.httpConnections} connections, ${options.httpSeconds} s`);
  results.http[prom.name] = await measureHttp(prom, options.httpPeers, options.httpConnections, options.httpSeconds);
}

if (options.phases.has('get')) {
  for (const peers of options.getPeers) {
    // A 10,000-peer body is ten times the work per request: a tenth of the requests.
    const requests = peers >= 10_000 ? Math.max(10, Math.round(options.getRequests / 10)) : options.getRequests;
    log(`get: ${peers} peers, GET /metrics against the floor over HTTP, ${requests} requests each, identity then gzip`);
    results.get.push(await measureGet(peers, requests));
  }
}

if (options.phases.has('costs')) {
  for (const peers of options.peers) {
    const runs = options.runs ?? defaultRuns(peers);
    const warmup = Math.max(10, Math.round(runs * options.warmupFraction));
    log(`costs: ${peers} peers, ${warmup} warm-up + ${runs} runs (${backends.map((b) => b.name).join(', ')}, floor)`);
    results.costs.push(await measureCosts(peers, backends, runs, warmup));
  }
}

if (options.phases.has('heap')) {
  for (const backend of backends) {
    results.heap[backend.name] = [];
    for (const peers of options.peers) {
      log(`heap: ${backend.name}, ${peers} peers`);
      results.heap[backend.name]!.push(await measureHeap(backend, peers));
    }
  }
}

if (options.phases.has('fleet')) {
  for (const mode of FLEET_MODES) {
    log(`fleet: ${options.fleetDevices} devices from the Ditto Server emulator, ${mode === 'full' ? 'a series per device' : 'aggregates only'}`);
    results.fleet.push(await measureFleet(options.fleetDevices, mode));
  }
}

results.targets = judgeTargets(results);
writeFileSync(options.out, `${JSON.stringify(results, null, 2)}\n`);

console.log(`\nditto-sync-exporter bench — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()[0]!.toFixed(1)} (start ${(results.meta['loadAverage1m'] as number).toFixed(1)}); medians and p99 in ms after warm-up\n`);
const table = formatTable(results);
if (table) console.log(table);
if (results.fleet.length) console.log(`${table ? '\n' : ''}${formatFleetTable(results)}`);
console.log(`\n${formatTargets(results.targets)}`);
for (const m of missing) console.log(`\n!!! ${m} !!!`);
if (options.quick) console.log('\nquick run: few runs and short phases, so these figures are rough; judge targets on a full run');
console.log(`\nfigures: ${options.out}`);
