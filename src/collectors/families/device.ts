import { STORE_COMPONENTS, TRANSPORTS } from '../../catalogue/device.js';
import { F } from '../../catalogue/index.js';
import { labelSet, NO_LABELS, type LabelSet } from '../../exposition/labels.js';
import type { StorageReading } from '../storage.js';
import { byLabel, single, type FamilyEmitter, type ItemFamily } from './kit.js';
import type { ScrapeView } from './view.js';

const TRANSPORT_LABELS = TRANSPORTS.map((t) => ({ t, labels: labelSet({ transport: t }) }));
const COMPONENT_LABELS = STORE_COMPONENTS.map((c) => ({ c, labels: labelSet({ component: c }) }));

const presence = (v: ScrapeView) => v.device.presence;
const storage = (v: ScrapeView) => v.device.storage;
const reading = (v: ScrapeView): StorageReading | undefined => v.device.storage?.reading;

const peerInfo: ItemFamily<LabelSet> = {
  def: F.peerInfo,
  items: (v) => v.device.peerInfo,
  emitItem: (_view, labels, out) => out.value(F.peerInfo, labels, 1),
};

/** The device area's families (presence graph, storage, engine, beacon), in exposition order. */
export const DEVICE_EMITTERS: readonly FamilyEmitter[] = [
  peerInfo,
  single(F.presenceRemotePeers, (v) => presence(v)?.remotePeers),
  {
    def: F.presenceConnections,
    emit(view, out) {
      const connections = presence(view)?.connections;
      // Every known transport, 0 when it carries none: a panel or rule never sees a gap for "none".
      if (connections) for (const { t, labels } of TRANSPORT_LABELS) out.value(F.presenceConnections, labels, connections[t]);
    },
  },
  byLabel(F.presenceItemsUnusable, 'item', (v) => presence(v)?.unusable),
  {
    def: F.storeSize,
    emit(view, out) {
      const bytes = reading(view)?.bytes;
      if (!bytes) return;
      for (const { c, labels } of COMPONENT_LABELS) {
        const value = bytes.get(c);
        if (value !== undefined) out.value(F.storeSize, labels, value);
      }
    },
  },
  single(F.filesystemAvail, (v) => reading(v)?.bytes.get('filesystem_avail')),
  single(F.filesystemSize, (v) => reading(v)?.bytes.get('filesystem_size')),
  single(F.storageTimestamp, (v) => reading(v)?.measuredAt),
  {
    def: F.storageUp,
    emit(view, out) {
      const s = storage(view);
      if (s?.up !== undefined) out.value(F.storageUp, NO_LABELS, s.up && s.reading ? 1 : 0);
    },
  },
  single(F.storageReadErrors, (v) => storage(v)?.readErrors),
  single(F.storageValuesUnusable, (v) => reading(v)?.unusable),
];
