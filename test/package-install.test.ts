import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SUPPORTED_DITTO_SDK } from '../src/sources/ditto-sdk.js';
import { ROOT, startCli } from './helpers/cli.js';
import { valueOf } from './helpers/exposition.js';

// The package as a user gets it: `npm pack`, installed into empty projects, used from there.
// `withSdk` already has @dittolive/ditto (a file: link to this repository's copy, so the 400 MB
// SDK is not fetched again); `bare` has only the exporter, as a fleet- or replay-only install.
// The exporter's own dependencies come from npm's cache (or the registry, when the cache lacks them).

const run = promisify(execFile);
const FIXTURES = join(ROOT, 'test/fixtures/consumer');
const SDK_DIR = join(ROOT, 'node_modules/@dittolive/ditto');

/** npm's environment without what `npm test` exported for this repository (its prefix, package, lifecycle). */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_userconfig']);
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.has(k.toLowerCase())));
}

async function npm(args: readonly string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run('npm', [...args], { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

let dir = '';
let withSdk = '';
let bare = '';
let packedFiles: string[] = [];

function project(name: string, dependencies: Record<string, string>): string {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module', dependencies }, null, 2));
  for (const file of ['record-loads.mjs', 'import-entry.mjs', 'library-mode.mjs', 'consumer.ts']) copyFileSync(join(FIXTURES, file), join(root, file));
  copyFileSync(join(FIXTURES, 'tsconfig.consumer.json'), join(root, 'tsconfig.json'));
  return root;
}

const bin = (root: string) => ({ path: join(root, 'node_modules/.bin/ditto-sync-exporter'), cwd: root });

/** The node_modules package a loaded URL belongs to ('@scope/name' or 'name'), or undefined for node: and data: URLs. */
function packageOf(url: string): string | undefined {
  const at = url.lastIndexOf('/node_modules/');
  if (at < 0) return undefined;
  const parts = url.slice(at + '/node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Every module URL the process loaded, as record-loads.mjs wrote them. */
function readLoads(file: string): string[] {
  return [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))];
}

const packages = (loads: readonly string[]) => new Set(loads.map(packageOf).filter((p): p is string => p !== undefined));
/** Files of the installed exporter, relative to its package root ("dist/attach.js"). */
const ownFiles = (loads: readonly string[]) =>
  loads.filter((u) => u.includes('/node_modules/ditto-sync-exporter/')).map((u) => u.slice(u.lastIndexOf('/node_modules/ditto-sync-exporter/') + '/node_modules/ditto-sync-exporter/'.length));
const otelOf = (loads: readonly string[]) => [...packages(loads)].filter((p) => p.startsWith('@opentelemetry/')).sort();

/** What `node --import ./record-loads.mjs import-entry.mjs <specifier>` loads in a project. */
async function loadsOfImport(root: string, specifier: string): Promise<string[]> {
  const out = join(dir, `loads-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(out, '');
  await run(process.execPath, ['--import', './record-loads.mjs', 'import-entry.mjs', specifier], { cwd: root, env: { ...process.env, RECORD_LOADS_TO: out } });
  return readLoads(out);
}

/** Modules that belong to the web config stack: the parsers and the bcrypt worker. */
const WEB_PACKAGES = ['yaml', 'zod', 'bcryptjs'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dse-pack-'));
  // No scripts: global-setup built dist/ from the current sources, and `prepare` would build it again.
  const [packed] = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  packedFiles = packed!.files.map((f) => f.path);
  const tarball = join(dir, packed!.filename);
  withSdk = project('with-sdk', { '@dittolive/ditto': `file:${realpathSync(SDK_DIR)}` });
  bare = project('bare', {});
  const install = ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball];
  await npm(install, withSdk);
  await npm(install, bare);
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('holds dist/, the README and package.json only, with every export target and no docs tooling', () => {
    expect(packedFiles.filter((f) => !f.startsWith('dist/')).sort()).toEqual(['README.md', 'package.json']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>>; bin: Record<string, string> };
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    for (const target of [...targets, ...Object.values(pkg.bin)]) expect(packedFiles, target).toContain(target.replace(/^\.\//, ''));
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './fleet', './otel', './package.json', './web']);
    // The README tables generator lives in scripts/; nothing docs-only ships.
    expect(packedFiles.filter((f) => /docs|readme|tables/i.test(f) && f !== 'README.md')).toEqual([]);
  });

  it('declares the Ditto SDK as an optional peer with the supported range, and the README states it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(pkg['dependencies']!['@dittolive/ditto']).toBeUndefined();
    expect(pkg['peerDependencies']!['@dittolive/ditto']).toBe(SUPPORTED_DITTO_SDK);
    expect(pkg['peerDependenciesMeta']!['@dittolive/ditto']).toEqual({ optional: true });
    expect(pkg['devDependencies']!['@dittolive/ditto']).toBe('5.1.0');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(`\`@dittolive/ditto\` ${SUPPORTED_DITTO_SDK}`);
  });

  it('installs without the SDK when the project has none (the peer is optional)', () => {
    expect(existsSync(join(bare, 'node_modules/ditto-sync-exporter/dist/cli.js'))).toBe(true);
    expect(existsSync(join(bare, 'node_modules/@dittolive/ditto'))).toBe(false);
  });
});

