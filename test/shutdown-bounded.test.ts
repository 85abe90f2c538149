import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startCli } from './helpers/cli.js';
import { row } from './helpers/fake-source.js';
import { freePort, waitFor } from './helpers/net.js';

const scratch = mkdtempSync(join(tmpdir(), 'shutdown-bounded-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A replay file of one tick with `peers` rows: a body of about 0.9 kB per peer. */
function bigReplay(peers: number): string {
  const file = join(scratch, `peers-${peers}.jsonl`);
  const rows = Array.from({ length: peers }, (_, i) => row(`pk${String(i).padStart(40, '0')}`, { synced: i, lastUpdate: 1_699_999_000_000 + i }));
  writeFileSync(file, `${JSON.stringify({ t: 1_700_000_000, rows })}\n`);
  return file;
}

const exitOf = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode, at: performance.now() });
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() }));
  });

/** Resolves with `value`, or with 'timeout' after `ms` (the test's guard, not a timing assertion). */
const within = <T,>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);

/** A raw connection that sends `text` and keeps what comes back. */
function rawClient(port: number, text: string) {
  const socket = net.connect(port, '127.0.0.1');
  const state = { header: '', bodyBytes: 0, contentLength: -1, closed: false };
  const headersDone = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      if (state.contentLength >= 0) {
        state.bodyBytes += chunk.length;
        return;
      }
      state.header += chunk.toString('latin1');
      const end = state.header.indexOf('\r\n\r\n');
      if (end < 0) return;
      state.contentLength = Number(/content-length: (\d+)/i.exec(state.header)?.[1] ?? NaN);
      state.bodyBytes = state.header.length - end - 4;
      resolve();
    });
  });
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve((state.closed = true) && undefined)));
  socket.on('error', () => {});
  socket.write(text);
  return { socket, state, headersDone, closed };
}

