import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from './net.js';

export const ROOT = new URL('../..', import.meta.url).pathname;

export interface RunningCli {
  readonly child: ChildProcess;
  readonly base: string;
  readonly port: number;
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after the timeout). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Starts the exporter CLI on 127.0.0.1:<free port> and waits until /healthz answers. */
export async function startCli(
  args: readonly string[],
  opts: {
    viaNpm?: boolean;
    /** An installed executable to run instead of this repository's dist/cli.js (its shebang starts node). */
    bin?: { readonly path: string; readonly cwd: string };
    env?: NodeJS.ProcessEnv;
    scheme?: 'http' | 'https';
    isUp?: (base: string) => Promise<boolean>;
  } = {},
): Promise<RunningCli> {
  const port = await freePort();
  const all = [...args, '--listen', `127.0.0.1:${port}`];
  const env = { ...process.env, ...opts.env };
  const child = opts.viaNpm
    ? // Its own process group, so a stop reaches npm, its shell and the exporter alike (as a terminal's Ctrl-C does).
      spawn('npm', ['start', '--silent', '--', ...all], { cwd: ROOT, env, detached: true })
    : opts.bin
      ? spawn(opts.bin.path, all, { cwd: opts.bin.cwd, env })
      : spawn(process.execPath, ['dist/cli.js', ...all], { cwd: ROOT, env });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `${opts.scheme ?? 'http'}://127.0.0.1:${port}`;
  const isUp = opts.isUp ?? (async (b: string) => (await fetch(`${b}/healthz`)).ok);
  try {
    await waitFor(async () => (child.exitCode === null && (await isUp(base)) ? true : undefined), 20_000);
  } catch (error) {
    if (opts.viaNpm) process.kill(-child.pid!, 'SIGKILL');
    else child.kill('SIGKILL');
    throw new Error(`CLI did not come up: ${String(error)}\n${out}`);
  }
  return {
    child,
    base,
    port,
    output: () => out,
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null) return child.exitCode;
      const signal = (sig: NodeJS.Signals) => (opts.viaNpm ? process.kill(-child.pid!, sig) : child.kill(sig));
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Runs the CLI to completion (for flag errors and --help). */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}
