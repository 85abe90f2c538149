/**
 * Library mode: the application opened Ditto itself, so the exporter cannot set up the engine
 * exporter, only look at what it did and say when something is off. Never throws; logs only.
 */
import type { Logger } from '../logger.js';
import type { EngineExporterShown } from './ditto-queries.js';
import { parseEngineUrl } from './engine-endpoint.js';
import { loopbackListener } from './engine-exporter-env.js';
import { portOwner } from './socket-owner.js';

export interface EngineExporterCheck {
  /** What the attached instance answers to SHOW (see DittoSource.engineExporter). */
  engineExporter(): Promise<EngineExporterShown | undefined>;
}

export async function checkAttachedEngineExporter(source: EngineExporterCheck, engineUrl: string | undefined, logger: Logger | undefined): Promise<void> {
  if (!logger) return;
  try {
    const shown = await source.engineExporter();
    if (shown?.enabled === true && shown.address !== undefined && !loopbackListener(JSON.stringify(shown.address))) {
      logger.warn(
        { address: shown.address },
        `Ditto's engine exporter is enabled on ${shown.address}: beyond loopback and without authentication. Set DITTO_METRICS_EXPORTER_PROMETHEUS_HTTP_LISTENER_ADDR to a JSON-quoted loopback address before Ditto.open (docs/engine-metrics.md)`,
      );
    }
    if (engineUrl === undefined) return;
    if (shown?.enabled === false) {
      logger.warn({ url: engineUrl }, "engineMetrics is set but this Ditto instance was opened without its engine exporter: set the variables before Ditto.open (enableDittoEngineMetrics does); ditto_engine_up stays 0 until then");
    }
    const url = parseEngineUrl(engineUrl);
    const owner = await portOwner(url.hostname, Number(url.port || 80));
    if (owner === 'other') logger.warn({ url: engineUrl }, 'engineMetrics.url is served by another process, not by this one: its metrics are merged as if they were this Ditto\'s engine');
    else if (owner === 'none') logger.warn({ url: engineUrl }, 'nothing listens on engineMetrics.url yet: ditto_engine_up stays 0 until something does');
  } catch (error) {
    logger.debug({ err: error }, 'could not check the engine exporter set-up');
  }
}
