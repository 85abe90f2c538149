/** A label set kept both as pairs (for object-based APIs) and as escaped exposition text. */
export interface LabelSet {
  readonly pairs: Readonly<Record<string, string>>;
  /** `a="x",b="y"`: escaped, without braces. */
  readonly text: string;
  /** True when `text` is all ASCII, so its UTF-8 bytes are its characters (known at creation). */
  readonly ascii?: boolean;
}

const ASCII = /^[\x00-\x7f]*$/;

/** Whether a string is all ASCII: then Latin-1 and UTF-8 encode it alike, and Latin-1 is a copy. */
export const isAscii = (text: string): boolean => ASCII.test(text);

export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

export function labelSet(pairs: Readonly<Record<string, string>>): LabelSet {
  const text = Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',');
  return Object.freeze({ pairs: Object.freeze({ ...pairs }), text, ascii: isAscii(text) });
}

export const NO_LABELS: LabelSet = labelSet({});

/** Joins two label sets; `extra` comes last, as the exposition tests expect. */
export function joinLabels(a: LabelSet, b: LabelSet): LabelSet {
  if (a.text === '') return b;
  if (b.text === '') return a;
  return { pairs: { ...a.pairs, ...b.pairs }, text: `${a.text},${b.text}`, ascii: a.ascii === true && b.ascii === true };
}
