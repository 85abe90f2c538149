import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hasOtlpEndpoint, resolveOtlpEndpoint } from '../src/backends/otlp-endpoint.js';
import { MAX_TIMER_MS } from '../src/config-parsers.js';
import { configErrorLine, FLAGS, parseConfig } from '../src/config.js';
import { runCli } from './helpers/cli.js';
import { SCENARIO } from './helpers/replay-exporter.js';

afterEach(() => vi.unstubAllEnvs());

/** The error line the CLI would print for these flags, or undefined when they are accepted. */
function refusal(args: string[]): string | undefined {
  try {
    parseConfig(args);
    return undefined;
  } catch (error) {
    const line = configErrorLine(error);
    if (line === undefined) throw error;
    return line;
  }
}

/** Flags whose value is a number, told by their placeholder. */
const NUMERIC = FLAGS.filter((f) => /<(n|seconds|ms|p|per-second)>$/.test(f.flags));
const name = (f: (typeof FLAGS)[number]) => f.flags.split(' ')[0]!;
const FLEET = ['--fleet-url', 'https://fleet.invalid/app', '--fleet-api-key-file', SCENARIO];
/** What a flag needs besides its source, so a value check is not refused for the combination instead. */
const FLAG_NEEDS: Record<string, string[]> = { '--otlp-interval': ['--otlp-endpoint', 'http://127.0.0.1:4318'], '--publish-interval': ['--publish-health'], '--fleet-live-timeout': ['--fleet-live'] };
/** The source a flag needs, and what else it needs, so a value check is not refused for the combination instead. */
const withSource = (f: (typeof FLAGS)[number]): string[] => {
  const also = FLAG_NEEDS[name(f)] ?? [];
  if (!f.sources || f.sources.includes('ditto')) return also;
  const source = f.sources[0]!;
  const needs: Record<string, string[]> = { replay: ['--replay', SCENARIO], fleet: [...FLEET, '--total-shards', '10000'] };
  return ['--source', source, ...(needs[source] ?? []), ...also];
};

describe('every numeric flag has documented bounds', () => {
  it('has a bounds text and range on every numeric flag', () => {
    expect(NUMERIC.length).toBeGreaterThanOrEqual(17);
    for (const f of NUMERIC) {
      expect(f.parse?.bounds, name(f)).toMatch(/\d/);
      expect(f.parse?.range, name(f)).toBeDefined();
    }
  });

  it.each(NUMERIC.map((f) => [name(f), f] as const))('%s accepts its bounds and refuses just past them, naming the flag', (flag, f) => {
    const { min, max } = f.parse!.range!;
    const step = f.parse!.integer ? 1 : Math.max(min, 1e-3) / 10;
    const args = (v: number) => [...withSource(f), flag, String(v)];
    expect(refusal(args(min))).toBeUndefined();
    expect(refusal(args(max))).toBeUndefined();
    expect(refusal(args(max + Math.max(step, max * 1e-9)))).toMatch(new RegExp(`${flag}.*expected`));
    expect(refusal(args(min - step))).toMatch(new RegExp(`${flag}.*expected`));
    for (const junk of ['', 'abc', 'Infinity', 'NaN', '0x10', '1e308']) expect(refusal([...withSource(f), flag, junk]), `${flag} ${junk}`).toMatch(/expected/);
  });

  it('keeps every duration a timer waits for within what Node timers hold', () => {
    const timers = ['--refresh-timeout', '--otlp-interval', '--shutdown-grace'];
    for (const flag of timers) {
      const f = FLAGS.find((x) => name(x) === flag)!;
      expect(f.parse!.range!.max * 1000, flag).toBeLessThanOrEqual(MAX_TIMER_MS);
    }
    const tick = FLAGS.find((x) => name(x) === '--simulate-tick-ms')!;
    expect(tick.parse!.range!.max).toBeLessThanOrEqual(MAX_TIMER_MS);
  });

  it.each([
    [['--otlp-interval', '2200000'], /--otlp-interval/],
    [['--otlp-interval', '1e308'], /--otlp-interval/],
    [['--refresh-timeout', '1e308'], /--refresh-timeout/],
    [['--refresh-timeout', '1e-9'], /--refresh-timeout/],
    [['--max-snapshot-age', '1e-9'], /--max-snapshot-age/],
    [['--source', 'simulate', '--simulate-tick-ms', '3000000000'], /--simulate-tick-ms/],
    [['--source', 'simulate', '--simulate-devices', '100000000'], /--simulate-devices/],
    [['--max-tracked-commits', '1000000000'], /--max-tracked-commits/],
  ])('the CLI exits 2 with one line for %j', async (args, pattern) => {
    const { code, stdout, stderr } = await runCli(args);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(pattern);
    expect(stdout).toBe('');
  });
});

