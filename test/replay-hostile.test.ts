import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { SyncExporter } from '../src/exporter.js';
import { LogLimiter } from '../src/log-limiter.js';
import type { Logger } from '../src/logger.js';
import { ReplaySource } from '../src/sources/replay.js';
import { valueOf } from './helpers/exposition.js';
import { row } from './helpers/fake-source.js';

const dir = () => mkdtempSync(join(tmpdir(), 'replay-hostile-'));

/** A logger that keeps every line it is given. */
function recordingLogger() {
  const lines: Array<{ level: string; args: unknown[] }> = [];
  const at = (level: string) => (...args: unknown[]) => void lines.push({ level, args });
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } as unknown as Logger };
}

async function replay(file: string, options: ConstructorParameters<typeof SyncExporter>[1] = {}) {
  const { lines, logger } = recordingLogger();
  const source = new ReplaySource({ file, logger });
  const exporter = new SyncExporter(source, { collectDefaultMetrics: false, logger, ...options });
  await exporter.start();
  await source.applied();
  const body = (await exporter.backend.render('prometheus')).body;
  await exporter.close();
  return { body, lines };
}

describe('a replay file of junk', () => {
  it('a million junk lines write a handful of warnings, not a million, and every one is counted', async () => {
    const file = join(dir(), 'junk.jsonl');
    const out = createWriteStream(file);
    const chunk = 'not json\n'.repeat(10_000);
    for (let i = 0; i < 100; i++) out.write(chunk);
    out.write(`${JSON.stringify({ t: 1_700_000_000, rows: [row('a', { synced: 1 })] })}\n`);
    await new Promise<void>((resolve) => out.end(resolve));

    const { body, lines } = await replay(file);
    expect(valueOf(body, 'ditto_sync_replay_lines_skipped_total', { reason: 'invalid_json' })).toBe(1_000_000);
    expect(valueOf(body, 'ditto_sync_observer_ticks_total')).toBe(1);
    const warnings = lines.filter((l) => l.level === 'warn');
    expect(warnings.length).toBeLessThanOrEqual(20);
    // The summary says how many were not logged one by one.
    const summarised = warnings.map((w) => (w.args[0] as { suppressed?: number }).suppressed ?? 0).reduce((a, b) => a + b, 0);
    expect(summarised + warnings.filter((w) => (w.args[0] as { line?: number }).line !== undefined).length).toBe(1_000_000);
  });

  it('the CLI writes a few lines of log for a million junk lines', async () => {
    const file = join(dir(), 'junk.jsonl');
    writeFileSync(file, 'not json\n'.repeat(1_000_000));
    // The real CLI, run until the replay is applied: count what it printed.
    const { spawn } = await import('node:child_process');
    const { freePort, waitFor } = await import('./helpers/net.js');
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/cli.js', '--source', 'replay', '--replay', file, '--listen', `127.0.0.1:${port}`], { cwd: new URL('..', import.meta.url).pathname });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    try {
      await waitFor(() => (out.includes('replay applied') ? true : undefined), 60_000);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    const logLines = out.split('\n').filter(Boolean);
    expect(logLines.length).toBeLessThan(30);
    expect(out.length).toBeLessThan(20_000);
    expect(out).toMatch(/"skipped":\{"invalid_json":1000000\}/);
  });
});