describe('library mode in a project with its own Ditto', () => {
  it('attaches to a real Ditto instance: metrics() and the mounted router serve its sync state', async () => {
    const { stdout } = await run(process.execPath, ['library-mode.mjs'], { cwd: withSdk });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as { commitID: string; direct: string; status: number; contentType: string; served: string };
    expect(result.status).toBe(200);
    expect(result.contentType).toContain('text/plain; version=0.0.4');
    for (const body of [result.direct, result.served]) {
      expect(valueOf(body, 'ditto_sync_up')).toBe(1);
      // The write went through the instrumented ditto.store.execute: its commit id is tracked.
      expect(valueOf(body, 'ditto_sync_tracked_commits_total')).toBe(1);
      expect(valueOf(body, 'ditto_sync_local_commit_id')).toBe(Number(result.commitID));
      expect(valueOf(body, 'ditto_sync_exporter_build_info', { version: '0.1.0', ditto_sdk_version: '5.1.0' })).toBe(1);
      expect(body).toMatch(/^process_cpu_user_seconds_total /m);
    }
  }, 60_000);

  it('the main entry loads no OpenTelemetry beyond what prom-client itself loads, no web module, no fleet source, no SDK', async () => {
    const [ours, promClientAlone] = await Promise.all([loadsOfImport(withSdk, 'ditto-sync-exporter'), loadsOfImport(withSdk, 'prom-client')]);
    const own = ownFiles(ours);
    // The recorder sees what was loaded: the entry, its CommonJS dependencies, prom-client.
    expect(own).toContain('dist/index.js');
    expect(own).toContain('dist/attach.js');
    expect(packages(ours)).toContain('prom-client');
    expect(packages(ours)).toContain('express');
    // prom-client requires @opentelemetry/api (the API package, for exemplars) on its own; nothing else.
    expect(otelOf(promClientAlone)).toEqual(['@opentelemetry/api']);
    expect(otelOf(ours)).toEqual(otelOf(promClientAlone));
    for (const name of [...WEB_PACKAGES, '@dittolive/ditto']) expect(packages(ours), name).not.toContain(name);
    expect(own.filter((f) => /^dist\/(web\/|backends\/(otel|otlp)|otel\.js|fleet\.js|sources\/fleet\/|sources\/ditto-open)/.test(f))).toEqual([]);
  }, 60_000);

  it('the subpaths load what they are for', async () => {
    const [otel, web, fleet] = await Promise.all([
      loadsOfImport(withSdk, 'ditto-sync-exporter/otel'),
      loadsOfImport(withSdk, 'ditto-sync-exporter/web'),
      loadsOfImport(withSdk, 'ditto-sync-exporter/fleet'),
    ]);
    expect(otelOf(otel)).toEqual(expect.arrayContaining(['@opentelemetry/sdk-metrics', '@opentelemetry/exporter-prometheus', '@opentelemetry/exporter-metrics-otlp-http', '@opentelemetry/resources']));
    expect([...packages(web)]).toEqual(expect.arrayContaining(['yaml', 'zod']));
    expect(ownFiles(web)).toContain('dist/web/bcrypt-pool.js');
    expect(ownFiles(fleet)).toContain('dist/sources/fleet/fleet-source.js');
    expect(otelOf(fleet)).toEqual([]);
  }, 60_000);
});

