// Regenerates the metric and flag tables in README.md from src/catalogue/ and src/config.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { flagsTable, metricsTable, replaceSection } from './lib/docs-tables.js';

const path = new URL('../README.md', import.meta.url);
const doc = readFileSync(path, 'utf8');
writeFileSync(path, replaceSection(replaceSection(doc, 'metrics', metricsTable()), 'flags', flagsTable()));
