import { spawn } from 'node:child_process';

/** Runs a command to completion and returns its stdout; a non-zero exit is an error with stderr. */
export function runChild(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.trim()}`))));
  });
}

/** A TypeScript file of this directory, run by this Node with tsx. */
export function tsChild(file: string, args: readonly string[]): Promise<string> {
  return runChild(process.execPath, ['--import', 'tsx', new URL(file, import.meta.url).pathname, ...args]);
}
