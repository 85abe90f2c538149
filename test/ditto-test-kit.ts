/** Shared helpers for the tests that run the real Ditto SDK. */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Ditto, DittoConfig, Logger } from '@dittolive/ditto';

// Quiet the SDK before any instance opens (it logs INFO to stdout by default).
Logger.minimumLogLevel = 'Warning';

export interface TempDitto {
  readonly ditto: Ditto;
  readonly dir: string;
  /** Closes the instance (if still open) and deletes its directory. */
  dispose(): Promise<void>;
}

export function tempDir(prefix = 'dse-ditto-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function openTempDitto(options: { strictMode?: boolean; dir?: string; databaseId?: string } = {}): Promise<TempDitto> {
  const dir = options.dir ?? tempDir();
  const ditto = await Ditto.open(new DittoConfig(options.databaseId ?? randomUUID(), { mode: 'smallPeersOnly' }, dir));
  if (options.strictMode !== undefined) {
    await ditto.store.execute(`ALTER SYSTEM SET DQL_STRICT_MODE = ${options.strictMode}`);
  }
  return {
    ditto,
    dir,
    async dispose() {
      if (!ditto.isClosed) await ditto.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The value of one sample in Prometheus text, or undefined when absent. `labels` must list the
 * sample's labels exactly in the order they are written.
 */
export function sampleValue(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const key = pairs.length > 0 ? `${name}{${pairs.join(',')}}` : name;
  for (const line of body.split('\n')) {
    if (line.startsWith(`${key} `)) return Number(line.slice(key.length + 1).split(' ')[0]);
  }
  return undefined;
}

/** Every sample of a family as [labels text, value]. */
export function samples(body: string, name: string): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const line of body.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (match && match[1] === name) out.push([match[2] ?? '', Number(match[3])]);
  }
  return out;
}

/** A TCP port that was free a moment ago (bound and released on 127.0.0.1). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** Whether a TCP listener accepts on 127.0.0.1:port right now. */
export async function canBind(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Collects unhandled rejections for the duration of a test file. */
export function watchUnhandledRejections(): { readonly seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', listener);
  return { seen, stop: () => void process.off('unhandledRejection', listener) };
}
