/**
 * Writes the generated alert rules, recording rules and Grafana dashboards.
 *   tsx scripts/generate-stack.ts          write them
 *   tsx scripts/generate-stack.ts --check  exit 1 and name the files that are out of date
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedFiles } from './stack/generate.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const stale: string[] = [];

for (const [path, text] of generatedFiles()) {
  const file = join(root, path);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  if (check) stale.push(path);
  else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    console.log(`wrote ${path}`);
  }
}

if (stale.length) {
  console.error(`out of date (run npm run stack:generate): ${stale.join(', ')}`);
  process.exit(1);
}
