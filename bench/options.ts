import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName } from '../src/backends/backend.js';

export const PHASES = ['costs', 'heap', 'loop', 'http', 'get', 'fleet'] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchOptions {
  /** A rough sanity run: fewer runs, short phases. */
  readonly quick: boolean;
  /** Peer counts for the cost and heap phases. */
  readonly peers: readonly number[];
  /** Measured runs per peer count (after warm-up); undefined = a default scaled to the size. */
  readonly runs: number | undefined;
  /** Fraction of runs spent warming up first. */
  readonly warmupFraction: number;
  /** Peer counts and seconds for the event-loop phase. */
  readonly loopPeers: readonly number[];
  readonly loopSeconds: number;
  /** Backends whose event loop is measured (the other phases take every available backend). */
  readonly loopBackends: readonly BackendName[];
  /** The HTTP load phase. */
  readonly httpPeers: number;
  readonly httpSeconds: number;
  readonly httpConnections: number;
  /** Peer counts and measured requests per server of the side-by-side GET /metrics phase. */
  readonly getPeers: readonly number[];
  readonly getRequests: number;
  /** Devices the fleet phase reads from the Ditto Server emulator. */
  readonly fleetDevices: number;
  readonly phases: ReadonlySet<Phase>;
  readonly out: string;
}

const HELP = `npm run bench -- [options]   (every option also reads the environment variable shown)

  --peers LIST         peer counts for cost and heap       BENCH_PEERS         10,100,1000,10000
  --runs N             measured runs per peer count        BENCH_RUNS          500/300/100/25 by size
  --loop-peers LIST    peer counts for event-loop delay    BENCH_LOOP_PEERS    1000,10000
  --loop-seconds S     seconds per event-loop measurement  BENCH_LOOP_SECONDS  20
  --loop-backends LIST backends for event-loop delay       BENCH_LOOP_BACKENDS prom-client
                       (${BACKENDS.join(', ')})
  --http-peers N       peers for the HTTP load test        BENCH_HTTP_PEERS    1000
  --http-seconds S     seconds of HTTP load                BENCH_HTTP_SECONDS  20
  --connections N      concurrent HTTP connections         BENCH_CONNECTIONS   32
  --get-peers LIST     peer counts for GET vs the floor    BENCH_GET_PEERS     100,1000,10000
  --get-requests N     GETs per server and encoding        BENCH_GET_REQUESTS  200 (quick: 30; a tenth at 10,000)
  --fleet-devices N    devices for the fleet phase         BENCH_FLEET_DEVICES 100000 (quick: 10000)
  --only LIST          phases: ${PHASES.join(',')}        BENCH_ONLY          all
  --out FILE           results JSON                        BENCH_OUT           bench/results.json
  --quick              sanity run: 30 runs, 3 s phases,    BENCH_QUICK=1
                       costs up to 1,000 peers
  --help
`;

/** Flags win over environment variables, which win over defaults. */
export function readOptions(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      peers: { type: 'string' },
      runs: { type: 'string' },
      'loop-peers': { type: 'string' },
      'loop-seconds': { type: 'string' },
      'loop-backends': { type: 'string' },
      'http-peers': { type: 'string' },
      'http-seconds': { type: 'string' },
      connections: { type: 'string' },
      'get-peers': { type: 'string' },
      'get-requests': { type: 'string' },
      'fleet-devices': { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick ?? ['1', 'true'].includes(env['BENCH_QUICK'] ?? '');
  const pick = (flag: string | undefined, name: string) => flag ?? env[name];
  const runs = pick(values.runs, 'BENCH_RUNS');
  const only = pick(values.only, 'BENCH_ONLY');
  const phases = only ? list(only, 'only').map((p) => phase(p)) : PHASES;
  return {
    quick,
    // A quick run leaves the slow 10,000-peer costs out unless asked for.
    peers: numbers(pick(values.peers, 'BENCH_PEERS') ?? (quick ? '10,100,1000' : '10,100,1000,10000'), 'peers'),
    runs: runs !== undefined ? positiveInt(runs, 'runs') : quick ? 30 : undefined,
    warmupFraction: 0.2,
    loopPeers: numbers(pick(values['loop-peers'], 'BENCH_LOOP_PEERS') ?? '1000,10000', 'loop-peers'),
    loopSeconds: positiveNumber(pick(values['loop-seconds'], 'BENCH_LOOP_SECONDS') ?? (quick ? '3' : '20'), 'loop-seconds'),
    loopBackends: [...new Set(list(pick(values['loop-backends'], 'BENCH_LOOP_BACKENDS') ?? 'prom-client', 'loop-backends').map(backend))],
    httpPeers: positiveInt(pick(values['http-peers'], 'BENCH_HTTP_PEERS') ?? '1000', 'http-peers'),
    httpSeconds: positiveNumber(pick(values['http-seconds'], 'BENCH_HTTP_SECONDS') ?? (quick ? '3' : '20'), 'http-seconds'),
    httpConnections: positiveInt(pick(values.connections, 'BENCH_CONNECTIONS') ?? '32', 'connections'),
    getPeers: numbers(pick(values['get-peers'], 'BENCH_GET_PEERS') ?? '100,1000,10000', 'get-peers'),
    getRequests: positiveInt(pick(values['get-requests'], 'BENCH_GET_REQUESTS') ?? (quick ? '30' : '200'), 'get-requests'),
    fleetDevices: positiveInt(pick(values['fleet-devices'], 'BENCH_FLEET_DEVICES') ?? (quick ? '10000' : '100000'), 'fleet-devices'),
    phases: new Set(phases),
    out: pick(values.out, 'BENCH_OUT') ?? 'bench/results.json',
  };
}

/** Default measured runs: enough for a stable median without making 10,000 peers take minutes. */
export function defaultRuns(peers: number): number {
  if (peers <= 10) return 500;
  if (peers <= 100) return 300;
  if (peers <= 1000) return 100;
  return 25;
}

const list = (s: string, name: string): string[] => {
  const items = s.split(',').map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) throw new Error(`--${name}: empty list`);
  return items;
};
const numbers = (s: string, name: string): number[] => list(s, name).map((x) => positiveInt(x, name));

function positiveInt(s: string, name: string): number {
  const n = Number(s.replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer, got "${s}"`);
  return n;
}

function positiveNumber(s: string, name: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got "${s}"`);
  return n;
}

function backend(s: string): BackendName {
  if (!(BACKENDS as readonly string[]).includes(s)) throw new Error(`--loop-backends: unknown backend "${s}" (backends: ${BACKENDS.join(', ')})`);
  return s as BackendName;
}

function phase(s: string): Phase {
  if (!(PHASES as readonly string[]).includes(s)) throw new Error(`--only: unknown phase "${s}" (phases: ${PHASES.join(', ')})`);
  return s as Phase;
}
