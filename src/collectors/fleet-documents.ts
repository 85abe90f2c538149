/**
 * Field-by-field validation of `__small_peer_info` documents as the Ditto Server returns them (one
 * per device, shape measured from the real SDK: ../shared/DITTO_NOTES.md). A document is left out
 * only without a usable `_id`; any other unusable field becomes unknown, is named in `unusable`, and
 * the rest of the document is used. Never throws.
 */
import type { Transport } from '../catalogue/device.js';
import { ROW_UNUSABLE_REASONS, type RowUnusableReason } from '../model.js';
import { BEACON_FIELDS, readBeacon, type BeaconField } from './beacon.js';
import { peerIdProblem } from './rows.js';
import { readTime } from './timestamps.js';
import { transportOf } from './transports.js';

/** Why a whole document was left out: the same reasons as for rows. */
export const DOCUMENT_UNUSABLE_REASONS = ROW_UNUSABLE_REASONS;
export type DocumentUnusableReason = RowUnusableReason;

const BEACON_FIELD_NAMES = BEACON_FIELDS.filter((f) => f !== 'v').map((f) => `ditto_sync_health.${f}` as const);
type BeaconFieldName = `ditto_sync_health.${Exclude<BeaconField, 'v'>}`;

/** Fields that can be unusable on their own (beacon fields under `ditto_sync_health.`). */
export const DEVICE_FIELDS = [
  'device_name',
  'ditto_sdk_language',
  'ditto_sdk_platform',
  'ditto_sdk_version',
  'last_updated_at',
  'device_disk_usage',
  'device_disk_usage.device_available',
  'device_disk_usage.device_total',
  'device_disk_usage.ditto_total',
  'connections_by_transport',
  'metadata',
  ...BEACON_FIELD_NAMES,
] as const;
export type DeviceField = (typeof DEVICE_FIELDS)[number];

/** Longest device name kept as a label value (Ditto truncates names to 24 bytes; apps may not). */
export const MAX_DEVICE_NAME_LENGTH = 128;
/** Longest SDK language, platform or version kept as a label value. */
export const MAX_SDK_VALUE_LENGTH = 64;

/** What the device's sync-health beacon (metadata.ditto_sync_health) says, reduced to what is exported. */
export type DeviceBeacon =
  | { readonly kind: 'absent' }
  | { readonly kind: 'unsupported' }
  | {
      readonly kind: 'v1';
      readonly at: number | undefined;
      readonly unackedCommits: number | undefined;
      /** null: the device said it has none; undefined: unusable. */
      readonly oldestUnackedAt: number | null | undefined;
      readonly cloudLastUpdateAt: number | null | undefined;
    };

export interface TransportCount {
  /** The same label values as ditto_presence_connections (`transportOf`). */
  readonly transport: Transport;
  readonly connections: number;
}

/** One device after validation; `undefined` means unknown (not given, or unusable). */
export interface DeviceRecord {
  readonly id: string;
  readonly name: string | undefined;
  readonly language: string | undefined;
  readonly platform: string | undefined;
  readonly version: string | undefined;
  /** last_updated_at, unix seconds. */
  readonly lastSeen: number | undefined;
  /** device_disk_usage.ditto_total. */
  readonly storeBytes: number | undefined;
  readonly availBytes: number | undefined;
  readonly sizeBytes: number | undefined;
  readonly connections: readonly TransportCount[];
  readonly beacon: DeviceBeacon;
  readonly unusable: readonly DeviceField[];
}

const ABSENT: DeviceBeacon = Object.freeze({ kind: 'absent' });
const UNSUPPORTED: DeviceBeacon = Object.freeze({ kind: 'unsupported' });
const NONE: readonly never[] = Object.freeze([]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: Record<string, unknown>, key: string): unknown => (Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined);

/** A label-ready string, null/absent as undefined, or `false` when unusable. */
function text(value: unknown, maxLength: number): string | undefined | false {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > maxLength || !value.isWellFormed()) return false;
  return value;
}

/** A byte or connection count: a non-negative safe integer; null/absent as undefined, `false` when unusable. */
function count(value: unknown): number | undefined | false {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : false;
}

