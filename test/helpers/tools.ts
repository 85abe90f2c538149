import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Whether a required external binary is here. In CI (CI=true) a missing one is a failure, never a
 * skip; locally the caller skips loudly.
 */
export function haveBinary(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).status === 0;
  if (!found) {
    if (process.env['CI']) throw new Error(`required binary ${name} is missing in CI: .ci/run must install it`);
    console.warn(`SKIPPED: ${name} is not installed here; these checks did not run (install Debian's package to run them)`);
  }
  return found;
}

export function run(cmd: string, args: readonly string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export { execFileSync };
