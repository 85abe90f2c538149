/**
 * The bounded Prometheus text parser and the engine reader: table tests with ugly edge cases,
 * a real body captured from Ditto 5.1.0's engine exporter, and property tests.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EngineReader, occupiedNames, RESERVED_NAMES, type EngineReading } from '../src/collectors/engine.js';
import { DEFAULT_PARSE_LIMITS, parsePromText, parseValue } from '../src/collectors/prom-text.js';
import { FAMILIES } from '../src/catalogue/index.js';
import type { ExpositionFormat } from '../src/exposition/format.js';
import { TextSink } from '../src/exposition/text-sink.js';
import { checkExposition } from './helpers/exposition-check.js';
import { parseSamples } from './helpers/exposition.js';

/** Captured from SDK 5.1.0's engine exporter on this machine (one store, one write). */
const CAPTURE = readFileSync(new URL('./fixtures/ditto-engine-5.1.0.prom', import.meta.url), 'utf8');

const read = (body: string, reader = new EngineReader()) => reader.read(body);

/** The reading written out as our writers write it. */
function render(reading: EngineReading, format: ExpositionFormat = 'prometheus'): string {
  const sink = new TextSink(format);
  for (const family of reading.families) {
    for (const s of family.samples) {
      if (s.kind === 'value') sink.value(family.def, s.labels, s.value);
      else sink.histogram(family.def, s.labels, s.data);
    }
  }
  return sink.text();
}

/** Every served series as `name{labels} value`, labels sorted: what a scraper would store. */
function series(reading: EngineReading): string[] {
  return parseSamples(render(reading))
    .map((s) => `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(',')}} ${s.raw}`)
    .sort();
}

/** OpenMetrics names: each family declared once, each sample named as its family allows, each series once. */
function checkOpenMetricsNames(text: string): string[] {
  const issues: string[] = [];
  const families = new Set<string>();
  const seen = new Set<string>();
  let allowed: string[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      if (families.has(name)) issues.push(`family ${name} twice`);
      families.add(name);
      allowed = kind === 'counter' ? [`${name}_total`] : kind === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => name + s) : [name];
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([^{ ]+)(\{.*\})? \S+$/.exec(line);
    if (!sample || !allowed.includes(sample[1]!)) issues.push(`sample out of its family: ${line}`);
    const series = line.slice(0, line.lastIndexOf(' '));
    if (seen.has(series)) issues.push(`duplicate ${series}`);
    seen.add(series);
  }
  return issues;
}

const problems = (r: EngineReading) => Object.fromEntries([...r.samplesUnusable].filter(([, n]) => n > 0));
const dropped = (r: EngineReading) => Object.fromEntries([...r.familiesDropped].filter(([, n]) => n > 0));

