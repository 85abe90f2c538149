/** Small helpers that keep generated PromQL readable and its selectors uniform. */

/** `metric{matchers}` with empty matcher lists dropped. */
export function series(metric: string, ...matchers: readonly string[]): string {
  const all = matchers.map((m) => m.trim()).filter(Boolean);
  return all.length ? `${metric}{${all.join(', ')}}` : metric;
}

/**
 * Trims the common indentation of a template literal so rules render as tidy YAML block scalars. A
 * value of several lines keeps the indentation of the line it is placed in.
 */
export function promql(strings: TemplateStringsArray, ...values: readonly unknown[]): string {
  const text = strings.reduce((out, s, i) => {
    const head = out + s;
    if (i >= values.length) return head;
    const indent = /[^\n]*$/.exec(head)![0].match(/^ */)![0];
    return head + String(values[i]).replace(/\n/g, `\n${indent}`);
  }, '');
  const lines = text.replace(/^\n/, '').replace(/\s+$/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
