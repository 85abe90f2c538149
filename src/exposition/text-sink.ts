import type { FamilyDef } from '../catalogue.js';
import type { SampleSink } from '../collectors/families.js';
import type { LabelSet } from './labels.js';
import { formatValue, headerFor, type ExpositionFormat } from './format.js';

/** Lines joined into one flat chunk at a time (about 60 kB of text). */
const LINES_PER_CHUNK = 512;

/** Writes samples straight to exposition text; a family's header goes out with its first sample. */
export class TextSink implements SampleSink {
  // Lines are collected in a small array and joined into one flat chunk every LINES_PER_CHUNK
  // lines, so a line is garbage as soon as its chunk exists. Appending every line with `+=` kept
  // a rope node per line alive until the end: the garbage collector copied them around and the
  // final flatten walked them all, which at 10,000 peers cost more than writing the text.
  private body = '';
  private lines: string[] = [];
  private current: FamilyDef | undefined;

  constructor(private readonly format: ExpositionFormat) {}

  sample(def: FamilyDef, name: string, labels: LabelSet, value: number | bigint, extra?: LabelSet): void {
    if (def !== this.current) {
      this.current = def;
      this.lines.push(headerFor(def, this.format));
    }
    let text = labels.text;
    if (extra && extra.text) text = text ? `${text},${extra.text}` : extra.text;
    this.lines.push(text ? `${name}{${text}} ${formatValue(value)}\n` : `${name} ${formatValue(value)}\n`);
    if (this.lines.length >= LINES_PER_CHUNK) this.flush();
  }

  private flush(): void {
    // Chunks are appended, not joined: the body is flattened once, where it is finally written
    // out with the registry's text after it, instead of copying megabytes twice.
    this.body += this.lines.join('');
    this.lines = [];
  }

  text(): string {
    this.flush();
    return this.body;
  }
}