/** The document, or why it is left out entirely. Times are read against `clock` (unix seconds). */
export function parseDevice(raw: unknown, clock: number): DeviceRecord | DocumentUnusableReason {
  if (!isRecord(raw)) return 'not_an_object';
  const id = own(raw, '_id');
  const idProblem = peerIdProblem(id);
  if (idProblem) return idProblem;
  let unusable: DeviceField[] | undefined;
  const mark = (field: DeviceField) => (unusable ??= []).push(field);
  const str = (field: DeviceField, max: number): string | undefined => {
    const v = text(own(raw, field), max);
    if (v === false) {
      mark(field);
      return undefined;
    }
    return v;
  };

  const name = str('device_name', MAX_DEVICE_NAME_LENGTH);
  const language = str('ditto_sdk_language', MAX_SDK_VALUE_LENGTH);
  const platform = str('ditto_sdk_platform', MAX_SDK_VALUE_LENGTH);
  const version = str('ditto_sdk_version', MAX_SDK_VALUE_LENGTH);

  let lastSeen: number | undefined;
  const time = readTime(own(raw, 'last_updated_at'), clock);
  if (time.kind === 'unusable') mark('last_updated_at');
  else if (time.kind === 'time') lastSeen = time.seconds;

  let storeBytes: number | undefined;
  let availBytes: number | undefined;
  let sizeBytes: number | undefined;
  const disk = own(raw, 'device_disk_usage');
  if (isRecord(disk)) {
    const read = (key: 'device_available' | 'device_total' | 'ditto_total'): number | undefined => {
      const v = count(own(disk, key));
      if (v === false) {
        mark(`device_disk_usage.${key}`);
        return undefined;
      }
      return v;
    };
    availBytes = read('device_available');
    sizeBytes = read('device_total');
    storeBytes = read('ditto_total');
  } else if (disk !== undefined && disk !== null) mark('device_disk_usage');

  let connections: TransportCount[] | readonly never[] = NONE;
  const byTransport = own(raw, 'connections_by_transport');
  if (isRecord(byTransport)) {
    let bad = false;
    let other: number | undefined;
    for (const key of Object.keys(byTransport)) {
      const v = count(byTransport[key]);
      if (v === false) bad = true;
      else if (v === undefined) continue;
      else {
        // Keys are distinct, so only `other` can gather several of them.
        const transport = transportOf(key);
        if (transport === 'other') other = (other ?? 0) + v;
        else (connections === NONE ? (connections = []) : (connections as TransportCount[])).push({ transport, connections: v });
      }
    }
    if (other !== undefined) (connections === NONE ? (connections = []) : (connections as TransportCount[])).push({ transport: 'other', connections: other });
    if (bad) mark('connections_by_transport');
  } else if (byTransport !== undefined && byTransport !== null) mark('connections_by_transport');

  const metadata = own(raw, 'metadata');
  let beacon = ABSENT;
  if (metadata !== undefined && metadata !== null && !isRecord(metadata)) mark('metadata');
  else {
    const reading = readBeacon(metadata, clock);
    if (reading.kind === 'unsupported') beacon = UNSUPPORTED;
    else if (reading.kind === 'beacon') {
      const b = reading.beacon;
      for (const field of b.unusable) mark(`ditto_sync_health.${field}` as BeaconFieldName);
      // A beacon without a local commit id tracks no commits: its unacked 0 says nothing waits
      // where the truth is that nothing is known, so it is left out rather than served.
      const tracks = typeof b.localCommitId === 'bigint';
      beacon = { kind: 'v1', at: b.at, unackedCommits: tracks ? b.unackedCommits : undefined, oldestUnackedAt: b.oldestUnackedCommitAt, cloudLastUpdateAt: b.cloudLastUpdateAt };
    }
  }

  return {
    id: id as string,
    name,
    language,
    platform,
    version,
    lastSeen,
    storeBytes,
    availBytes,
    sizeBytes,
    connections,
    beacon,
    unusable: unusable ? Object.freeze(unusable) : NONE,
  };
}
