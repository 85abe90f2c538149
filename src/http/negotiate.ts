import type { ExpositionFormat } from '../exposition/format.js';

interface MediaRange {
  readonly type: string;
  readonly subtype: string;
  readonly version: string | undefined;
  readonly q: number;
  readonly order: number;
}

/** RFC 9110 qvalue: 0 to 1 with at most three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/** The media ranges of an Accept header, best first; ranges with q=0 or an unreadable q are dropped. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  const ranges: MediaRange[] = [];
  header.split(',').forEach((part, order) => {
    const [media = '', ...params] = part.split(';').map((s) => s.trim());
    const m = /^([a-z0-9!#$%&'*+.^_`|~-]+)\/([a-z0-9!#$%&'*+.^_`|~-]+)$/i.exec(media);
    if (!m) return;
    let q = 1;
    let version: string | undefined;
    for (const param of params) {
      const eq = param.indexOf('=');
      if (eq < 0) continue;
      const name = param.slice(0, eq).trim().toLowerCase();
      const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
      if (name === 'q') {
        if (!QVALUE.test(value)) return;
        q = Number(value);
      } else if (name === 'version') version = value;
    }
    if (q > 0) ranges.push({ type: m[1]!.toLowerCase(), subtype: m[2]!.toLowerCase(), version, q, order });
  });
  return ranges.sort((a, b) => b.q - a.q || a.order - b.order);
}

const OPENMETRICS_VERSIONS = new Set([undefined, '1.0.0', '0.0.1']);
const TEXT_VERSIONS = new Set([undefined, '0.0.4']);

/**
 * The format to answer an Accept header with, among those the backend can write, as Prometheus'
 * client_golang does: the best-ranked media range that names a format exactly wins; a wildcard or
 * nothing usable means Prometheus text.
 */
export function negotiateFormat(accept: string | undefined, supported: readonly ExpositionFormat[] = ['prometheus', 'openmetrics']): ExpositionFormat {
  for (const range of parseAccept(accept)) {
    if (range.type === 'application' && range.subtype === 'openmetrics-text' && OPENMETRICS_VERSIONS.has(range.version) && supported.includes('openmetrics')) {
      return 'openmetrics';
    }
    if (range.type === 'text' && range.subtype === 'plain' && TEXT_VERSIONS.has(range.version)) return 'prometheus';
    if ((range.type === '*' && range.subtype === '*') || (range.type === 'text' && range.subtype === '*')) return 'prometheus';
  }
  return 'prometheus';
}