describe('a real body from Ditto 5.1.0', () => {
  const reading = read(CAPTURE);

  it('reads every family, in the order the engine wrote them, with nothing unusable', () => {
    const declared = [...CAPTURE.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(reading.families.map((f) => `${f.def.name} ${f.def.type}`)).toEqual(declared);
    expect([...declared].sort()).toEqual([
      'ditto_backend_sqlite3_fsync_duration_secs histogram',
      'ditto_backend_sqlite3_fsync_total counter',
      'ditto_backend_sqlite3_txn_attempts counter',
      'ditto_backend_sqlite3_txn_duration_secs histogram',
      'ditto_backend_sqlite3_txn_permits counter',
      'ditto_backend_sqlite3_wal_size_pages histogram',
      'ditto_network_connections_connecting gauge',
      'ditto_network_connections_disconnecting gauge',
      'ditto_network_connections_established gauge',
      'ditto_store_database_event_delay_secs histogram',
      'ditto_store_transaction_commit_secs histogram',
      'ditto_store_transaction_lock_hold_secs histogram',
      'ditto_store_transaction_lock_wait_secs histogram',
      'ditto_store_transaction_monotonic_wait_secs histogram',
    ]);
    expect(problems(reading)).toEqual({});
    expect(dropped(reading)).toEqual({});
    for (const f of reading.families) expect(f.def.area).toBe('engine');
  });

  it('writes back exactly the series the engine served (same names, labels, values)', () => {
    const original = parseSamples(CAPTURE.replace(/^\s*$/gm, ''))
      .map((s) => `${s.name}{${Object.keys(s.labels).sort().map((k) => `${k}=${JSON.stringify(s.labels[k])}`).join(',')}} ${s.raw}`)
      .sort();
    expect(series(reading)).toEqual(original);
  });

  it('keeps the engine help text and the order of labels as written', () => {
    const text = render(reading);
    expect(text).toContain('# HELP ditto_backend_sqlite3_txn_permits Number of times a transaction permit was granted by the connection pool\n');
    expect(text).toContain('ditto_network_connections_established{transport_type="websocket",direction="outbound"} 0\n');
    expect(text).toContain('ditto_store_database_event_delay_secs_bucket{outcome="immediate",le="0.0005"} ');
  });

  it('in OpenMetrics, ends every counter sample in _total and names the family without it', () => {
    const om = render(reading, 'openmetrics');
    expect(om).toContain('# TYPE ditto_backend_sqlite3_txn_permits counter\n');
    expect(om).toMatch(/^ditto_backend_sqlite3_txn_permits_total\{mode="write",outcome="immediate"\} \d+$/m);
    expect(om).toContain('# TYPE ditto_backend_sqlite3_fsync counter\n');
    expect(om).toMatch(/^ditto_backend_sqlite3_fsync_total\{db="main"\} \d+$/m);
    expect(om).not.toMatch(/_total_total/);
  });

  it('keeps a FamilyDef from one read to the next while the family does not change', () => {
    const reader = new EngineReader();
    const def = (r: EngineReading, name: string) => r.families.find((f) => f.def.name === name)!.def;
    const a = reader.read(CAPTURE);
    const b = reader.read(CAPTURE.replace(/^(ditto_backend_sqlite3_txn_permits\{mode="write",outcome="immediate"\}) \d+$/m, '$1 999'));
    expect(def(b, 'ditto_backend_sqlite3_txn_permits')).toBe(def(a, 'ditto_backend_sqlite3_txn_permits'));
    const c = reader.read(CAPTURE.replace('# HELP ditto_backend_sqlite3_txn_permits Number', '# HELP ditto_backend_sqlite3_txn_permits Count'));
    expect(def(c, 'ditto_backend_sqlite3_txn_permits')).not.toBe(def(a, 'ditto_backend_sqlite3_txn_permits'));
    expect(def(c, 'ditto_backend_sqlite3_txn_attempts')).toBe(def(a, 'ditto_backend_sqlite3_txn_attempts'));
  });
});

describe('engine label names', () => {
  it('keeps a label named like an Object.prototype property as a plain label, in the typed pairs and the text alike', () => {
    const r = read('# TYPE ditto_x gauge\nditto_x{constructor="b",toString="c"} 1\n');
    const sample = r.families[0]!.samples[0]!;
    expect(sample.labels.text).toBe('constructor="b",toString="c"');
    expect(Object.entries(sample.labels.pairs)).toEqual([
      ['constructor', 'b'],
      ['toString', 'c'],
    ]);
  });

  it('refuses a reserved __ label name (such as __proto__) as syntax, counted', () => {
    const r = read('# TYPE ditto_x gauge\nditto_x{__proto__="a"} 1\nditto_x{a="1"} 2\n');
    expect(r.samplesUnusable.get('syntax')).toBe(1);
    expect(r.families[0]!.samples.map((s) => s.labels.text)).toEqual(['a="1"']);
  });
});

describe('parseValue', () => {
  it.each([
    ['1', 1],
    ['-0', -0],
    ['+3.5', 3.5],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-3', 0.001],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
    ['inf', Infinity],
    ['Infinity', Infinity],
    ['NaN', NaN],
    ['nan', NaN],
  ])('reads %j', (token, value) => {
    expect(parseValue(token)).toBe(value);
  });

  it.each(['', ' 1', '1 ', '0x10', '1_000', '1e', 'e3', '--1', '1.2.3', 'Inf1', 'true', '١', `1${'0'.repeat(300)}`])('refuses %j', (token) => {
    expect(parseValue(token)).toBeUndefined();
  });
});

describe('lines, table-driven', () => {
  const one = (body: string) => {
    const r = read(body);
    return { series: series(r), problems: problems(r), dropped: dropped(r) };
  };

  it.each<[string, string, string[], Record<string, number>?]>([
    ['blank lines, CRLF, leading and inner blanks and tabs', '\r\n  \t\n# TYPE ditto_a gauge\r\n \tditto_a \t{ x = "1" ,\ty="2" , }\t 5 \r\n', ['ditto_a{x="1",y="2"} 5']],
    ['no blank between the label set and the value', 'ditto_a{x="1"}5\n', ['ditto_a{x="1"} 5']],
    ['a blank between the name and the label set', 'ditto_a {x="1"} 5\n', ['ditto_a{x="1"} 5']],
    ['an empty label set', 'ditto_a{} 5\n', ['ditto_a{} 5']],
    ['escapes in a label value', 'ditto_a{x="a\\\\b\\"c\\nd"} 1\n', ['ditto_a{x="a\\\\b\\"c\\nd"} 1']],
    ['braces, commas and hashes inside a label value', 'ditto_a{x="},{#,=",y=""} 1\n', ['ditto_a{x="},{#,=",y=""} 1']],
    ['a timestamp (dropped) and a negative one', 'ditto_a 1 1700000000000\nditto_b -2 -5\n', ['ditto_a{} 1', 'ditto_b{} -2']],
    ['a colon in a name', 'ditto_a:rate 2\n', ['ditto_a:rate{} 2']],
    ['infinities in a gauge', 'ditto_a{s="+"} +Inf\nditto_a{s="-"} -Inf\n', ['ditto_a{s="+"} +Inf', 'ditto_a{s="-"} -Inf']],
    ['any other comment, an OpenMetrics EOF, a HELP before a TYPE', '# a comment\n# HELP ditto_a Some help\n# TYPE ditto_a gauge\nditto_a 1\n# EOF\n', ['ditto_a{} 1']],
    ['no newline at the end', 'ditto_a 1', ['ditto_a{} 1']],
  ])('%s', (_name, body, expected, expectedProblems = {}) => {
    const r = one(body);
    expect(r.series).toEqual(expected);
    expect(r.problems).toEqual(expectedProblems);
  });

  it.each([
    ['an unknown escape', 'ditto_a{x="\\t"} 1'],
    ['an unterminated quote', 'ditto_a{x="1} 1'],
    ['an unterminated label set', 'ditto_a{x="1" 1'],
    ['a label without a value', 'ditto_a{x} 1'],
    ['an unquoted label value', 'ditto_a{x=1} 1'],
    ['a label name starting with a digit', 'ditto_a{1x="1"} 1'],
    ['a reserved label name', 'ditto_a{__name__="x"} 1'],
    ['a repeated label name', 'ditto_a{x="1",x="2"} 1'],
    ['a hyphen in a name', 'ditto_a-b 1'],
    ['a name starting with a digit', '1ditto 1'],
    ['a non-ASCII name', 'ditto_é 1'],
    ['no value', 'ditto_a'],
    ['no value after labels', 'ditto_a{x="1"}'],
    ['a hex value', 'ditto_a 0x1F'],
    ['two values and a timestamp', 'ditto_a 1 2 3'],
    ['a fractional timestamp', 'ditto_a 1 1.5'],
    ['a missing comma between labels', 'ditto_a{x="1" y="2"} 1'],
    ['a HELP with an unknown escape', '# HELP ditto_a bad \\t escape'],
    ['a HELP for a bad name', '# HELP 9ditto help'],
    ['a TYPE with two words', '# TYPE ditto_a gauge counter'],
    ['a TYPE without a word', '# TYPE ditto_a'],
  ])('counts %s as syntax and keeps the rest', (_name, line) => {
    const r = one(`${line}\nditto_ok 1\n`);
    expect(r.series).toEqual(['ditto_ok{} 1']);
    expect(r.problems).toEqual({ syntax: 1 });
  });

  it('reads a TYPE word in any case, and drops an unknown one (and a summary) as type', () => {
    expect(one('# TYPE ditto_a COUNTER\nditto_a 1\n').series).toEqual(['ditto_a{} 1']);
    expect(read('# TYPE ditto_a COUNTER\nditto_a 1\n').families[0]!.def.type).toBe('counter');
    const r = one('# TYPE ditto_g gaugehistogram\nditto_g 1\n# TYPE ditto_s summary\nditto_s{quantile="0.5"} 1\nditto_s_sum 2\nditto_s_count 3\nditto_ok 1\n');
    expect(r.series).toEqual(['ditto_ok{} 1']);
    expect(r.dropped).toEqual({ type: 2 });
    expect(r.problems).toEqual({});
  });

  it('refuses a second TYPE, a second HELP and a TYPE after the samples; keeps the first', () => {
    const r = read('# HELP ditto_a first\n# HELP ditto_a second\n# TYPE ditto_a counter\n# TYPE ditto_a gauge\nditto_a 1\nditto_b 1\n# TYPE ditto_b counter\n');
    expect(problems(r)).toEqual({ syntax: 3 });
    expect(r.families.map((f) => [f.def.name, f.def.type, f.def.help])).toEqual([
      ['ditto_a', 'counter', 'first'],
      ['ditto_b', 'untyped', ''],
    ]);
  });

  it('unescapes HELP text and writes it back escaped', () => {
    const r = read('# HELP ditto_a back\\\\slash and\\nnewline "quoted"\nditto_a 1\n');
    expect(r.families[0]!.def.help).toBe('back\\slash and\nnewline "quoted"');
    expect(render(r)).toContain('# HELP ditto_a back\\\\slash and\\nnewline "quoted"\n');
    expect(render(r, 'openmetrics')).toContain('# HELP ditto_a back\\\\slash and\\nnewline \\"quoted\\"\n');
  });

  it('counters: samples named with or without _total, never below 0 or NaN, each series once in any label order', () => {
    const r = one('# TYPE ditto_c counter\nditto_c{a="1",b="2"} 3\nditto_c_total{a="2"} 4\nditto_c_total{b="2",a="1"} 9\nditto_c{a="3"} -1\nditto_c{a="4"} NaN\n');
    expect(r.series).toEqual(['ditto_c{a="1",b="2"} 3', 'ditto_c{a="2"} 4']);
    expect(r.problems).toEqual({ duplicate: 1, value: 2 });
  });

  it('gauges: NaN is left out and counted; a repeated series is counted once per repeat', () => {
    const r = one('# TYPE ditto_g gauge\nditto_g{x="1"} NaN\nditto_g{x="2"} 1\nditto_g{x="2"} 2\nditto_g{x="2"} 3\n');
    expect(r.series).toEqual(['ditto_g{x="2"} 1']);
    expect(r.problems).toEqual({ value: 1, duplicate: 2 });
  });

  it('merges a family whose samples are split by another family, without repeating its header', () => {
    const r = read('# TYPE ditto_a gauge\nditto_a{x="1"} 1\nditto_b 2\nditto_a{x="2"} 3\n');
    expect(r.families.map((f) => f.samples.length)).toEqual([2, 1]);
    expect(checkExposition(render(r))).toEqual([]);
  });
});

describe('histograms', () => {
  const h = (lines: string[]) => read(`# HELP ditto_h_secs A histogram.\n# TYPE ditto_h_secs histogram\n${lines.join('\n')}\n`);
  const good = ['ditto_h_secs_bucket{le="0.5"} 1', 'ditto_h_secs_bucket{le="1"} 3', 'ditto_h_secs_bucket{le="+Inf"} 4', 'ditto_h_secs_sum 2.5', 'ditto_h_secs_count 4'];

  it('turns cumulative buckets into the sink\'s per-bucket counts', () => {
    const r = h(good);
    const s = r.families[0]!.samples[0]!;
    expect(s.kind === 'histogram' && s.data).toEqual({ bounds: [0.5, 1], counts: [1, 2, 1], sum: 2.5, count: 4 });
    expect(render(r)).toBe(`# HELP ditto_h_secs A histogram.\n# TYPE ditto_h_secs histogram\n${good.join('\n')}\n`);
  });

  it('groups series by their other labels, whatever the order of lines and labels, and sorts buckets by le', () => {
    const r = h([
      'ditto_h_secs_bucket{op="b",le="+Inf"} 2',
      'ditto_h_secs_bucket{le="1",op="a"} 1',
      'ditto_h_secs_sum{op="b"} 1',
      'ditto_h_secs_bucket{op="a",le="+Inf"} 1',
      'ditto_h_secs_bucket{op="b",le="1"} 2',
      'ditto_h_secs_bucket{op="b",le="0.1"} 1',
      'ditto_h_secs_sum{op="a"} 0.5',
    ]);
    expect(problems(r)).toEqual({});
    const data = r.families[0]!.samples.map((s) => (s.kind === 'histogram' ? [s.labels.text, s.data.bounds, s.data.counts, s.data.count] : undefined));
    expect(data).toEqual([
      ['op="b"', [0.1, 1], [1, 1, 0], 2],
      ['op="a"', [1], [1, 0], 1],
    ]);
  });

  it('writes `le` in its shortest form', () => {
    const r = h(['ditto_h_secs_bucket{le="1.0"} 1', 'ditto_h_secs_bucket{le="1e1"} 1', 'ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1']);
    expect(render(r)).toContain('ditto_h_secs_bucket{le="1"} 1\nditto_h_secs_bucket{le="10"} 1\n');
  });

  it.each([
    ['no +Inf bucket', ['ditto_h_secs_bucket{le="1"} 1', 'ditto_h_secs_sum 1', 'ditto_h_secs_count 1']],
    ['buckets that fall', ['ditto_h_secs_bucket{le="1"} 3', 'ditto_h_secs_bucket{le="2"} 2', 'ditto_h_secs_bucket{le="+Inf"} 3', 'ditto_h_secs_sum 1']],
    ['+Inf below the last bucket', ['ditto_h_secs_bucket{le="1"} 3', 'ditto_h_secs_bucket{le="+Inf"} 2', 'ditto_h_secs_sum 1']],
    ['_count not equal to +Inf', ['ditto_h_secs_bucket{le="+Inf"} 3', 'ditto_h_secs_sum 1', 'ditto_h_secs_count 4']],
    ['no _sum', ['ditto_h_secs_bucket{le="+Inf"} 3', 'ditto_h_secs_count 3']],
    ['a NaN _sum', ['ditto_h_secs_bucket{le="+Inf"} 3', 'ditto_h_secs_sum NaN']],
    ['an le that is not a number', ['ditto_h_secs_bucket{le="big"} 1', 'ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1']],
    ['an le of -Inf', ['ditto_h_secs_bucket{le="-Inf"} 0', 'ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1']],
    ['an le given twice', ['ditto_h_secs_bucket{le="1"} 1', 'ditto_h_secs_bucket{le="1.0"} 1', 'ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1']],
    ['a bucket without le', ['ditto_h_secs_bucket 1', 'ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1']],
    ['an le on _sum', ['ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum{le="1"} 1']],
    ['a negative bucket', ['ditto_h_secs_bucket{le="1"} -1', 'ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1']],
    ['an infinite count', ['ditto_h_secs_bucket{le="+Inf"} +Inf', 'ditto_h_secs_sum 1']],
    ['a sample named as the family', ['ditto_h_secs 1', 'ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1']],
    ['_sum given twice', ['ditto_h_secs_bucket{le="+Inf"} 1', 'ditto_h_secs_sum 1', 'ditto_h_secs_sum 2']],
  ])('leaves out a series with %s, counting its lines, and keeps the family\'s good series', (_name, lines) => {
    // The bad series carries s="bad"; the good one beside it has no labels.
    const bad = (line: string) => line.replace(/^(\S+?)(?:\{([^}]*)\})? /, (_m, n: string, inner: string | undefined) => (inner ? `${n}{s="bad",${inner}} ` : `${n}{s="bad"} `));
    const r = h([...lines.map(bad), ...good]);
    expect(problems(r)).toEqual({ histogram: lines.length });
    expect(r.families).toHaveLength(1);
    expect(r.families[0]!.samples).toHaveLength(1);
    expect(render(r)).not.toContain('bad');
  });

  it('uses the +Inf bucket as the count when _count is left out', () => {
    const r = h(['ditto_h_secs_bucket{le="+Inf"} 7', 'ditto_h_secs_sum 3']);
    const s = r.families[0]!.samples[0]!;
    expect(s.kind === 'histogram' && s.data.count).toBe(7);
  });
});

