import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SyncExporter } from '../src/exporter.js';
import { FleetSource } from '../src/sources/fleet/fleet-source.js';
import { BlockRecorder, longestWithin, type Window } from './blocks.js';
import { settledGc } from './gc.js';
import { summarize, type Summary } from './stats.js';

export const FLEET_MODES = ['full', 'aggregates'] as const;
export type FleetMode = (typeof FLEET_MODES)[number];

export interface FleetResult {
  readonly devices: number;
  /** full: a per-device series for every device; aggregates: --fleet-device-id-label none. */
  readonly mode: FleetMode;
  /** The first read (label sets built) and the later ones (reused), milliseconds. */
  readonly firstRefreshMs: number;
  readonly refresh: Summary;
  readonly pages: number;
  readonly scrape: Summary;
  readonly bodyBytes: number;
  /** heapUsed after GC holding the inventory, minus before the exporter existed. */
  readonly retainedBytes: number;
  readonly bytesPerDevice: number;
  /** Longest event-loop block while a refresh ran, and while a scrape ran, ms (0: none of 5 ms or more). */
  readonly longestBlockInRefresh: number;
  readonly longestBlockInScrape: number;
}

const KEY = 'bench-key';

/** The emulator child process, serving `devices` documents; resolves with its URL and a stop function. */
async function startEmulator(devices: number): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fleet-emulator-child.ts', import.meta.url).pathname, String(devices), KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the emulator exited ${code}`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  return { url: line.trim(), stop: () => void child.kill() };
}

/**
 * Reads `devices` devices from the emulator `reads` times and scrapes `scrapes` times, as the CLI
 * does (prom-client backend), recording how long each took and how long it kept the event loop.
 * `collect` forces a GC before the heap readings (a no-op gives meaningless heap figures).
 */
export async function measureFleet(devices: number, mode: FleetMode, reads = 3, scrapes = 5, collect: () => Promise<void> = settledGc): Promise<FleetResult> {
  const emulator = await startEmulator(devices);
  try {
    await collect();
    const before = process.memoryUsage().heapUsed;
    const source = new FleetSource({
      url: emulator.url,
      apiKey: () => KEY,
      intervalSeconds: 86_400,
      requestTimeoutSeconds: 120,
      maxDevices: devices,
      deviceIdLabel: mode === 'full' ? 'full' : 'none',
    });
    const exporter = new SyncExporter(source, { collectDefaultMetrics: false });
    const recorder = new BlockRecorder();
    const refreshWindows: Window[] = [];
    const refreshMs: number[] = [];
    const scrapeWindows: Window[] = [];
    const scrapeMs: number[] = [];
    let bodyBytes = 0;
    try {
      for (let i = 0; i < reads; i++) {
        const window: Window = { start: performance.now(), end: Infinity };
        // The first read starts with the source; later ones are asked for.
        if (i === 0) await exporter.start();
        await source.readNow();
        window.end = performance.now();
        refreshWindows.push(window);
        refreshMs.push(window.end - window.start);
        if (!source.fleetView().up) throw new Error('the bench inventory read failed');
      }
      for (let i = 0; i < scrapes; i++) {
        const window: Window = { start: performance.now(), end: Infinity };
        bodyBytes = (await exporter.scrape('prometheus')).body.length;
        window.end = performance.now();
        scrapeWindows.push(window);
        scrapeMs.push(window.end - window.start);
      }
      recorder.stop();
      await collect();
      const retainedBytes = process.memoryUsage().heapUsed - before;
      const devicesRead = source.fleetView().inventory!.devices;
      if (devicesRead !== devices) throw new Error(`read ${devicesRead} devices, expected ${devices}`);
      return {
        devices,
        mode,
        firstRefreshMs: refreshMs[0]!,
        refresh: summarize(refreshMs.slice(1)),
        // Requests per read: every page of 500, then the empty page that ends the read.
        pages: Math.ceil(devices / 500) + 1,
        scrape: summarize(scrapeMs),
        bodyBytes,
        retainedBytes,
        bytesPerDevice: retainedBytes / devices,
        longestBlockInRefresh: longestWithin(recorder.blocks, refreshWindows),
        longestBlockInScrape: longestWithin(recorder.blocks, scrapeWindows),
      };
    } finally {
      recorder.stop();
      await exporter.close();
    }
  } finally {
    emulator.stop();
  }
}