describe('a TypeScript project', () => {
  it('resolves the types of every entry (NodeNext), and they are real types', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: withSdk }).then(
      () => ({ ok: true, out: '' }),
      (error: { stdout?: string }) => ({ ok: false, out: error.stdout ?? String(error) }),
    );
    expect(result.out).toBe('');
    expect(result.ok).toBe(true);
  }, 60_000);
});

describe('the installed CLI', () => {
  it('--source simulate serves metrics and loads neither the SDK nor OpenTelemetry nor the web config stack', async () => {
    const out = join(dir, 'cli-simulate-loads.txt');
    writeFileSync(out, '');
    const cli = await startCli(['--source', 'simulate', '--log-level', 'warn'], {
      bin: bin(withSdk),
      env: { NODE_OPTIONS: `--import=${join(withSdk, 'record-loads.mjs')}`, RECORD_LOADS_TO: out },
    });
    let body: string;
    try {
      body = await (await fetch(`${cli.base}/metrics`)).text();
    } finally {
      expect(await cli.stop()).toBe(0);
    }
    expect(valueOf(body, 'ditto_sync_up')).toBe(1);
    expect(valueOf(body, 'ditto_sync_exporter_info', { source: 'simulate', backend: 'prom-client', strict_mode: 'none', peer_id_label: 'full' })).toBe(1);
    const loads = readLoads(out);
    expect(ownFiles(loads)).toContain('dist/cli.js');
    expect(otelOf(loads)).toEqual(['@opentelemetry/api']);
    for (const name of [...WEB_PACKAGES, '@dittolive/ditto']) expect(packages(loads), name).not.toContain(name);
    // Only the plain HTTP server factory and the fleet flag defaults, never the rest of either.
    expect(ownFiles(loads).filter((f) => /^dist\/(web|sources\/fleet)\//.test(f)).sort()).toEqual(['dist/sources/fleet/defaults.js', 'dist/web/http-server.js']);
  }, 60_000);

  it('--source ditto opens a real store through the peer SDK', async () => {
    const cli = await startCli(['--source', 'ditto', '--persistence-dir', join(dir, 'cli-store'), '--log-level', 'warn'], { bin: bin(withSdk) });
    let body: string;
    try {
      body = await (await fetch(`${cli.base}/metrics`)).text();
    } finally {
      expect(await cli.stop()).toBe(0);
    }
    expect(valueOf(body, 'ditto_sync_up')).toBe(1);
    expect(valueOf(body, 'ditto_sync_exporter_build_info', { version: '0.1.0', ditto_sdk_version: '5.1.0' })).toBe(1);
    expect(valueOf(body, 'ditto_device_storage_up')).toBe(1);
  }, 60_000);

  it('--backend otel works with the OpenTelemetry packages npm resolved from the ranges', async () => {
    const cli = await startCli(['--source', 'simulate', '--backend', 'otel', '--log-level', 'warn'], { bin: bin(withSdk) });
    let body: string;
    try {
      const response = await fetch(`${cli.base}/metrics`);
      expect(response.status).toBe(200);
      body = await response.text();
    } finally {
      expect(await cli.stop()).toBe(0);
    }
    expect(valueOf(body, 'ditto_sync_up')).toBe(1);
    expect(valueOf(body, 'ditto_sync_exporter_info', { source: 'simulate', backend: 'otel', strict_mode: 'none', peer_id_label: 'full' })).toBe(1);
  }, 60_000);

  it('without the SDK: --source ditto fails with one clear line and exit 1; other sources run', async () => {
    const child = spawn(bin(bare).path, ['--source', 'ditto', '--persistence-dir', join(dir, 'bare-store'), '--listen', '127.0.0.1:0'], { cwd: bare });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `ditto-sync-exporter: --source ditto needs the Ditto SDK, an optional peer dependency that is not installed: npm install @dittolive/ditto@${SUPPORTED_DITTO_SDK}\n`,
    );
    expect(existsSync(join(dir, 'bare-store'))).toBe(false);

    const cli = await startCli(['--source', 'simulate', '--log-level', 'warn'], { bin: bin(bare) });
    try {
      expect(valueOf(await (await fetch(`${cli.base}/metrics`)).text(), 'ditto_sync_up')).toBe(1);
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  }, 60_000);
});
