/** Families about the exporter's HTTP layer: the connection cap, the scrape cap, shared renders, auth throttling. */
import { family } from './family.js';

const f = family('exporter');

export const HTTP = {
  httpConnections: f('ditto_sync_exporter_http_connections', 'gauge', "Open HTTP connections to the exporter's own server (absent when its router is mounted in an application's server)."),
  httpConnectionsClosed: f(
    'ditto_sync_exporter_http_connections_closed_total',
    'counter',
    'Connections closed by the --max-connections cap: evicted (an idle or still-sending connection closed to make room) or rejected (a new one closed at once, every connection busy).',
    ['reason'],
  ),
  scrapesRejected: f('ditto_sync_exporter_scrapes_rejected_total', 'counter', '/metrics requests answered 503 with Retry-After because --max-concurrent-scrapes were in progress.'),
  scrapesTimedOut: f(
    'ditto_sync_exporter_scrapes_timed_out_total',
    'counter',
    '/metrics responses cut off because rendering and sending them took longer than --scrape-send-timeout (a client that reads too slowly, or not at all).',
  ),
  scrapesShared: f('ditto_sync_exporter_scrapes_shared_total', 'counter', '/metrics requests served by a render (and gzip) that a concurrent request of the same snapshot and format had started.'),
  rendersCancelled: f('ditto_sync_exporter_renders_cancelled_total', 'counter', 'Renders stopped part-way because every client waiting for them had gone away.'),
  authThrottled: f('ditto_sync_exporter_auth_throttled_total', 'counter', 'Basic-auth attempts answered 429 or 503 (not 401) because too many bcrypt checks were waiting.'),
} as const;
