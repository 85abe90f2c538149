import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
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
/** The source a flag needs, so a value check is not refused for the combination instead. */
const withSource = (f: (typeof FLAGS)[number]): string[] => {
  if (!f.sources || f.sources.includes('ditto')) return [];
  const source = f.sources[0]!;
  const needs: Record<string, string[]> = { replay: ['--replay', SCENARIO], fleet: ['--fleet-url', 'https://fleet.invalid/app', '--fleet-api-key-file', SCENARIO, '--total-shards', '10000'] };
  return ['--source', source, ...(needs[source] ?? [])];
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
