import type { FamilyDef } from '../catalogue.js';
import type { SampleSink } from '../collectors/families.js';
import type { LabelSet } from './labels.js';
import { formatValue, headerFor, type ExpositionFormat } from './format.js';

/** Writes samples straight to exposition text; a family's header goes out with its first sample. */
export class TextSink implements SampleSink {
  private readonly parts: string[] = [];
  private chunk = '';
  private current: FamilyDef | undefined;

  constructor(private readonly format: ExpositionFormat) {}

  sample(def: FamilyDef, name: string, labels: LabelSet, value: number | bigint, extra?: LabelSet): void {
    if (def !== this.current) {
      this.current = def;
      this.chunk += headerFor(def, this.format);
    }
    let text = labels.text;
    if (extra && extra.text) text = text ? `${text},${extra.text}` : extra.text;
    this.chunk += text ? `${name}{${text}} ${formatValue(value)}\n` : `${name} ${formatValue(value)}\n`;
    // Flat chunks keep V8's rope strings shallow on very large bodies.
    if (this.chunk.length > 65536) this.flush();
  }

  private flush(): void {
    if (this.chunk) this.parts.push(this.chunk);
    this.chunk = '';
  }

  text(): string {
    this.flush();
    return this.parts.join('');
  }
}
