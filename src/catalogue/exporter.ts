/** Families about the exporter itself, whatever its source. */
import { family } from './family.js';

const f = family('exporter');

export const EXPORTER = {
  buildInfo: f('ditto_sync_exporter_build_info', 'gauge', 'Always 1; labels carry the exporter version and the Ditto SDK version the source runs ("none" for sources without Ditto).', ['version', 'ditto_sdk_version']),
  exporterInfo: f('ditto_sync_exporter_info', 'gauge', 'Always 1; labels say how the exporter reads: its source, metrics backend, DQL strict mode ("none" for sources without Ditto) and peer_id label mode.', ['source', 'backend', 'strict_mode', 'peer_id_label']),
} as const;
