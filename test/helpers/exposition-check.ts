/**
 * A strict check of Prometheus text 0.0.4 for property tests, where running promtool per case is
 * too slow: grammar, declared families, no duplicate series, no NaN, and no negative value in any
 * ditto_sync_* family (every one of ours is non-negative by contract).
 */
export function checkExposition(text: string): string[] {
  const problems: string[] = [];
  const types = new Map<string, string>();
  const seen = new Set<string>();
  if (text !== '' && !text.endsWith('\n')) problems.push('body does not end with a newline');
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) continue;
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|histogram|summary|untyped)$/.exec(line);
    if (m) {
      if (types.has(m[1]!)) problems.push(`family ${m[1]} declared twice`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\})? (\S+)$/.exec(line);
    if (!m) {
      problems.push(`bad line: ${line.slice(0, 200)}`);
      continue;
    }
    const [, name, labels = '', raw] = m;
    const family = [name!, name!.replace(/_(bucket|sum|count)$/, '')].find((n) => types.has(n));
    if (!family) problems.push(`sample without a declared family: ${name}`);
    const series = `${name}${labels}`;
    if (seen.has(series)) problems.push(`duplicate series ${series}`);
    seen.add(series);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (raw === 'NaN' || Number.isNaN(value)) problems.push(`NaN in ${series}`);
    else if (name!.startsWith('ditto_sync_') && value < 0) problems.push(`negative value in ${series}: ${raw}`);
  }
  return problems;
}