describe('names: the ditto_ namespace, collisions, limits', () => {
  it('drops families outside ditto_, never serving process or runtime metrics as the engine\'s', () => {
    const r = read('process_cpu_seconds_total 1\ntarget_info{a="b"} 1\nup 1\nditto_ok 1\n');
    expect(r.families.map((f) => f.def.name)).toEqual(['ditto_ok']);
    expect(dropped(r)).toEqual({ namespace: 3 });
  });

  it('drops a family that uses a name of the exporter\'s own, in either format, and reports it for logging', () => {
    const r = read(
      [
        '# TYPE ditto_sync_up gauge',
        'ditto_sync_up 1',
        '# TYPE ditto_engine_up gauge',
        'ditto_engine_up 1',
        // Declared without _total, it would write ditto_sync_tracked_commits_total in OpenMetrics.
        '# TYPE ditto_sync_tracked_commits counter',
        'ditto_sync_tracked_commits 5',
        // The _count sample of one of our histograms.
        '# TYPE ditto_sync_commit_cloud_ack_seconds_count gauge',
        'ditto_sync_commit_cloud_ack_seconds_count 1',
        // The sample name of one of our histograms.
        'ditto_sync_commit_cloud_ack_seconds_bucket{le="1"} 1',
        'ditto_fine 1',
      ].join('\n'),
    );
    expect(r.families.map((f) => f.def.name)).toEqual(['ditto_fine']);
    expect(dropped(r)).toEqual({ collision: 5 });
    expect(r.collisions).toEqual(['ditto_sync_up', 'ditto_engine_up', 'ditto_sync_tracked_commits', 'ditto_sync_commit_cloud_ack_seconds_count', 'ditto_sync_commit_cloud_ack_seconds_bucket']);
  });

  it('drops an engine family that takes a name an earlier engine family took', () => {
    const r = read(
      [
        '# TYPE ditto_h histogram',
        'ditto_h_bucket{le="+Inf"} 1',
        'ditto_h_sum 1',
        '# TYPE ditto_h_count gauge',
        'ditto_h_count 2',
        '# TYPE ditto_c_total counter',
        'ditto_c_total 1',
        // ditto_c_total's OpenMetrics family is ditto_c.
        '# TYPE ditto_c gauge',
        'ditto_c 1',
      ].join('\n'),
    );
    expect(r.families.map((f) => f.def.name)).toEqual(['ditto_h', 'ditto_c_total']);
    expect(dropped(r)).toEqual({ collision: 2 });
    expect(checkExposition(render(r))).toEqual([]);
  });

  it('reserves every name every catalogue family occupies, in every area', () => {
    for (const def of FAMILIES) for (const name of occupiedNames(def)) expect(RESERVED_NAMES.has(name), name).toBe(true);
    expect(RESERVED_NAMES.has('ditto_sync_commit_cloud_ack_seconds_bucket')).toBe(true);
    expect(RESERVED_NAMES.has('ditto_sync_tracked_commits')).toBe(true);
  });

  it('counts families past the family limit and samples past the sample limit, serving the rest', () => {
    const families = Array.from({ length: 8 }, (_, i) => `ditto_f${i} 1`).join('\n');
    const r = new EngineReader({ limits: { maxFamilies: 5 } }).read(families);
    expect(r.families).toHaveLength(5);
    expect(dropped(r)).toEqual({ limit: 3 });
    const samples = Array.from({ length: 8 }, (_, i) => `ditto_s{i="${i}"} 1`).join('\n');
    const s = new EngineReader({ limits: { maxSamples: 5 } }).read(samples);
    expect(s.families[0]!.samples).toHaveLength(5);
    expect(problems(s)).toEqual({ limit: 3 });
  });

  it('counts a line over the length limit, or with too many labels, as syntax', () => {
    const r = new EngineReader({ limits: { maxLineLength: 100, maxLabels: 3 } }).read(`ditto_a{x="${'y'.repeat(200)}"} 1\nditto_b{a="1",b="2",c="3",d="4"} 1\nditto_c{a="1",b="2",c="3"} 1\n`);
    expect(r.families.map((f) => f.def.name)).toEqual(['ditto_c']);
    expect(problems(r)).toEqual({ syntax: 2 });
  });
});

