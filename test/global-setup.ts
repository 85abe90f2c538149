import { execFileSync } from 'node:child_process';

/** CLI tests run dist/cli.js, as `npm start` does: build it once from the current sources. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
