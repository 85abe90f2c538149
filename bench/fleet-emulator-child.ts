/**
 * The bench's Ditto Server: the emulator of its HTTP API from test/ (written from Ditto's
 * specification; not the real server), in its own process so serving pages does not count against
 * the exporter's event loop. Serves N devices derived from the captured SDK documents, made as each
 * page is asked for. Prints its URL, then serves until killed.
 *   node --import tsx bench/fleet-emulator-child.ts N KEY
 */
import { capturedDocuments, deviceId, DittoServerEmulator, type Document } from '../test/helpers/ditto-server-emulator.js';

const count = Number(process.argv[2]);
const key = process.argv[3] ?? 'bench-key';
const templates = capturedDocuments();
const now = Date.now() / 1000;
const index = new Map<string, number>();
const ids: string[] = [];
for (let i = 0; i < count; i++) {
  const id = deviceId(i);
  index.set(id, i);
  ids.push(id);
}
const PLATFORMS = ['Android', 'iOS', 'Linux', 'Windows', 'macOS'];

const emulator = new DittoServerEmulator({ keys: [key] });
emulator.setGenerated(ids, (id): Document => {
  const i = index.get(id)!;
  const template = templates[i % templates.length]!;
  const metadata = template['metadata'] as Record<string, unknown>;
  const beacon = metadata['ditto_sync_health'] as Record<string, unknown> | undefined;
  return {
    ...template,
    _id: id,
    device_name: `device-${i}`,
    ditto_sdk_platform: PLATFORMS[i % PLATFORMS.length],
    ditto_sdk_version: `5.${i % 7}.0`,
    // Spread over a week: some devices silent for an hour, some for a day.
    last_updated_at: new Date((now - (i % 2016) * 300) * 1000).toISOString(),
    connections_by_transport: { AccessPoint: null, Bluetooth: i % 3, P2PWiFi: null, WebSocket: 1 },
    metadata: beacon ? { ...metadata, ditto_sync_health: { ...beacon, at: now - 60 } } : metadata,
  };
});
await emulator.start();
process.stdout.write(`${emulator.url}\n`);
