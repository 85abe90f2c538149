import { hostname } from 'node:os';
import { defaultResource, detectResources, envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { EXPORTER_VERSION } from '../version.js';

export const OTEL_SERVICE_NAME = 'ditto-sync-exporter';

export interface ExporterResourceOptions {
  /** service.instance.id: the local Ditto peer id where known; defaults to the host name. */
  readonly serviceInstanceId?: string;
  /** Read OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES (default true). */
  readonly fromEnvironment?: boolean;
}

/**
 * The resource of every OpenTelemetry export: SDK defaults, then ours, then the standard
 * environment variables, so an operator can still rename the service or set its instance id.
 * The host name fallback stays stable across restarts (one series set per host, not per run).
 */
export function exporterResource(options: ExporterResourceOptions = {}): Resource {
  const instanceId = options.serviceInstanceId?.trim() || hostname();
  let resource = defaultResource().merge(
    resourceFromAttributes({
      'service.name': OTEL_SERVICE_NAME,
      'service.version': EXPORTER_VERSION,
      'service.instance.id': instanceId,
    }),
  );
  if (options.fromEnvironment ?? true) resource = resource.merge(detectResources({ detectors: [envDetector] }));
  return resource;
}
