import type { FamilyDef } from '../catalogue/index.js';
import type { HistogramData } from '../collectors/histogram.js';
import type { SampleSink } from '../collectors/samples.js';
import type { ByteWriter } from './byte-writer.js';
import { isAscii, labelSet, NO_LABELS, type LabelSet } from './labels.js';
import { formatLe, formatValue, headerFor, sampleName, type ExpositionFormat } from './format.js';

/** Lines joined into one flat chunk at a time (about 60 kB of text). */
const LINES_PER_CHUNK = 512;

export interface TextSinkOptions {
  /**
   * Write the body chunk by chunk into this writer instead of building a string (read it with
   * `writer.bytes`): an all-ASCII chunk is a plain Latin-1 copy. One megabyte string is otherwise
   * flattened and UTF-8 encoded in one step when it is sent, which costs about as much as writing it.
   */
  readonly writer?: ByteWriter;
  /**
   * Labels added to every sample after its own (a prom-client registry's default labels), left
   * out where a family has a label of the same name, as prom-client does.
   */
  readonly constLabels?: LabelSet;
}

/** Writes typed samples straight to exposition text; a family's header goes out with its first sample. */
export class TextSink implements SampleSink {
  // Lines are collected in a small array and joined into one flat chunk every LINES_PER_CHUNK
  // lines, so a line is garbage as soon as its chunk exists. Appending every line with `+=` kept
  // a rope node per line alive until the end: the garbage collector copied them around and the
  // final flatten walked them all, which at 10,000 peers cost more than writing the text.
  private body = '';
  private readonly writer: ByteWriter | undefined;
  /** Whether everything written since the last flush is ASCII. */
  private ascii = true;
  private lines: string[] = [];
  private current: FamilyDef | undefined;
  private sampleNameOf = '';
  private constText = '';
  private readonly constLabels: LabelSet;
  private readonly constByFamily = new Map<FamilyDef, string>();

  constructor(
    private readonly format: ExpositionFormat,
    options: TextSinkOptions = {},
  ) {
    this.constLabels = options.constLabels ?? NO_LABELS;
    this.writer = options.writer;
  }

  value(def: FamilyDef, labels: LabelSet, value: number | bigint, extra?: LabelSet): void {
    if (def !== this.current) this.begin(def);
    if (labels.ascii !== true || (extra !== undefined && extra.ascii !== true)) this.checkAscii(labels, extra);
    let text = labels.text;
    if (extra && extra.text) text = text ? `${text},${extra.text}` : extra.text;
    this.line(this.sampleNameOf, text, formatValue(value));
  }

  histogram(def: FamilyDef, labels: LabelSet, data: HistogramData): void {
    if (def !== this.current) this.begin(def);
    if (labels.ascii !== true) this.checkAscii(labels);
    const base = labels.text ? `${labels.text},` : '';
    let cumulative = 0;
    for (let i = 0; i < data.bounds.length; i++) {
      cumulative += data.counts[i]!;
      this.line(`${def.name}_bucket`, `${base}le="${formatLe(data.bounds[i]!)}"`, formatValue(cumulative));
    }
    this.line(`${def.name}_bucket`, `${base}le="+Inf"`, formatValue(data.count));
    this.line(`${def.name}_sum`, labels.text, formatValue(data.sum));
    this.line(`${def.name}_count`, labels.text, formatValue(data.count));
  }

  /** Label sets made elsewhere may not say whether they are ASCII: look. */
  private checkAscii(labels: LabelSet, extra?: LabelSet): void {
    if (!(labels.ascii ?? isAscii(labels.text)) || (extra !== undefined && !(extra.ascii ?? isAscii(extra.text)))) this.ascii = false;
  }

  private begin(def: FamilyDef): void {
    this.current = def;
    this.sampleNameOf = sampleName(def, this.format);
    const header = headerFor(def, this.format);
    this.lines.push(header);
    let constText = this.constByFamily.get(def);
    if (constText === undefined) {
      constText = constTextFor(def, this.constLabels);
      this.constByFamily.set(def, constText);
    }
    this.constText = constText;
    if (!isAscii(header) || !isAscii(constText)) this.ascii = false;
  }

  private line(name: string, labels: string, value: string): void {
    const text = this.constText ? (labels ? `${labels},${this.constText}` : this.constText) : labels;
    this.lines.push(text ? `${name}{${text}} ${value}\n` : `${name} ${value}\n`);
    if (this.lines.length >= LINES_PER_CHUNK) this.flush();
  }

  private flush(): void {
    const chunk = this.lines.join('');
    this.lines = [];
    if (this.writer) {
      if (chunk !== '') this.writer.write(chunk, this.ascii);
      this.ascii = true;
      return;
    }
    // Chunks are appended, not joined: the body is flattened once, where it is finally written
    // out with the registry's text after it, instead of copying megabytes twice.
    this.body += chunk;
  }

  /** The body as one string (without a writer). */
  text(): string {
    if (this.writer) throw new Error('TextSink made with a writer: read the writer');
    this.flush();
    return this.body;
  }

  /** Writes what is still buffered into the writer. */
  end(): void {
    this.flush();
  }
}

/** The const labels a family's samples carry: those whose names it does not use itself. */
function constTextFor(def: FamilyDef, constLabels: LabelSet): string {
  if (constLabels.text === '') return '';
  const own = new Set([...def.labels, ...(def.type === 'histogram' ? ['le'] : [])]);
  const pairs = Object.entries(constLabels.pairs).filter(([name]) => !own.has(name));
  return labelSet(Object.fromEntries(pairs)).text;
}
