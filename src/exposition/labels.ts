/** A label set kept both as pairs (for object-based APIs) and as escaped exposition text. */
export interface LabelSet {
  readonly pairs: Readonly<Record<string, string>>;
  /** `a="x",b="y"`: escaped, without braces. */
  readonly text: string;
}

export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

export function labelSet(pairs: Readonly<Record<string, string>>): LabelSet {
  const text = Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabelValue(v)}"`)
    .join(',');
  return Object.freeze({ pairs: Object.freeze({ ...pairs }), text });
}

export const NO_LABELS: LabelSet = labelSet({});

/** Joins two label sets; `extra` comes last, as the exposition tests expect. */
export function joinLabels(a: LabelSet, b: LabelSet): LabelSet {
  if (a.text === '') return b;
  if (b.text === '') return a;
  return { pairs: { ...a.pairs, ...b.pairs }, text: `${a.text},${b.text}` };
}
