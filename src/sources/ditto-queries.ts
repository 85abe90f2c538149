/** The DQL the `ditto` source runs, and the pure reading of Ditto's answers. No SDK calls here. */
import { STORAGE_KEYS } from '../collectors/storage.js';

export const SHOW_STRICT_MODE = 'SHOW DQL_STRICT_MODE';

/** Non-strict DQL infers `documents` as a map. */
export const SYNC_INFO_QUERY = 'SELECT * FROM system:data_sync_info';

/** Strict DQL treats undeclared nested fields as registers; declaring `documents` a MAP keeps its fields readable. */
export const SYNC_INFO_QUERY_STRICT = 'SELECT * FROM COLLECTION system:data_sync_info (documents MAP)';

export function syncInfoQuery(strictMode: boolean): string {
  return strictMode ? SYNC_INFO_QUERY_STRICT : SYNC_INFO_QUERY;
}

const TRUE_VALUES = new Set<unknown>([true, 'true', 'TRUE', 'True', 1, 1n, 'on', '1']);
const FALSE_VALUES = new Set<unknown>([false, 'false', 'FALSE', 'False', 0, 0n, 'off', '0']);

/**
 * Reads the answer to `SHOW DQL_STRICT_MODE` (5.1.0 answers `[{ dql_strict_mode: false }]`).
 * Any key mentioning "strict" with a boolean-like value counts, so a renamed column or a string
 * value still reads; `undefined` when the answer says nothing usable.
 */
export function readStrictMode(values: readonly unknown[]): boolean | undefined {
  for (const value of values) {
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, setting] of Object.entries(value)) {
      if (!/strict/i.test(key)) continue;
      if (TRUE_VALUES.has(setting)) return true;
      if (FALSE_VALUES.has(setting)) return false;
    }
  }
  return undefined;
}

/**
 * This device's storage figures from system:system_info, newest first. Ditto samples each key
 * about every second and keeps a history of them (measured on 5.1.0: it grows to about 50 samples a
 * key, then is cut back to about 10), so the read is filtered to the storage keys and bounded: the
 * 10 newest samples a key cover about ten seconds, and a key missing from them has not been sampled
 * while the others were, and is left out. The same statement runs with strict mode on (measured).
 */
export const STORAGE_QUERY = 'SELECT * FROM system:system_info WHERE key IN :keys ORDER BY timestamp DESC LIMIT :limit';

export const STORAGE_SAMPLES_PER_KEY = 10;

export const storageQueryArgs = () => ({ keys: [...STORAGE_KEYS.keys()], limit: STORAGE_KEYS.size * STORAGE_SAMPLES_PER_KEY });

/** The engine exporter's system parameters; Ditto reads them from the environment at open. */
export const SHOW_ENGINE_EXPORTER = ['SHOW metrics_exporter_prometheus_enabled', 'SHOW metrics_exporter_prometheus_http_listener_addr'] as const;

export interface EngineExporterShown {
  readonly enabled: boolean | undefined;
  readonly address: string | undefined;
}

/** Reads `[{ metrics_exporter_prometheus_enabled: true }, { metrics_exporter_prometheus_http_listener_addr: "127.0.0.1:9464" }]` (5.1.0). */
export function readEngineExporterSetting(values: readonly unknown[]): EngineExporterShown {
  let enabled: boolean | undefined;
  let address: string | undefined;
  for (const value of values) {
    if (typeof value !== 'object' || value === null) continue;
    const record = value as Record<string, unknown>;
    const e = record['metrics_exporter_prometheus_enabled'];
    if (typeof e === 'boolean') enabled = e;
    const a = record['metrics_exporter_prometheus_http_listener_addr'];
    if (typeof a === 'string') address = a;
  }
  return { enabled, address };
}
