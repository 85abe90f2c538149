import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

/**
 * CLI tests run dist/cli.js, as `npm start` does: build it once from the current sources, into an
 * empty dist/ (a file left from a module since removed would otherwise be packed and loaded).
 */
export default function setup(): void {
  rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
