import type { CliConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { RecordingSource } from './recorder.js';
import { ReplaySource } from './replay.js';
import { SimulateSource } from './simulate.js';
import type { SyncSource } from './source.js';

/** The source the CLI flags ask for, recording its ticks when --record is given. */
export async function createSource(config: CliConfig, logger: Logger): Promise<SyncSource> {
  const source = await baseSource(config, logger);
  return config.record ? new RecordingSource(source, config.record, logger) : source;
}

/** The Ditto SDK is loaded only for `--source ditto`. */
async function baseSource(config: CliConfig, logger: Logger): Promise<SyncSource> {
  switch (config.source) {
    case 'replay':
      return new ReplaySource({ file: config.replay!, maxLineBytes: config.replayMaxLineBytes, logger });
    case 'simulate': {
      const { tickMs, ...mesh } = config.simulate;
      return new SimulateSource({ mesh, tickMs, logger });
    }
    case 'ditto': {
      // Loaded here so replay and simulate never load the native SDK.
      const [{ openDitto }, { DittoSource }] = await Promise.all([import('./ditto-open.js'), import('./ditto.js')]);
      const { ditto } = await openDitto(config.ditto, logger);
      return new DittoSource(ditto, { logger, ownsDitto: true });
    }
  }
}