describe('hostile bodies', () => {
  it('stays bounded on a megabyte of distinct families, samples and label sets', () => {
    const { maxFamilies, maxSamples } = DEFAULT_PARSE_LIMITS;
    const lines: string[] = [];
    for (let i = 0, size = 0; size < 1 << 20; i++) {
      lines.push(`ditto_f${i % 3000}{k="${i}"} ${i}`);
      size += lines[i]!.length + 1;
    }
    const r = read(lines.join('\n'));
    const served = r.families.reduce((n, f) => n + f.samples.length, 0);
    // The first maxSamples sample lines are taken; of those, the ones of the first maxFamilies families are served.
    expect(r.families).toHaveLength(maxFamilies);
    expect(served).toBe(lines.slice(0, maxSamples).filter((_, i) => i % 3000 < maxFamilies).length);
    expect(r.samplesUnusable.get('limit')).toBe(lines.length - maxSamples);
    expect(r.familiesDropped.get('limit')).toBe(3000 - maxFamilies);
    expect(checkExposition(render(r))).toEqual([]);
  });

  it('reads pathological lines in linear time: long runs of digits, blanks, backslashes and braces', () => {
    const n = 60_000;
    const bodies = [`ditto_a ${'1'.repeat(n)}x`, `ditto_a${' '.repeat(n)}1${' '.repeat(n)}x`, `ditto_a{x="${'\\\\'.repeat(n / 2)}`, `ditto_a${'{'.repeat(n)}`, `# TYPE ditto_a${' '.repeat(n)}x${' '.repeat(n)}y`, `ditto_a{${'a="b",'.repeat(n / 6)}`];
    for (const body of bodies) {
      const r = new EngineReader({ limits: { maxLineLength: 1 << 20, maxLabels: 1 << 20 } }).read(body);
      expect(r.families).toHaveLength(0);
    }
  });
});