describe('nonsensical combinations are refused at start-up', () => {
  it('refuses --peer-id-hash-key without --peer-id-label hash, from a flag or a variable', () => {
    expect(refusal(['--peer-id-hash-key', 'k'])).toMatch(/--peer-id-hash-key is only used with --peer-id-label hash/);
    expect(refusal(['--peer-id-label', 'none', '--peer-id-hash-key', 'k'])).toMatch(/label mode is none/);
    vi.stubEnv('DITTO_EXPORTER_PEER_ID_HASH_KEY', 'k');
    expect(refusal([])).toMatch(/--peer-id-hash-key/);
    expect(refusal(['--peer-id-label', 'hash'])).toBeUndefined();
  });

  it('refuses --replay naming a directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'replay-dir-'));
    mkdirSync(join(dir, 'sub'));
    expect(refusal(['--source', 'replay', '--replay', join(dir, 'sub')])).toMatch(/--replay: .* is a directory/);
  });

  it.each([
    ['--tcp-listen', ':4040'],
    ['--tcp-connect', '10.0.0.1:4040'],
    ['--database-id', 'abc'],
    ['--persistence-dir', '/tmp/x'],
    ['--offline-license-token', 't'],
    ['--ditto-log-level', 'debug'],
    ['--no-ditto-p2p'],
  ])('refuses the ditto-only %s with --source simulate or replay', (...flag) => {
    expect(refusal(['--source', 'simulate', ...flag])).toMatch(new RegExp(`${flag[0]} is only used with --source ditto, not with --source simulate`));
    expect(refusal(['--source', 'replay', '--replay', SCENARIO, ...flag])).toMatch(/only used with --source ditto/);
    expect(refusal(flag)).toBeUndefined();
  });

  it('refuses simulate-only and replay-only flags with another source', () => {
    expect(refusal(['--simulate-devices', '3'])).toMatch(/--simulate-devices is only used with --source simulate, not with --source ditto/);
    expect(refusal(['--replay-max-line-bytes', '100'])).toMatch(/--replay-max-line-bytes is only used with --source replay/);
    expect(refusal(['--replay', SCENARIO])).toMatch(/--replay is only used with --source replay/);
  });

  it('only warns about a variable for another source: one environment often serves several sources', () => {
    vi.stubEnv('DITTO_EXPORTER_TCP_LISTEN', ':4040');
    vi.stubEnv('DITTO_EXPORTER_PERSISTENCE_DIR', '/data/ditto');
    const config = parseConfig(['--source', 'simulate']);
    expect(config.warnings).toEqual([
      'DITTO_EXPORTER_PERSISTENCE_DIR is set but only used with --source ditto; ignored with --source simulate',
      'DITTO_EXPORTER_TCP_LISTEN is set but only used with --source ditto; ignored with --source simulate',
    ]);
    expect(parseConfig([]).warnings).toEqual([]);
  });
});

