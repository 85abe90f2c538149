import { F } from '../../catalogue/index.js';
import type { HttpView } from '../../http/http-stats.js';
import { byLabel, single, type FamilyEmitter } from './kit.js';
import type { ScrapeView } from './view.js';

const http = (get: (h: HttpView) => number | undefined) => (v: ScrapeView) => (v.http ? get(v.http) : undefined);

export const HTTP_EMITTERS: readonly FamilyEmitter[] = [
  single(F.httpConnections, http((h) => h.connections)),
  byLabel(F.httpConnectionsClosed, 'reason', (v) => v.http?.connectionsClosed),
  single(F.scrapesRejected, http((h) => h.scrapesRejected)),
  single(F.scrapesTimedOut, http((h) => h.scrapesTimedOut)),
  single(F.scrapesShared, http((h) => h.scrapesShared)),
  single(F.rendersCancelled, http((h) => h.rendersCancelled)),
  single(F.authThrottled, http((h) => h.authThrottled)),
];