describe('validated commit times and t', () => {
  it('skips and counts a line whose t runs backwards or is absurd, and a commit whose at is unusable or implausibly old', async () => {
    const file = join(dir(), 'times.jsonl');
    const lines = [
      {
        t: 1_700_000_100,
        rows: [row('cloud', { cloud: true, synced: 1, lastUpdate: 1_700_000_090 })],
        // -1e300 is never, 1e300 far ahead; 1e-300 and the ISO date are 1970: more than 20 years before t.
        commits: [{ id: 5, at: -1e300 }, { id: 6, at: 1e300 }, { id: 8, at: 1e-300 }, { id: 9, at: '1970-01-01T00:00:01Z' }, { id: 7, at: 1_700_000_050 }],
      },
      { t: 1_700_000_000, rows: [row('cloud', { cloud: true, synced: 99 })] },
      // As the clock, 1e300 would make every age and every later ack wait absurd.
      { t: 1e300, rows: [row('cloud', { cloud: true, synced: 99 })] },
      { t: 1_700_000_200, rows: [row('cloud', { cloud: true, synced: 7, lastUpdate: 1_700_000_190 })] },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const { body } = await replay(file);
    expect(valueOf(body, 'ditto_sync_replay_lines_skipped_total', { reason: 't_backwards' })).toBe(1);
    expect(valueOf(body, 'ditto_sync_replay_lines_skipped_total', { reason: 'bad_shape' })).toBe(1);
    expect(valueOf(body, 'ditto_sync_commits_unusable_total')).toBe(4);
    expect(valueOf(body, 'ditto_sync_observer_ticks_total')).toBe(2);
    // Only the usable commit was acked: 150 s from its at to the snapshot that had it.
    expect(valueOf(body, 'ditto_sync_commit_cloud_ack_seconds_count')).toBe(1);
    expect(valueOf(body, 'ditto_sync_commit_cloud_ack_seconds_sum')).toBe(150);
  });
});

describe('commit tracking stays fast for many out-of-order ids in one line', () => {
  it.each([100_000, 250_000])('%i descending ids in one replay line with --max-tracked-commits 1000000 apply, all acked', async (count) => {
    const file = join(dir(), `commits-${count}.jsonl`);
    const ids = Array.from({ length: count }, (_, i) => (count - i) * 3);
    writeFileSync(file, `${JSON.stringify({ t: 1_700_000_000, rows: [row('cloud', { cloud: true, synced: 0 })], commits: ids })}\n${JSON.stringify({ t: 1_700_000_010, rows: [row('cloud', { cloud: true, synced: count * 3 })] })}\n`);
    const started = performance.now();
    const { body } = await replay(file, { maxTrackedCommits: 1_000_000 });
    const ms = performance.now() - started;
    expect(valueOf(body, 'ditto_sync_tracked_commits_total')).toBe(count);
    expect(valueOf(body, 'ditto_sync_commit_cloud_ack_seconds_count')).toBe(count);
    expect(valueOf(body, 'ditto_sync_cloud_unacked_commits')).toBe(0);
    // Before the heaps 250,000 ids took over 60 s (quadratic); O(n log n) takes well under a second
    // here. The bound is a hang guard a hundred times that, not a timing window: a busy machine
    // cannot make n log n work take 30 s, and quadratic work cannot finish in it.
    if (count === 250_000) expect(ms).toBeLessThan(30_000);
  });

  it('a line of a million unusable commit ids writes a handful of warnings', async () => {
    const file = join(dir(), 'bad-commits.jsonl');
    writeFileSync(file, `${JSON.stringify({ t: 1_700_000_000, rows: [], commits: Array.from({ length: 1_000_000 }, () => -1) })}\n`);
    const { body, lines } = await replay(file);
    expect(valueOf(body, 'ditto_sync_commits_unusable_total')).toBe(1_000_000);
    expect(lines.filter((l) => l.level === 'warn').length).toBeLessThanOrEqual(20);
  });
});

describe('LogLimiter', () => {
  it('logs a burst per window, counts the rest, and summarises them when the next window opens or at flush', () => {
    let now = 0;
    const summaries: Array<[string, number, number]> = [];
    const limiter = new LogLimiter((kind, n, seconds) => void summaries.push([kind, n, seconds]), { burst: 2, windowSeconds: 60, clock: () => now });
    expect([limiter.allow('a'), limiter.allow('a'), limiter.allow('a'), limiter.allow('a'), limiter.allow('b')]).toEqual([true, true, false, false, true]);
    now = 61;
    expect(limiter.allow('a')).toBe(true);
    expect(summaries).toEqual([['a', 2, 61]]);
    limiter.allow('a');
    limiter.allow('a');
    now = 70;
    limiter.flush();
    expect(summaries).toEqual([['a', 2, 61], ['a', 1, 9]]);
    limiter.flush();
    expect(summaries).toHaveLength(2);
  });
});
