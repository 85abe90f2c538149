import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { canBind, openTempDitto, sampleValue, tempDir } from './ditto-test-kit.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** The example app's stdout, line by line, with a way to wait for a condition on what it printed. */
function watchLines(child: ChildProcess) {
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const until = (done: () => boolean, what: string, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      if (done()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; stdout so far:\n${lines.slice(-10).join('\n')}`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      };
      waiters.add(check);
    });
  return { lines, until };
}

describe('graceful shutdown of an app writing through instrumentStore()', () => {
  const dir = tempDir('dse-shutdown-');
  const databaseId = randomUUID();
  let child: ChildProcess | undefined;

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM mid-stream: exit 0, port and store lock released, every resolved write present after reopen', async () => {
    let stderr = '';
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'examples/embedded-app.ts', '--port', '0', '--dir', dir, '--database-id', databaseId, '--writers', '3'],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const out = watchLines(child);
    const wrote = () => out.lines.filter((l) => l.startsWith('wrote '));

    await out.until(() => out.lines.some((l) => l.startsWith('listening ')), 'the app to listen');
    const port = Number(/^listening .*:(\d+)$/.exec(out.lines.find((l) => l.startsWith('listening '))!)![1]);
    await out.until(() => wrote().length >= 30, '30 writes');

    // The exporter inside the app tracks the writers' commit ids. Read what was printed before the
    // scrape: writes go on meanwhile, and each is tracked before its line is printed.
    const printedSoFar = wrote().map((l) => BigInt(l.split(' ')[2]!));
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const highestPrinted = printedSoFar.reduce((a, b) => (b > a ? b : a));
    expect(sampleValue(metrics, 'ditto_sync_local_commit_id')).toBeGreaterThanOrEqual(Number(highestPrinted));
    expect(sampleValue(metrics, 'ditto_sync_cloud_unacked_commits')).toBeGreaterThanOrEqual(printedSoFar.length);

    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect({ code, signal, stderr: stderr.includes('failed') ? stderr : '' }).toEqual({ code: 0, signal: null, stderr: '' });
    expect(out.lines.at(-1)).toBe('stopped');

    expect(await canBind(port)).toBe(true);

    const reopened = await openTempDitto({ dir, databaseId }); // fails with "File already locked" if the lock leaked
    try {
      const stored = await reopened.ditto.store.execute('SELECT _id FROM events');
      const storedIds = new Set(stored.items.map((item) => item.value._id as string));
      const resolvedIds = wrote().map((l) => l.split(' ')[1]!);
      expect(resolvedIds.length).toBeGreaterThanOrEqual(30);
      expect(resolvedIds.filter((id) => !storedIds.has(id))).toEqual([]);
      expect(storedIds.size).toBe(resolvedIds.length); // and nothing was written that the app did not see resolve
    } finally {
      await reopened.ditto.close();
    }
    // Its own waits (start, writes, exit, reopen) may add up to more than the default 30 s on a busy
    // machine; each of them is bounded, so the test is too.
  }, 120_000);
});
