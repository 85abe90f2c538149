import { describe, expect, it } from 'vitest';
import { generatedFiles } from '../scripts/stack/generate.js';
import { readText } from './stack/files.js';

describe('generated stack files', () => {
  it.each([...generatedFiles()].map(([path, text]) => [path, text] as const))('%s is up to date with scripts/stack/ (npm run stack:generate)', (path, text) => {
    let committed: string;
    try {
      committed = readText(path);
    } catch {
      throw new Error(`${path} is missing: run npm run stack:generate`);
    }
    // toBe on whole files prints a readable diff of what changed.
    expect(committed, `${path} is stale: run npm run stack:generate`).toBe(text);
  });
});