describe('bounded shutdown of the CLI', () => {
  it('SIGTERM with a half-sent request and an idle keep-alive connection open: exit 0 at once, both closed', async () => {
    const cli = await startCli(['--source', 'simulate', '--log-level', 'info', '--shutdown-grace', '30']);
    const halfSent = rawClient(cli.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n');
    const idle = rawClient(cli.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await idle.headersDone;
    const exited = exitOf(cli.child);
    const signalled = performance.now();
    cli.child.kill('SIGTERM');
    // Before: the half-sent request kept the process alive for as long as its client liked.
    const result = await within(exited, 20_000);
    if (result === 'timeout') cli.child.kill('SIGKILL');
    expect(result).not.toBe('timeout');
    const { code, at } = result as Awaited<typeof exited>;
    expect(code).toBe(0);
    // Nothing was in flight: the 30 s grace was not needed.
    expect(at - signalled).toBeLessThan(15_000);
    await Promise.all([halfSent.closed, idle.closed]);
    expect(cli.output()).toContain('"msg":"stopped"');
  });

  it('a slow reader of a large body gets all of it when it reads within the grace', async () => {
    const cli = await startCli(['--source', 'replay', '--replay', bigReplay(10_000), '--max-peers', '10000', '--log-level', 'warn', '--shutdown-grace', '30'], {
      isUp: async (base) => (await fetch(`${base}/readyz`)).ok,
    });
    const reader = rawClient(cli.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await reader.headersDone;
    reader.socket.pause(); // reads nothing while the exporter is told to stop
    expect(reader.state.contentLength).toBeGreaterThan(8_000_000);
    const exited = exitOf(cli.child);
    cli.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    reader.socket.resume();
    await within(reader.closed, 20_000);
    // Before: 4 to 6 MB of the 9 MB arrived, then the end of the stream.
    expect(reader.state.bodyBytes).toBe(reader.state.contentLength);
    const result = await within(exited, 20_000);
    expect(result === 'timeout' ? 'timeout' : result.code).toBe(0);
  });

  it('a reader that does not read within the grace is cut off when it ends, and the exporter still exits 0', async () => {
    const graceSeconds = 2;
    const cli = await startCli(['--source', 'replay', '--replay', bigReplay(10_000), '--max-peers', '10000', '--log-level', 'warn', '--shutdown-grace', String(graceSeconds)], {
      isUp: async (base) => (await fetch(`${base}/readyz`)).ok,
    });
    const reader = rawClient(cli.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await reader.headersDone;
    reader.socket.pause(); // never reads while the exporter drains
    expect(reader.state.contentLength).toBeGreaterThan(8_000_000);
    const exited = exitOf(cli.child);
    const signalled = performance.now();
    cli.child.kill('SIGTERM');
    const result = await within(exited, 20_000 + graceSeconds * 1000);
    if (result === 'timeout') cli.child.kill('SIGKILL');
    expect(result === 'timeout' ? 'timeout' : result.code).toBe(0);
    const { at } = result as Awaited<typeof exited>;
    // The response in progress had its whole grace (a lower bound only; the child's timer starts
    // after this clock's, so only timer slack needs the 100 ms).
    expect(at - signalled).toBeGreaterThanOrEqual(graceSeconds * 1000 - 100);
    // What the socket buffers held arrives now; the rest of the body never does.
    reader.socket.resume();
    expect(await within(reader.closed, 20_000)).not.toBe('timeout');
    expect(reader.state.bodyBytes).toBeGreaterThan(0);
    expect(reader.state.bodyBytes).toBeLessThan(reader.state.contentLength);
  });

  it('a second signal during the shutdown closes every connection at once; cleanup still runs and the exit is 0', async () => {
    const cli = await startCli(['--source', 'replay', '--replay', bigReplay(10_000), '--max-peers', '10000', '--log-level', 'info', '--shutdown-grace', '60'], {
      isUp: async (base) => (await fetch(`${base}/readyz`)).ok,
    });
    const reader = rawClient(cli.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    await reader.headersDone;
    reader.socket.pause(); // holds the drain open for the whole 60 s grace
    const exited = exitOf(cli.child);
    cli.child.kill('SIGTERM');
    await waitFor(() => (cli.output().includes('"msg":"shutting down"') ? true : undefined));
    cli.child.kill('SIGTERM');
    const result = await within(exited, 20_000);
    if (result === 'timeout') cli.child.kill('SIGKILL');
    // Before: the second SIGTERM killed the process (143) without cleanup.
    expect(result === 'timeout' ? 'timeout' : [result.code, result.signal]).toEqual([0, null]);
    expect(cli.output()).toContain('stop signal during shutdown: closing every connection now');
    expect(cli.output()).toContain('"msg":"stopped"');
    reader.socket.destroy();
  });

  it('SIGHUP is a graceful stop, like SIGTERM', async () => {
    const cli = await startCli(['--source', 'simulate', '--log-level', 'info']);
    const exited = exitOf(cli.child);
    cli.child.kill('SIGHUP');
    const result = await within(exited, 20_000);
    if (result === 'timeout') cli.child.kill('SIGKILL');
    // Before: 129, no cleanup.
    expect(result === 'timeout' ? 'timeout' : [result.code, result.signal]).toEqual([0, null]);
    expect(cli.output()).toMatch(/"signal":"SIGHUP".*"msg":"shutting down"/);
    expect(cli.output()).toContain('"msg":"stopped"');
  });

  it('the store lock is released even with a half-sent request open: an exporter restarted on the same store starts', async () => {
    const store = join(scratch, 'store');
    const first = await startCli(['--persistence-dir', store, '--log-level', 'warn', '--shutdown-grace', '30']);
    const halfSent = rawClient(first.port, 'GET /metrics HTTP/1.1\r\nHost: x\r\n');
    // A request on a later connection is answered only once the server has the half-sent one.
    await rawClient(first.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n').headersDone;
    const exited = exitOf(first.child);
    first.child.kill('SIGTERM');
    const result = await within(exited, 20_000);
    if (result === 'timeout') first.child.kill('SIGKILL');
    expect(result === 'timeout' ? 'timeout' : result.code).toBe(0);
    halfSent.socket.destroy();
    // Before: the first never exited, and this one failed with "File already locked".
    const second = await startCli(['--persistence-dir', store, '--log-level', 'warn']);
    expect(second.output()).not.toContain('File already locked');
    expect(await second.stop()).toBe(0);
  });
});

/** Runs the CLI to its exit (SIGKILL after the guard), with extra node options before the entry. */
async function runToExit(nodeArgs: string[], args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [...nodeArgs, 'dist/cli.js', ...args, '--listen', '127.0.0.1:0'], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = exitOf(child);
  const result = await within(exited, 20_000);
  if (result === 'timeout') child.kill('SIGKILL');
  return { result: result === 'timeout' ? 'timeout' : [result.code, result.signal], stdout, stderr };
}

describe('stop signals from the first instant of start-up', () => {
  /** The plain line for a stop before the logger exists: seen by the entry, or by the CLI before it makes the logger. */
  const stopLine = /^ditto-sync-exporter: stop signal SIGTERM while loading, before anything was opened; stopped\n$/;

  // Each instant is a module of the CLI being loaded (a load hook sends the signal), not a time:
  // before, the signal handler was installed only after all of them, and each of these exited 143
  // with no line. (A signal within Node's own bootstrap, before dist/cli.js runs, still gets Node's
  // default: no JavaScript can handle it. SIGTERM right after spawn() lands there.)
  it.each(['dist/cli-main.js', 'node_modules/commander/', 'node_modules/pino/', 'node_modules/express/', 'node_modules/prom-client/', 'dist/server.js'])(
    'SIGTERM while %s loads: exit 0 with one plain line on stderr',
    async (module) => {
      const run = await runToExit(['--import', './test/fixtures/signal-at-load.mjs'], ['--source', 'simulate'], { SIGNAL_AT_LOAD: module });
      expect(run.result).toEqual([0, null]);
      expect(run.stderr).toMatch(stopLine);
      expect(run.stdout).toBe('');
    },
  );

  it('SIGTERM while the web config stack loads: exit 0 with one plain line (the logger does not exist yet)', async () => {
    const web = join(scratch, 'web.yml');
    writeFileSync(web, 'tls_server_config: {}\n');
    const run = await runToExit(['--import', './test/fixtures/signal-at-load.mjs'], ['--source', 'simulate', '--web.config.file', web], { SIGNAL_AT_LOAD: 'node_modules/yaml/' });
    expect(run.result).toEqual([0, null]);
    // Before: exit 0 and not a word.
    expect(run.stderr).toBe('ditto-sync-exporter: stop signal SIGTERM while reading the web config, before anything was opened; stopped\n');
    expect(run.stdout).toBe('');
  });

  it('SIGTERM while the OpenTelemetry backend loads (the logger exists): exit 0 with a log line, never serving', async () => {
    const run = await runToExit(['--import', './test/fixtures/signal-at-load.mjs'], ['--source', 'simulate', '--backend', 'otel', '--log-level', 'info'], {
      SIGNAL_AT_LOAD: 'node_modules/@opentelemetry/sdk-metrics/',
    });
    expect(run.result).toEqual([0, null]);
    expect(run.stdout).toMatch(/"signal":"SIGTERM","step":"starting the source","msg":"stop signal while starting the source: releasing what is open"/);
    expect(run.stdout).toContain('"msg":"stopped"');
    expect(run.stdout).not.toContain('serving /metrics');
    expect(run.stderr).toBe('');
  });
});

describe('stop signals before the port listens', () => {
  const hasMkfifo = spawnSync('mkfifo', ['--version']).status === 0;

  /** Starts the CLI and waits until it printed `marker` (or the guard ends). */
  async function spawnUntil(args: string[], marker: RegExp) {
    const port = await freePort();
    const child = spawn(process.execPath, ['dist/cli.js', ...args, '--listen', `127.0.0.1:${port}`], { cwd: ROOT });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await waitFor(() => (marker.test(out) ? true : undefined), 20_000).catch(() => undefined);
    return { child, port, output: () => out };
  }

  it.skipIf(!hasMkfifo)('a --replay FIFO with no writer: SIGTERM exits 0 with a log line, port never bound', async () => {
    const fifo = join(scratch, 'replay.fifo');
    spawnSync('mkfifo', [fifo]);
    const run = await spawnUntil(['--source', 'replay', '--replay', fifo, '--log-level', 'debug'], /starting the source/);
    const exited = exitOf(run.child);
    run.child.kill('SIGTERM');
    const result = await within(exited, 15_000);
    if (result === 'timeout') run.child.kill('SIGKILL');
    // Before: exit 143 with no log line (or no exit at all once a handler was installed).
    expect(result === 'timeout' ? 'timeout' : [result.code, result.signal]).toEqual([0, null]);
    expect(run.output()).toMatch(/stop signal while starting the source/);
    expect(run.output()).toContain('"msg":"stopped"');
  });

  it.skipIf(!hasMkfifo)('the Ditto source with a --record FIFO nobody reads: SIGTERM closes the store (it reopens) and exits 0', async () => {
    const fifo = join(scratch, 'record.fifo');
    spawnSync('mkfifo', [fifo]);
    const store = join(scratch, 'record-store');
    const run = await spawnUntil(['--persistence-dir', store, '--record', fifo, '--log-level', 'info'], /sync is not activated/);
    const exited = exitOf(run.child);
    run.child.kill('SIGTERM');
    const result = await within(exited, 15_000);
    if (result === 'timeout') run.child.kill('SIGKILL');
    expect(result === 'timeout' ? 'timeout' : [result.code, result.signal]).toEqual([0, null]);
    expect(run.output()).toContain('"msg":"stopped"');
    const again = await startCli(['--persistence-dir', store, '--log-level', 'warn']);
    expect(await again.stop()).toBe(0);
  });
});