describe('properties', () => {
  it('never throws, and what it serves always writes a valid exposition in both formats (10,000 bodies)', () => {
    // Lines that are mostly well-formed, over a few names that collide with each other and with
    // ours, then sometimes damaged by one inserted character.
    const name = fc.constantFrom('ditto_a', 'ditto_h', 'ditto_c_total', 'ditto_c', 'ditto_h_count', 'ditto_sync_up', 'process_x');
    const suffix = fc.constantFrom('', '', '_bucket', '_sum', '_count', '_total');
    const le = fc.constantFrom('+Inf', '1', '0.5', '2', 'x', '-Inf', '1.0');
    const v = fc.constantFrom('1', '', 'a\\nb', '\\"', 'é');
    const labels = fc.oneof(fc.constant(''), fc.constant('{}'), le.map((l) => `{le="${l}"}`), v.map((x) => `{a="${x}"}`), fc.tuple(v, le).map(([x, l]) => `{a="${x}",le="${l}"}`), fc.tuple(le, v).map(([l, x]) => `{le="${l}",a="${x}",}`));
    const value = fc.constantFrom('0', '1', '2', '3', '-1', 'NaN', '+Inf', '2.5', '1e3');
    const sample = fc.tuple(name, suffix, labels, value, fc.constantFrom('', ' 1700000000000')).map(([n, s, l, x, t]) => `${n}${s}${l} ${x}${t}`);
    const meta = fc.oneof(
      fc.tuple(name, fc.constantFrom('counter', 'gauge', 'histogram', 'untyped', 'summary', 'HISTOGRAM', 'info')).map(([n, t]) => `# TYPE ${n} ${t}`),
      fc.tuple(name, fc.constantFrom('help', 'a\\nb', 'bad \\x', '')).map(([n, h]) => `# HELP ${n} ${h}`),
    );
    const damaged = (line: fc.Arbitrary<string>) =>
      fc.tuple(line, fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), fc.constantFrom('"', '{', '}', ',', '=', ' ', '\\', '#', '\u0000')) })).map(([l, d]) => (d ? l.slice(0, d[0] % (l.length + 1)) + d[1] + l.slice(d[0] % (l.length + 1)) : l));
    // A whole histogram series (usually consistent), each of its lines possibly damaged.
    const histogram = fc
      .tuple(v, fc.array(fc.nat(5), { minLength: 3, maxLength: 3 }), fc.boolean())
      .chain(([x, steps, typed]) => {
        const c = [steps[0]!, steps[0]! + steps[1]!, steps[0]! + steps[1]! + steps[2]!];
        const lines = [...(typed ? ['# TYPE ditto_h histogram'] : []), `ditto_h_bucket{a="${x}",le="0.5"} ${c[0]}`, `ditto_h_bucket{le="1",a="${x}"} ${c[1]}`, `ditto_h_bucket{a="${x}",le="+Inf"} ${c[2]}`, `ditto_h_sum{a="${x}"} 1.5`, `ditto_h_count{a="${x}"} ${c[2]}`];
        return fc.tuple(...lines.map((l) => damaged(fc.constant(l))));
      })
      .map((lines) => lines.join('\n'));
    const body = fc
      .tuple(fc.array(fc.oneof({ weight: 6, arbitrary: damaged(sample) }, { weight: 2, arbitrary: damaged(meta) }, { weight: 2, arbitrary: histogram }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }), { maxLength: 40 }), fc.constantFrom('\n', '\r\n'))
      .map(([lines, eol]) => lines.join('\n').replace(/\n/g, eol));
    let served = 0;
    let histograms = 0;
    fc.assert(
      fc.property(body, (text) => {
        const reader = new EngineReader();
        const r = reader.read(text);
        if (r.families.length > 0) served++;
        if (r.families.some((f) => f.def.type === 'histogram')) histograms++;
        for (const format of ['prometheus', 'openmetrics'] as const) {
          const out = render(r, format);
          const issues = format === 'prometheus' ? checkExposition(out) : checkOpenMetricsNames(out);
          if (issues.length > 0) throw new Error(`${JSON.stringify(text)} → ${issues.join('; ')}\n${out}`);
        }
        // Reading what was written gives the same series back.
        expect(series(reader.read(render(r)))).toEqual(series(r));
      }),
      { numRuns: 10_000 },
    );
    // The generator reaches the interesting cases: bodies that serve something, histograms among them.
    expect(served).toBeGreaterThan(1000);
    expect(histograms).toBeGreaterThan(500);
  });

  it('round-trips any well-formed family: label values with every escape, any float, histograms of any shape', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,12}$/).map((n) => `ditto_${n}`);
    const labelName = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/).filter((n) => n !== 'le');
    // Any code unit but \r and the Unicode line separators, which the independent test parser cannot read.
    const labelValue = fc.string({ unit: 'binary', maxLength: 12 }).filter((v) => !/[\r\u2028\u2029]/.test(v));
    const labels = fc.uniqueArray(fc.tuple(labelName, labelValue), { maxLength: 4, selector: ([k]) => k });
    const value = fc.double({ noNaN: true });
    const family = fc.record({ name, type: fc.constantFrom('gauge', 'counter', 'untyped', 'histogram'), series: fc.uniqueArray(labels, { minLength: 1, maxLength: 4, selector: (l) => JSON.stringify([...l].sort()) }), value, bounds: fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 5 }), steps: fc.array(fc.nat(1000), { minLength: 6, maxLength: 6 }) });
    fc.assert(
      fc.property(family, (f) => {
        const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
        const set = (l: readonly (readonly [string, string])[], extra = '') => `{${[...l.map(([k, v]) => `${k}="${esc(v)}"`), ...(extra ? [extra] : [])].join(',')}}`;
        const lines = [`# TYPE ${f.name} ${f.type}`];
        const bounds = [...f.bounds].sort((a, b) => a - b);
        for (const l of f.series) {
          if (f.type !== 'histogram') {
            lines.push(`${f.name}${set(l)} ${f.type === 'counter' ? Math.abs(f.value) : f.value}`);
            continue;
          }
          let cumulative = 0;
          bounds.forEach((b, i) => lines.push(`${f.name}_bucket${set(l, `le="${b}"`)} ${(cumulative += f.steps[i]!)}`));
          cumulative += f.steps[5]!;
          lines.push(`${f.name}_bucket${set(l, 'le="+Inf"')} ${cumulative}`, `${f.name}_sum${set(l)} ${f.value}`, `${f.name}_count${set(l)} ${cumulative}`);
        }
        const r = read(lines.join('\n'));
        if (RESERVED_NAMES.has(f.name) || occupiedNames({ name: f.name, type: f.type }).some((n) => RESERVED_NAMES.has(n))) return;
        expect(problems(r)).toEqual({});
        expect(r.families).toHaveLength(1);
        const original = parseSamples(lines.join('\n')).map((s) => `${s.name} ${JSON.stringify(Object.entries(s.labels).sort())} ${parseValue(s.raw)}`);
        const written = parseSamples(render(r)).map((s) => `${s.name} ${JSON.stringify(Object.entries(s.labels).sort())} ${parseValue(s.raw)}`);
        expect(written.sort()).toEqual(original.map((l) => l.replace(/"le","([^"]+)"/, (_m, le: string) => `"le","${String(parseValue(le))}"`.replace('"Infinity"', '"+Inf"'))).sort());
      }),
      { numRuns: 2_000 },
    );
  });

  it('parses any string without throwing (10,000 cases of arbitrary code units)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const parsed = parsePromText(text);
        for (const f of parsed.families) expect(f.name).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      }),
      { numRuns: 10_000 },
    );
  });
});
