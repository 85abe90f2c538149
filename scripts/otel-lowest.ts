// Runs the type check and the OpenTelemetry tests against the LOWEST version of every
// @opentelemetry/* range in package.json (the suite itself runs the versions in the lockfile).
// `npm run otel:lowest`: installs those versions into a temporary directory (npm's cache, or the
// registry), builds a copy of the repository whose node_modules is this one's with those packages
// swapped in, runs there, and removes it all. Not part of `npm test`: it needs the registry.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
/** Every test that builds the OpenTelemetry backend or the OTLP push, plus the CLI with --backend otel. */
const TESTS = [
  'test/otel-health.test.ts',
  'test/otel-otlp.test.ts',
  'test/otel-parity.test.ts',
  'test/otel-text.test.ts',
  'test/otel-vanishing.test.ts',
  'test/exposition-golden.test.ts',
  'test/engine-metrics.test.ts',
  'test/device-families.test.ts',
  'test/fleet-cli.test.ts',
];

/** The lowest version a range admits: `^X.Y.Z` or `>=X.Y.Z <…` (the forms package.json uses). */
export function lowestOf(range: string): string {
  const match = /^(?:\^|>=)(\d+\.\d+\.\d+)(?:\s+<\S+)?$/.exec(range.trim());
  if (!match) throw new Error(`cannot read the lowest version of ${JSON.stringify(range)}`);
  return match[1]!;
}

function main(): void {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const lowest = Object.entries(pkg.dependencies)
    .filter(([name]) => name.startsWith('@opentelemetry/'))
    .map(([name, range]) => `${name}@${lowestOf(range)}`);
  const dir = mkdtempSync(join(tmpdir(), 'dse-otel-lowest-'));
  try {
    const install = join(dir, 'install');
    mkdirSync(install);
    writeFileSync(join(install, 'package.json'), JSON.stringify({ name: 'otel-lowest', version: '1.0.0', private: true }));
    console.log(`installing ${lowest.join(' ')}`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', ...lowest], { cwd: install, stdio: 'inherit' });

    const tree = join(dir, 'repo');
    mkdirSync(join(tree, 'node_modules'), { recursive: true });
    for (const entry of ['src', 'test', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'vitest.config.ts']) cpSync(join(ROOT, entry), join(tree, entry), { recursive: true });
    // tsconfig.json includes these folders; the type check needs them, the tests do not.
    for (const entry of ['bench', 'scripts', 'examples']) cpSync(join(ROOT, entry), join(tree, entry), { recursive: true });
    // The installed low versions and their own dependencies (protobufjs…) win; type packages stay ours.
    const swapped = readdirSync(join(install, 'node_modules')).filter((n) => !n.startsWith('.') && n !== '@types' && n !== 'undici-types');
    for (const name of swapped) cpSync(join(install, 'node_modules', name), join(tree, 'node_modules', name), { recursive: true, verbatimSymlinks: true });
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (!swapped.includes(name)) symlinkSync(join(ROOT, 'node_modules', name), join(tree, 'node_modules', name));
    }
    console.log(execFileSync('npm', ['ls', '--all', '@opentelemetry/sdk-metrics', '@opentelemetry/resources', '@opentelemetry/api'], { cwd: install, encoding: 'utf8' }));

    const node = process.execPath;
    execFileSync(node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: tree, stdio: 'inherit' });
    console.log('type check: clean');
    execFileSync(node, ['node_modules/vitest/vitest.mjs', 'run', ...TESTS.filter((t) => existsSync(join(tree, t)))], { cwd: tree, stdio: 'inherit', env: { ...process.env, CI: 'true' } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
