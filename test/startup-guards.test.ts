import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopBeforeListening } from '../src/cli-main.js';
import { SyncExporter } from '../src/exporter.js';
import { Lifecycle, type SignalSource } from '../src/lifecycle.js';
import type { Logger } from '../src/logger.js';
import { checkFreeSpace, DittoConfigError, DittoEnvironmentError, MIN_FREE_BYTES, openDitto } from '../src/sources/ditto-open.js';
import { loadWebConfig } from '../src/web/web-config-load.js';
import { WebConfigError } from '../src/web/web-config.js';
import { ROOT, runCli, startCli } from './helpers/cli.js';
import { ManualSource } from './helpers/fake-source.js';
import { SCENARIO } from './helpers/replay-exporter.js';
import { haveBinary } from './helpers/tools.js';

const scratch = mkdtempSync(join(tmpdir(), 'startup-guards-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe.runIf(haveBinary('openssl'))('TLS cipher suites that cannot work with the certificate', () => {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rsa.key', '-out', 'rsa.crt', '-subj', '/CN=localhost', '-days', '1');
  const config = (suites: string, maxVersion = 'TLS12') => {
    const file = join(scratch, `web-${suites.length}-${maxVersion}.yml`);
    writeFileSync(file, `tls_server_config:\n  cert_file: rsa.crt\n  key_file: rsa.key\n  max_version: ${maxVersion}\n  cipher_suites: [${suites}]\n`);
    return file;
  };

  it('refuses ECDSA-only suites with an RSA certificate, whatever the max version, naming the key type', async () => {
    for (const max of ['TLS12', 'TLS13']) {
      const error = await loadWebConfig(config('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', max)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebConfigError);
      expect((error as Error).message).toMatch(/cipher_suites: none of the listed TLS 1\.2 suites works with the RSA certificate/);
      expect((error as Error).message).toMatch(max === 'TLS12' ? /no client could ever connect/ : /no TLS 1\.2 client could ever connect/);
    }
  });

  it('accepts suites that fit, and a list with at least one that fits', async () => {
    await expect(loadWebConfig(config('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'))).resolves.toBeDefined();
    await expect(loadWebConfig(config('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'))).resolves.toBeDefined();
  });

  it('the CLI exits 2 with one line for such a config', async () => {
    const { code, stderr } = await runCli(['--source', 'simulate', '--web.config.file', config('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256')]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/cipher_suites/);
  });
});

