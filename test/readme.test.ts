import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { flagsTable, metricsTable, replaceSection } from '../scripts/lib/docs-tables.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');

describe('README stays true', () => {
  it('lists every metric of the catalogue, as the catalogue says (npx tsx scripts/readme-tables.ts)', () => {
    expect(replaceSection(readme, 'metrics', metricsTable())).toBe(readme);
  });

  it('lists every flag with its environment twin and default (npx tsx scripts/readme-tables.ts)', () => {
    expect(replaceSection(readme, 'flags', flagsTable())).toBe(readme);
  });

  it('gives the exact test command that CI runs', () => {
    const command = /## Tests\s+```sh\n([^\n]+)\n```/.exec(readme)?.[1];
    expect(command).toBe('npm test');
    expect(ci).toMatch(/^npm test$/m);
  });

  it('has no unfinished placeholders', () => {
    expect(readme).not.toMatch(/[A-Z]+_PLACEHOLDER/);
  });
});
