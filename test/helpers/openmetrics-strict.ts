/**
 * A strict check of an OpenMetrics 1.0 body, written from the specification
 * (github.com/OpenObservability/OpenMetrics, specification/OpenMetrics.md), for what a strict
 * parser rejects the whole body for: bytes that are not UTF-8, a missing or misplaced `# EOF`,
 * a family described twice or interleaved with another, a sample outside its family or with a
 * suffix its type does not allow, a label set repeated within a family, bad label syntax or
 * escapes. Returns the problems (empty when the body is valid).
 */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (\\S+)(?: (\\S+))?$`);
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  counter: ['_total', '_created'],
  gauge: [''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  unknown: [''],
  info: ['_info'],
  stateset: [''],
  summary: ['', '_sum', '_count', '_created'],
  gaugehistogram: ['_bucket', '_gsum', '_gcount'],
};

export function checkOpenMetricsStrict(raw: Buffer): string[] {
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < 20) problems.push(p);
  };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return ['the body is not valid UTF-8'];
  }
  if (!text.endsWith('# EOF\n')) problem('the body does not end with "# EOF\\n"');
  const lines = text.split('\n');
  lines.pop();
  const finished = new Set<string>();
  let family: string | undefined;
  let type: string | undefined;
  let labelSets = new Set<string>();
  const enter = (name: string) => {
    if (name === family) return;
    if (family) finished.add(family);
    if (finished.has(name)) problem(`family ${name} appears twice (interleaved or repeated)`);
    family = name;
    type = undefined;
    labelSets = new Set();
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '# EOF') {
      if (i !== lines.length - 1) problem(`# EOF at line ${i + 1} is not the last line`);
      continue;
    }
    const meta = new RegExp(`^# (HELP|TYPE|UNIT) (${NAME})(?: (.*))?$`).exec(line);
    if (meta) {
      const [, kind, name, rest = ''] = meta;
      enter(name!);
      if (kind === 'TYPE') {
        if (type !== undefined) problem(`family ${name} has two TYPE lines`);
        if (!(rest in SUFFIXES)) problem(`family ${name} has unknown type ${rest}`);
        type = rest;
      }
      if (kind === 'HELP' && /\\(?![\\"n])/.test(rest)) problem(`bad escape in the HELP of ${name}`);
      continue;
    }
    if (line.startsWith('#')) {
      problem(`unknown comment line ${i + 1}: ${line.slice(0, 80)}`);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) {
      problem(`unparseable line ${i + 1}: ${line.slice(0, 120)}`);
      continue;
    }
    const [, name, labels = '', value] = m;
    const suffix = family && name!.startsWith(family) ? name!.slice(family.length) : undefined;
    if (suffix === undefined || !(SUFFIXES[type ?? 'unknown'] ?? ['']).includes(suffix)) {
      problem(`sample ${name} does not belong to family ${family} (${type})`);
      continue;
    }
    if (!/^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/.test(value!)) problem(`bad value ${value} at line ${i + 1}`);
    const key = `${name}{${sortedLabels(labels)}}`;
    if (labelSets.has(key)) problem(`duplicate label set ${key} in family ${family}`);
    labelSets.add(key);
  }
  return problems;
}

/** Label pairs in name order, so {a,b} and {b,a} are the same set. */
function sortedLabels(labels: string): string {
  const pairs = [...labels.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}=${m[2]}`);
  return pairs.sort().join(',');
}