describe('what would make the Ditto SDK abort the process is refused first', () => {
  it('a non-ASCII --database-id: exit 2 with one line (the SDK panics, exit 134)', async () => {
    const { code, stdout, stderr } = await runCli(['--database-id', 'café', '--persistence-dir', join(scratch, 'id-store')]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^ditto-sync-exporter: --database-id: expected the database id from the Ditto portal \(1-256 visible ASCII characters\)/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stdout + stderr).not.toMatch(/panic|backtrace/i);
  });

  it('refuses control characters and spaces in the database id before opening anything', async () => {
    for (const id of ['a\u0001b', 'a b', 'ü', '']) {
      await expect(openDitto({ databaseId: id, persistenceDir: join(scratch, 'never') })).rejects.toBeInstanceOf(DittoConfigError);
    }
  });

  it('a filesystem with less than 16 MiB (or 64 inodes) free is refused, from injected filesystem stats', () => {
    const stats = (bavail: number, ffree = 1000) => () => ({ bavail, bsize: 4096, files: 10_000, ffree });
    expect(() => checkFreeSpace('/data', stats(0))).toThrow(DittoEnvironmentError);
    expect(() => checkFreeSpace('/data', stats(0))).toThrow(/--persistence-dir \/data: its filesystem has 0 KiB free; the Ditto store needs at least 16\.0 MiB/);
    expect(() => checkFreeSpace('/data', stats(MIN_FREE_BYTES / 4096 - 1))).toThrow(DittoEnvironmentError);
    expect(() => checkFreeSpace('/data', stats(MIN_FREE_BYTES / 4096))).not.toThrow();
    expect(() => checkFreeSpace('/data', stats(1e9, 3))).toThrow(/3 free inodes/);
    // Filesystems that report no inode counts at all are not refused for it.
    expect(() => checkFreeSpace('/data', () => ({ bavail: 1e9, bsize: 4096, files: 0, ffree: 0 }))).not.toThrow();
    expect(() => checkFreeSpace('/data', () => { throw new Error('ENOSYS'); })).not.toThrow();
  });

  it('openDitto checks before it opens: a full disk never reaches the SDK', async () => {
    const full = () => ({ bavail: 0, bsize: 4096, files: 10_000, ffree: 1000 });
    await expect(openDitto({ persistenceDir: join(scratch, 'full-store') }, undefined, { statfs: full })).rejects.toBeInstanceOf(DittoEnvironmentError);
  });

  // A real full disk: a 4 MiB tmpfs in a private mount namespace, which needs root (CAP_SYS_ADMIN).
  const canMount = haveBinary('unshare') && spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs ${scratch} && umount ${scratch}`]).status === 0;
  if (!canMount) console.warn('SKIPPED: cannot mount a tmpfs here (needs root and unshare); the full-disk check is covered by the injected statfs tests above');

  it.skipIf(!canMount)('on a real full tmpfs the CLI exits 1 with one line instead of the SDK aborting (134)', () => {
    const mountpoint = join(scratch, 'full');
    execFileSync('mkdir', ['-p', mountpoint]);
    const script = [
      `mount -t tmpfs -o size=4m tmpfs ${mountpoint}`,
      `dd if=/dev/zero of=${mountpoint}/fill bs=64k 2>/dev/null`,
      `cd ${ROOT} && ${process.execPath} dist/cli.js --persistence-dir ${mountpoint}/store --listen 127.0.0.1:0 --log-level warn; echo "exit=$?"`,
    ].join('; ');
    const run = spawnSync('unshare', ['-m', 'sh', '-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stdout).toMatch(/exit=1\n$/);
    // The SDK's own harmless start-up notes may precede it; the exporter's line is one line.
    expect(run.stderr).toMatch(/^ditto-sync-exporter: --persistence-dir .*: its filesystem has \d+ KiB free; the Ditto store needs at least 16\.0 MiB .*\n$/m);
    expect(run.stdout + run.stderr).not.toMatch(/Panic|backtrace/);
  });
});

describe('boolean environment variables through the CLI', () => {
  it('DITTO_EXPORTER_NO_PROCESS_METRICS=false keeps process metrics on; =true turns them off', async () => {
    for (const [value, present] of [
      ['false', true],
      ['true', false],
    ] as const) {
      const cli = await startCli(['--source', 'replay', '--replay', SCENARIO, '--log-level', 'warn'], { env: { DITTO_EXPORTER_NO_PROCESS_METRICS: value } });
      try {
        const body = await (await fetch(`${cli.base}/metrics`)).text();
        // Before: any value, "false" included, turned them off.
        expect(/^process_resident_memory_bytes /m.test(body), value).toBe(present);
      } finally {
        expect(await cli.stop()).toBe(0);
      }
    }
  });

  it('the CLI refuses --tcp-listen with a non-Ditto source, on one line', async () => {
    const { code, stderr } = await runCli(['--source', 'simulate', '--tcp-listen', ':4040']);
    expect(code).toBe(2);
    expect(stderr).toBe('ditto-sync-exporter: --tcp-listen is only used with --source ditto, not with --source simulate\n');
  });
});

describe('Lifecycle', () => {
  const fakeSignals = () => {
    const emitter = new EventEmitter();
    return { emitter, source: emitter as unknown as SignalSource };
  };

  it('a start-up step loses to a stop signal, and what it produces later is released', async () => {
    const { emitter, source } = fakeSignals();
    const lifecycle = new Lifecycle(source);
    let produce!: (v: string) => void;
    const released: string[] = [];
    const step = lifecycle.step(new Promise<string>((resolve) => (produce = resolve)), (value) => void released.push(value));
    emitter.emit('SIGINT');
    expect(await step).toEqual({ stopped: true, signal: 'SIGINT' });
    produce('store');
    expect(await lifecycle.settle(1000)).toBe(true);
    expect(released).toEqual(['store']);
    // After the stop, a new step is abandoned at once.
    expect(await lifecycle.step(Promise.resolve(1))).toEqual({ stopped: true, signal: 'SIGINT' });
    lifecycle.dispose();
  });

  it('treats SIGTERM, SIGINT and SIGHUP alike, and reports every later signal as a repeat', async () => {
    const { emitter, source } = fakeSignals();
    const lifecycle = new Lifecycle(source);
    const repeats: string[] = [];
    lifecycle.onRepeat((s) => void repeats.push(s));
    emitter.emit('SIGHUP');
    emitter.emit('SIGTERM');
    emitter.emit('SIGINT');
    expect(await lifecycle.stopped).toBe('SIGHUP');
    expect(repeats).toEqual(['SIGTERM', 'SIGINT']);
    expect(await lifecycle.step(Promise.resolve('x'))).toEqual({ stopped: true, signal: 'SIGHUP' });
    lifecycle.dispose();
    expect(emitter.listenerCount('SIGTERM')).toBe(0);
  });

  it('settle() gives up on a step that never finishes', async () => {
    const { emitter, source } = fakeSignals();
    const lifecycle = new Lifecycle(source);
    const step = lifecycle.step(new Promise<never>(() => {}));
    emitter.emit('SIGTERM');
    await step;
    expect(await lifecycle.settle(50)).toBe(false);
    lifecycle.dispose();
  });
});

describe('a stop before the port listens', () => {
  const fakeSignals = () => new EventEmitter() as unknown as SignalSource;
  /** A logger that keeps its messages. */
  const recording = () => {
    const lines: string[] = [];
    const log = (_obj: unknown, msg?: string) => void lines.push(msg ?? String(_obj));
    return { lines, logger: { debug: log, info: log, warn: log, error: log } as unknown as Logger };
  };
  /** Resolves with `value`, or 'timeout' after `ms`: the test's hang guard, far above the deadline. */
  const within = <T,>(promise: Promise<T>, ms: number) => Promise.race([promise, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms).unref())]);

  it('is bounded when the source never finishes closing: exit 1 after the deadline, with a log line', async () => {
    const source = new ManualSource();
    source.close = () => new Promise<void>(() => {});
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    await exporter.start();
    const lifecycle = new Lifecycle(fakeSignals());
    const { lines, logger } = recording();
    // Before: only the abandoned steps had a deadline; this waited on close() for ever.
    const code = await within(stopBeforeListening(lifecycle, logger, { signal: 'SIGTERM', step: 'starting the source' }, () => exporter.close(), 100), 10_000);
    expect(code).toBe(1);
    expect(lines).toEqual(['stop signal while starting the source: releasing what is open', 'releasing what was open did not finish within 0.1s; exiting']);
    lifecycle.dispose();
  });

  it('waits for the release before it says stopped', async () => {
    const lifecycle = new Lifecycle(fakeSignals());
    const { logger } = recording();
    let released = false;
    const release = () => new Promise<void>((resolve) => setTimeout(() => resolve(void (released = true)), 20));
    expect(await within(stopBeforeListening(lifecycle, logger, { signal: 'SIGINT', step: 'binding the port' }, release, 5_000), 10_000)).toBe(0);
    expect(released).toBe(true);
    lifecycle.dispose();
  });

  it('exit 0 once released; a release that fails is logged, not thrown', async () => {
    const lifecycle = new Lifecycle(fakeSignals());
    const { lines, logger } = recording();
    const code = await stopBeforeListening(lifecycle, logger, { signal: 'SIGTERM', step: 'binding the port' }, () => Promise.reject(new Error('boom')), 5_000);
    expect(code).toBe(0);
    expect(lines).toEqual(['stop signal while binding the port: releasing what is open', 'releasing failed', 'stopped']);
    lifecycle.dispose();
  });
});
