import { readFileSync } from 'node:fs';
import type { CliConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { loadDittoModules } from './ditto-sdk.js';
import { checkEngineExporterEnv } from './engine-exporter-env.js';
import { RecordingSource } from './recorder.js';
import { ReplaySource } from './replay.js';
import { SimulateSource } from './simulate.js';
import type { SyncSource } from './source.js';

export interface CreatedSource {
  readonly source: SyncSource;
  /** Where Ditto's engine exporter serves (--ditto-engine-metrics). */
  readonly engineMetricsUrl?: string;
}

/** The source the CLI flags ask for, recording its ticks when --record is given. */
export async function createSource(config: CliConfig, logger: Logger): Promise<CreatedSource> {
  const { source, engineMetricsUrl } = await baseSource(config, logger);
  return { source: config.record ? new RecordingSource(source, config.record, logger) : source, engineMetricsUrl };
}

/** The Ditto SDK is loaded only for `--source ditto`. */
async function baseSource(config: CliConfig, logger: Logger): Promise<CreatedSource> {
  switch (config.source) {
    case 'replay':
      return { source: new ReplaySource({ file: config.replay!, maxLineBytes: config.replayMaxLineBytes, logger }) };
    case 'simulate': {
      const { tickMs, ...mesh } = config.simulate;
      return { source: new SimulateSource({ mesh, tickMs, logger }) };
    }
    case 'fleet': {
      const { FleetSource } = await import('./fleet/fleet-source.js');
      const f = config.fleet;
      const file = f.apiKeyFile;
      const source = new FleetSource({
        url: f.url!,
        // Re-read before every read, so a rotated key file takes effect without a restart.
        apiKey: file ? () => readFileSync(file, 'utf8') : () => f.apiKeyFromEnv ?? '',
        intervalSeconds: f.intervalSeconds,
        pageSize: f.pageSize,
        requestTimeoutSeconds: f.requestTimeoutSeconds,
        retries: f.retries,
        maxDevices: f.maxDevices,
        deviceIdLabel: f.deviceIdLabel,
        hashKey: config.peerIdHashKey,
        shard: { index: f.shard, total: f.totalShards },
        live: f.live,
        liveTimeoutSeconds: f.liveTimeoutSeconds,
        logger,
      });
      return { source };
    }
    case 'ditto': {
      // Refused before the SDK loads (openDitto checks again right before it opens the store).
      checkEngineExporterEnv(process.env, config.ditto.engineMetrics);
      // Loaded here so replay, simulate and fleet never load the native SDK (nor need it installed).
      const [{ openDitto }, { DittoSource }] = await loadDittoModules();
      const { ditto, engineMetricsUrl } = await openDitto(config.ditto, logger);
      return { source: new DittoSource(ditto, { logger, ownsDitto: true }), engineMetricsUrl };
    }
  }
}
