/**
 * Checks that a /metrics body is whole: a cheap test fit for every response under load, and a
 * full parse for a sample of them. Both return what is wrong (empty when the body is fine).
 */
import { F, FAMILIES, type FamilyDef } from '../../src/catalogue/index.js';
import { familyName, type ExpositionFormat } from '../../src/exposition/format.js';
import { PEER_STATUSES } from '../../src/model.js';

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const SAMPLE_SUFFIXES = ['', '_total', '_bucket', '_sum', '_count', '_created', '_info'];

/** Families present only when their feature is on: Ditto's engine metrics, the health beacon. */
const OPTIONAL: ReadonlySet<FamilyDef> = new Set([F.replayLinesSkipped, F.beaconPublishes, F.beaconPublishFailures, F.beaconLastPublish]);

/**
 * The exporter's families every body must carry once a snapshot exists: optional ones aside, of
 * the device area only ditto_sync_peer_info (the rest come only from a source with a presence graph
 * or storage), none of the engine area, and no fleet family (only --source fleet emits those).
 */
const REQUIRED = FAMILIES.filter(
  (def) => !OPTIONAL.has(def) && def.area !== 'engine' && def.area !== 'fleet' && (def.area !== 'device' || def === F.peerInfo),
);

/** Name of the last family in a body (its last `# TYPE` line). */
export function lastFamily(body: string): string | undefined {
  const at = body.lastIndexOf('\n# TYPE ');
  if (at < 0) return undefined;
  const start = at + '\n# TYPE '.length;
  // A copy: a slice would keep the whole body alive for as long as the name is kept.
  return Buffer.from(body.slice(start, body.indexOf(' ', start)), 'latin1').toString('latin1');
}

/**
 * Cheap completeness test: starts with the first family, ends where a whole body ends and its
 * last family is the one a reference body ended with.
 */
export function quickCheck(body: string, format: ExpositionFormat, expectedLast: string): string | undefined {
  if (!body.startsWith(`# HELP ${F.up.name} `)) return `does not start with ${F.up.name}`;
  if (format === 'openmetrics' ? !body.endsWith('\n# EOF\n') : !body.endsWith('\n') || body.endsWith('# EOF\n')) {
    return `does not end as a whole ${format} body (last bytes ${JSON.stringify(body.slice(-40))})`;
  }
  const last = lastFamily(body);
  return last === expectedLast ? undefined : `last family is ${last}, expected ${expectedLast}`;
}

/**
 * Full parse: well-formed lines, every family declared once before its samples, no duplicate
 * series, no NaN or negative value in the exporter's families, every required family present, and
 * the per-peer families agree with the aggregates (a body cut short in the middle fails here).
 */
export function deepCheck(body: string, format: ExpositionFormat): string[] {
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 10) problems.push(text);
  };
  const declared = new Set<string>();
  const series = new Set<string>();
  let family: string | undefined;
  let peersTotal = 0;
  let omitted: number | undefined;
  const statusByPeer = new Map<string, { samples: number; ones: number }>();

  const lines = body.split('\n');
  if (lines.pop() !== '') problem('body does not end with a newline');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('# HELP ')) {
      const end = line.indexOf(' ', 7);
      const name = end < 0 ? line.slice(7) : line.slice(7, end);
      if (declared.has(name)) problem(`family ${name} declared twice`);
      declared.add(name);
      family = name;
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      if (!line.startsWith(`# TYPE ${family} `)) problem(`TYPE without its HELP: ${line}`);
      continue;
    }
    if (line.startsWith('# UNIT ') && format === 'openmetrics') continue;
    if (line === '# EOF') {
      if (format !== 'openmetrics' || i !== lines.length - 1) problem(`misplaced # EOF at line ${i + 1}`);
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    if (!m) {
      problem(`unparseable line ${i + 1}: ${line.slice(0, 120)}`);
      continue;
    }
    const [, name, labels = '', raw] = m as unknown as [string, string, string | undefined, string];
    if (!family || !SAMPLE_SUFFIXES.some((suffix) => name === family + suffix)) problem(`sample ${name} outside its family (${family})`);
    const key = `${name}{${labels}}`;
    if (series.has(key)) problem(`duplicate series ${key}`);
    series.add(key);
    const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw);
    if (name.startsWith('ditto_sync_') && !(value >= 0)) problem(`bad value ${raw} in ${key}`);

    if (name === F.peers.name) peersTotal += value;
    else if (name === F.peersOmitted.name) omitted = value;
    else if (name === F.peerStatus.name) {
      const peer = labelValue(labels, 'peer_id') ?? '';
      const entry = statusByPeer.get(peer) ?? { samples: 0, ones: 0 };
      entry.samples++;
      if (value === 1) entry.ones++;
      statusByPeer.set(peer, entry);
    }
  }
  if (format === 'openmetrics' && lines[lines.length - 1] !== '# EOF') problem('OpenMetrics body without # EOF');

  for (const def of REQUIRED) {
    const name = familyName(def.name, def.type, format);
    if (!declared.has(name)) problem(`family ${name} missing`);
  }
  const detailed = peersTotal - (omitted ?? 0);
  if (statusByPeer.size !== detailed) problem(`${statusByPeer.size} peers in ${F.peerStatus.name}, aggregates say ${detailed}`);
  for (const [peer, { samples, ones }] of statusByPeer) {
    if (samples !== PEER_STATUSES.length || ones !== 1) {
      problem(`peer ${peer} has ${samples} status samples with ${ones} set`);
      break;
    }
  }
  // V8 keeps the last RegExp subject (a slice of this body, so the whole body) alive until the
  // next match anywhere; a leak check must not count a body the checker itself pinned.
  FORGET_LAST_MATCH.exec('');
  return problems;
}

const FORGET_LAST_MATCH = /^/;

function labelValue(labels: string, name: string): string | undefined {
  for (const m of labels.matchAll(LABEL)) if (m[1] === name) return m[2];
  return undefined;
}
