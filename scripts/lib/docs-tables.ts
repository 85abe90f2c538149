import { FAMILIES } from '../../src/catalogue/index.js';
import { FLAGS } from '../../src/config.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The README's metric table, from the catalogue. */
export function metricsTable(): string {
  const lines = ['| metric | type | labels | meaning |', '|---|---|---|---|'];
  for (const d of FAMILIES) lines.push(`| \`${d.name}\` | ${d.type} | ${d.labels.map((l) => `\`${l}\``).join(', ')} | ${cell(d.help)} |`);
  return lines.join('\n');
}

/** The README's flag tables, from the flag specs. */
export function flagsTable(): string {
  const out: string[] = [];
  let group = '';
  for (const f of FLAGS) {
    if (f.group !== group) {
      if (group) out.push('');
      group = f.group;
      out.push(`**${group}**`, '', '| flag | environment | default | bounds | meaning |', '|---|---|---|---|---|');
    }
    const def = f.default === undefined ? '' : `\`${String(f.default)}\``;
    const bounds = f.parse?.bounds ?? '';
    out.push(`| \`${f.flags}\` | \`${f.env}\` | ${def} | ${cell(bounds)} | ${cell(f.description)} |`);
  }
  return out.join('\n');
}

/** Replaces the text between `<!-- NAME:begin -->` and `<!-- NAME:end -->`. */
export function replaceSection(doc: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->\n`;
  const end = `\n<!-- ${name}:end -->`;
  const i = doc.indexOf(begin);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) throw new Error(`README has no ${name} section markers`);
  return doc.slice(0, i + begin.length) + body + doc.slice(j);
}