describe('flags that only matter with another setting are refused without it', () => {
  // No OTLP endpoint from the environment either, unless a test sets one.
  const noOtlpEnv = () => {
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', '');
    vi.stubEnv('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', '');
  };

  it.each([
    [['--otlp-interval', '30'], '--otlp-interval is only used with an OTLP endpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)'],
    [['--publish-interval', '30'], '--publish-interval is only used with --publish-health'],
    [['--source', 'fleet', ...FLEET, '--fleet-live-timeout', '5'], '--fleet-live-timeout is only used with --fleet-live'],
    [['--auth-provider', 'portal'], '--auth-provider is only used with --auth-token and --server-url'],
    [['--source', 'simulate', '--simulate-devices', '0', '--simulate-churn', '0.5'], '--simulate-churn is only used with --simulate-devices above 0 (it connects and disconnects devices)'],
    [['--source', 'simulate', '--simulate-outage-duration', '0', '--simulate-outage-after', '60'], '--simulate-outage-after is only used with --simulate-outage-duration above 0'],
    [['--source', 'simulate', '--simulate-outage-duration', '0', '--simulate-outage-every', '60'], '--simulate-outage-every is only used with --simulate-outage-duration above 0'],
    [['--source', 'simulate', '--simulate-cloud-servers', '0', '--simulate-outage-duration', '60'], '--simulate-outage-duration is only used with --simulate-cloud-servers above 0 (an outage cuts the cloud servers off)'],
  ])('refuses %j', (args, line) => {
    noOtlpEnv();
    expect(refusal(args)).toBe(line);
  });

  it('accepts each with what it needs, and never refuses a flag left at its default', () => {
    noOtlpEnv();
    expect(refusal(['--otlp-interval', '30', '--otlp-endpoint', 'http://127.0.0.1:4318'])).toBeUndefined();
    expect(refusal(['--publish-interval', '30', '--publish-health'])).toBeUndefined();
    expect(refusal(['--source', 'fleet', ...FLEET, '--fleet-live', '--fleet-live-timeout', '5'])).toBeUndefined();
    expect(refusal(['--auth-provider', 'portal', '--auth-token', 't', '--server-url', 'https://x.example'])).toBeUndefined();
    // Each prerequisite switched off alone: the dependent flags keep their defaults.
    expect(refusal([])).toBeUndefined();
    expect(refusal(['--source', 'fleet', ...FLEET])).toBeUndefined();
    expect(refusal(['--source', 'simulate', '--simulate-devices', '0'])).toBeUndefined();
    expect(refusal(['--source', 'simulate', '--simulate-outage-duration', '0'])).toBeUndefined();
    expect(refusal(['--source', 'simulate', '--simulate-cloud-servers', '0'])).toBeUndefined();
  });

  it('counts an OTLP endpoint from either OpenTelemetry variable or DITTO_EXPORTER_OTLP_ENDPOINT', () => {
    for (const variable of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'DITTO_EXPORTER_OTLP_ENDPOINT']) {
      noOtlpEnv();
      vi.stubEnv(variable, 'http://collector.example:4318');
      expect(refusal(['--otlp-interval', '30']), variable).toBeUndefined();
      vi.unstubAllEnvs();
    }
    noOtlpEnv();
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', '  ');
    expect(refusal(['--otlp-interval', '30'])).toMatch(/only used with an OTLP endpoint/);
  });

  it('hasOtlpEndpoint is true exactly when resolveOtlpEndpoint gives a URL or refuses one', () => {
    const values = [undefined, '', ' ', 'http://c.example:4318', 'ftp://c.example'];
    for (const explicit of values)
      for (const metrics of values)
        for (const general of values) {
          const env = { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: metrics, OTEL_EXPORTER_OTLP_ENDPOINT: general };
          let resolves: boolean;
          try {
            resolves = resolveOtlpEndpoint(explicit, env) !== undefined;
          } catch {
            resolves = true;
          }
          expect(hasOtlpEndpoint(explicit, env), JSON.stringify([explicit, env])).toBe(resolves);
        }
  });

  it('refuses a variable set without what it needs, naming the variable and its flag', () => {
    noOtlpEnv();
    vi.stubEnv('DITTO_EXPORTER_PUBLISH_INTERVAL', '30');
    expect(refusal([])).toBe('DITTO_EXPORTER_PUBLISH_INTERVAL (--publish-interval) is only used with --publish-health');
    vi.stubEnv('DITTO_EXPORTER_OTLP_INTERVAL', '30');
    expect(refusal(['--publish-health'])).toMatch(/^DITTO_EXPORTER_OTLP_INTERVAL \(--otlp-interval\) is only used with an OTLP endpoint/);
  });

  it('leaves a variable for another source to the source check (a warning, not a refusal)', () => {
    vi.stubEnv('DITTO_EXPORTER_PUBLISH_INTERVAL', '30');
    vi.stubEnv('DITTO_EXPORTER_FLEET_LIVE_TIMEOUT', '5');
    expect(parseConfig(['--source', 'simulate']).warnings).toEqual([
      'DITTO_EXPORTER_FLEET_LIVE_TIMEOUT is set but only used with --source fleet; ignored with --source simulate',
      'DITTO_EXPORTER_PUBLISH_INTERVAL is set but only used with --source ditto; ignored with --source simulate',
    ]);
  });

  it.each(['--max-peers 5', '--max-tracked-commits 5', '--max-snapshot-age 5', '--refresh-timeout 5', '--stall-after 5', '--peer-id-label none'])(
    'refuses %s with --source fleet, which reads no system:data_sync_info',
    (flag) => {
      expect(refusal(['--source', 'fleet', ...FLEET, ...flag.split(' ')])).toBe(`${flag.split(' ')[0]} is only used with --source ditto or replay or simulate, not with --source fleet`);
    },
  );

  it('ignores DITTO_EXPORTER_PEER_ID_LABEL with --source fleet, as it warns', () => {
    vi.stubEnv('DITTO_EXPORTER_PEER_ID_LABEL', 'hash');
    const config = parseConfig(['--source', 'fleet', ...FLEET]);
    expect(config.warnings).toEqual(['DITTO_EXPORTER_PEER_ID_LABEL is set but only used with --source ditto or replay or simulate; ignored with --source fleet']);
    expect(config.peerIdLabel).toBe('full');
  });

  it('the CLI exits 2 with one line naming the flags', async () => {
    const { code, stdout, stderr } = await runCli(['--source', 'simulate', '--otlp-interval', '30'], { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('ditto-sync-exporter: --otlp-interval is only used with an OTLP endpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT)\n');
  });
});

describe('boolean variables are parsed, not just checked for presence', () => {
  it.each([
    ['false', true],
    ['0', true],
    ['no', true],
    ['off', true],
    ['FALSE', true],
    ['true', false],
    ['1', false],
    ['yes', false],
  ])('DITTO_EXPORTER_NO_PROCESS_METRICS=%s gives processMetrics %s', (value, processMetrics) => {
    vi.stubEnv('DITTO_EXPORTER_NO_PROCESS_METRICS', value);
    expect(parseConfig([]).processMetrics).toBe(processMetrics);
  });

  it('refuses a value that is neither, naming the variable; the flag still wins', () => {
    vi.stubEnv('DITTO_EXPORTER_NO_PROCESS_METRICS', 'maybe');
    expect(refusal([])).toMatch(/DITTO_EXPORTER_NO_PROCESS_METRICS.*expected true or false/);
    vi.stubEnv('DITTO_EXPORTER_NO_DITTO_P2P', 'false');
    vi.stubEnv('DITTO_EXPORTER_NO_PROCESS_METRICS', 'false');
    expect(parseConfig([]).ditto.peerToPeer).toBe(true);
    expect(parseConfig(['--no-process-metrics']).processMetrics).toBe(false);
  });
});
