/**
 * Families about reading Ditto's own engine metrics (--ditto-engine-metrics, or `engineMetrics` in
 * library mode). The engine's families themselves (`ditto_backend_sqlite3_*`,
 * `ditto_network_connections_*`, `ditto_store_transaction_*`, ...) are Ditto's, not part of this
 * catalogue: they are served as the engine names them (src/collectors/engine.ts).
 */
import { family } from './family.js';

const f = family('engine');

export const ENGINE = {
  engineUp: f('ditto_engine_up', 'gauge', "1 when this scrape read Ditto's engine metrics and found at least one family in them, else 0. While 0, the engine's own families are left out."),
  engineScrapeDuration: f('ditto_engine_scrape_duration_seconds', 'gauge', "How long the latest read of Ditto's engine metrics took (fetch and parse), a failed one included.", [], 's'),
  engineScrapeErrors: f('ditto_engine_scrape_errors_total', 'counter', "Reads of Ditto's engine metrics that failed, by reason: unreachable, timeout, status (not 200), too_large (over the body limit), encoding (a compressed body), empty (no family in the body).", ['reason']),
  engineFamiliesDropped: f('ditto_engine_families_dropped', 'gauge', "Families of the latest engine body left out, by reason: collision (in the exporter's own ditto_sync_ or ditto_engine_ namespace, or a name one of its families or an earlier engine family uses), namespace (outside ditto_), type (summary or a type the text format does not have), limit (over the family limit).", ['reason']),
  engineSamplesUnusable: f('ditto_engine_samples_unusable', 'gauge', 'Sample lines of the latest engine body left out, by reason: syntax, value (NaN, or a counter below 0), duplicate (a series written twice), histogram (a histogram series that is not whole and consistent), limit (over the sample limit).', ['reason']),
} as const;
