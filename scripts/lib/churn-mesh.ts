/**
 * A churning mesh for load and soak runs: the benchmark's realistic peers (bench/fixtures.ts) plus
 * what a long-lived hub sees over days: peers appearing and vanishing, statuses flipping, the app
 * writing and the cloud acking (with outages), and now and then a row the exporter must reject.
 * Seeded and pure apart from its own random numbers, so a run can be reproduced.
 */
import { createMesh, PEER_ID_LENGTH, seededRandom, TICK_INTERVAL_SECONDS, type SdkRow, type Status } from '../../bench/fixtures.js';
import type { RowField, RowUnusableReason } from '../../src/model.js';

/** What the validator must report for a bad row: a reason the whole row is left out, or the one field it cannot use. */
export type BadRowKind = RowUnusableReason | RowField;

export interface ChurnOptions {
  /** Peers the mesh holds at most; the live count wanders just below it. */
  readonly peers: number;
  readonly seed: number;
  /** Mean devices that vanish per tick; about as many new ones appear. */
  readonly vanishPerTick: number;
  /** Mean status flips per tick. */
  readonly flipsPerTick: number;
  /** Local commits the app makes per tick. */
  readonly writesPerTick: number;
  /** One unusable row every this many ticks (0 = never). */
  readonly badRowEvery: number;
  /** A cloud outage (no acks, cloud rows Not Connected) starts every this many ticks (0 = never)... */
  readonly outageEvery: number;
  /** ...and lasts this many ticks. */
  readonly outageTicks: number;
}

export const DEFAULT_CHURN: ChurnOptions = Object.freeze({
  peers: 1000,
  seed: 7,
  vanishPerTick: 0.5,
  flipsPerTick: 2,
  writesPerTick: 3,
  badRowEvery: 97,
  outageEvery: 20_000,
  outageTicks: 2_000,
});

export interface ChurnTick {
  readonly rows: readonly unknown[];
  /** Unix seconds. */
  readonly readAt: number;
  readonly commits: readonly { id: number; at: number }[];
}

/** Running totals of what the mesh did, so a run can check the exporter counted the same. */
export interface ChurnTotals {
  ticks: number;
  appeared: number;
  vanished: number;
  flips: number;
  commits: number;
  badRows: Map<BadRowKind, number>;
}

interface LivePeer {
  readonly id: string;
  readonly cloud: boolean;
  status: Status;
  synced: number | null;
  lastUpdate: number | null;
  /** The row handed over last tick; reused while nothing about the peer changes. */
  row: SdkRow | undefined;
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const START_AT = 1_750_000_000;
const START_COMMIT = 48_213_907;

const GOOD_DOCUMENTS = { sync_session_status: 'Connected', synced_up_to_local_commit_id: 1, last_update_received_time: null };

/**
 * Bad rows in rotation, each with what the validator must report. Rows with one unusable field are
 * still peers (the rest of the row is used): `peer` says so.
 */
const BAD_ROWS: readonly { kind: BadRowKind; peer: boolean; make: (live: readonly LivePeer[], t: number) => unknown }[] = [
  { kind: 'not_an_object', peer: false, make: () => null },
  { kind: 'missing_id', peer: false, make: () => ({ is_ditto_server: false, documents: {} }) },
  { kind: 'bad_id', peer: false, make: () => ({ _id: 'pk'.repeat(300), is_ditto_server: false, documents: {} }) },
  { kind: 'is_ditto_server', peer: true, make: () => ({ _id: 'pkBadServerFlag', is_ditto_server: 'yes', documents: GOOD_DOCUMENTS }) },
  { kind: 'documents', peer: true, make: () => ({ _id: 'pkBadDocuments', is_ditto_server: false, documents: 'none' }) },
  {
    kind: 'synced_up_to_local_commit_id',
    peer: true,
    make: () => ({ _id: 'pkBadCommit', is_ditto_server: false, documents: { ...GOOD_DOCUMENTS, synced_up_to_local_commit_id: -1 } }),
  },
  {
    kind: 'last_update_received_time',
    peer: true,
    make: () => ({ _id: 'pkBadTime', is_ditto_server: false, documents: { ...GOOD_DOCUMENTS, last_update_received_time: 'soon' } }),
  },
  // A second row for a live peer: the first one wins, this one is counted.
  { kind: 'duplicate_id', peer: false, make: (live, t) => ({ _id: live[0]!.id, is_ditto_server: live[0]!.cloud, documents: { sync_session_status: 'Connected', synced_up_to_local_commit_id: 1, last_update_received_time: t } }) },
];

export class ChurnMesh {
  private readonly random: () => number;
  private readonly live: LivePeer[] = [];
  private k = 0;
  private localCommit = START_COMMIT;
  private badIndex = 0;
  /** The bad row of the latest tick, if it had one. */
  private lastBad: (typeof BAD_ROWS)[number] | undefined;
  readonly totals: ChurnTotals = { ticks: 0, appeared: 0, vanished: 0, flips: 0, commits: 0, badRows: new Map() };

  constructor(readonly options: ChurnOptions = DEFAULT_CHURN) {
    if (!Number.isInteger(options.peers) || options.peers < 10) throw new RangeError(`peers must be an integer of at least 10, got ${options.peers}`);
    this.random = seededRandom(options.seed);
    for (const spec of createMesh(options.peers, options.seed).peers) {
      this.live.push({
        id: spec.id,
        cloud: spec.cloud,
        status: spec.status,
        synced: spec.lag === null ? null : Math.max(0, START_COMMIT - spec.lag),
        lastUpdate: spec.age === null ? null : START_AT - spec.age,
        row: undefined,
      });
    }
  }

  /** The bad row the latest tick carried: what the validator must report, and whether it is still a peer. */
  get badInLastTick(): { readonly kind: BadRowKind; readonly peer: boolean } | undefined {
    return this.lastBad;
  }

  /** Peers in the mesh right now. */
  get size(): number {
    return this.live.length;
  }

  /** Whether tick `k` falls in a cloud outage. */
  outageAt(k: number): boolean {
    const { outageEvery, outageTicks } = this.options;
    return outageEvery > 0 && k >= outageEvery && k % outageEvery < outageTicks;
  }

  /** When the next tick is read on the mesh's own clock (unix seconds). */
  get time(): number {
    return START_AT + this.k * TICK_INTERVAL_SECONDS;
  }

  /** The observer falls silent for `ticks` ticks: time moves on, nothing is delivered. */
  pause(ticks: number): void {
    this.k += ticks;
  }

  /**
   * The next observer tick, 500 ms after the previous one on the mesh's clock; a live run passes
   * the wall clock as `readAt` instead.
   */
  next(readAt = this.time): ChurnTick {
    const k = this.k++;
    const outage = this.outageAt(k);
    this.totals.ticks++;
    this.lastBad = undefined;

    const commits: { id: number; at: number }[] = [];
    for (let i = 0; i < this.options.writesPerTick; i++) {
      // Commit ids rise but skip, as Ditto's do.
      this.localCommit += 1 + Math.floor(this.random() * 3);
      commits.push({ id: this.localCommit, at: readAt - this.random() * TICK_INTERVAL_SECONDS });
    }
    this.totals.commits += commits.length;

    this.churn(readAt);
    this.flip();

    for (const peer of this.live) this.advance(peer, readAt, outage);

    const rows: unknown[] = new Array(this.live.length);
    for (let i = 0; i < this.live.length; i++) rows[i] = this.live[i]!.row ??= toRow(this.live[i]!);
    if (this.options.badRowEvery > 0 && k % this.options.badRowEvery === this.options.badRowEvery - 1) rows.push(this.badRow(readAt));
    return { rows, readAt, commits };
  }

  /**
   * Vanishing and appearing devices. The count never exceeds `peers` (a run at 1,000 peers never
   * trips the exporter's default --max-peers 1000) and is pulled back up below 98 % of it.
   */
  private churn(readAt: number): void {
    const vanish = this.poisson(this.options.vanishPerTick);
    let appear = this.poisson(this.options.vanishPerTick);
    for (let i = 0; i < vanish; i++) {
      const index = this.randomDevice();
      if (index === undefined) break;
      // Swap-remove: Ditto lists rows in no particular order.
      this.live[index] = this.live[this.live.length - 1]!;
      this.live.pop();
      this.totals.vanished++;
    }
    if (this.live.length < this.options.peers * 0.98) appear++;
    appear = Math.min(appear, this.options.peers - this.live.length);
    for (let i = 0; i < appear; i++) {
      this.live.push({ id: this.newId(), cloud: false, status: 'Connected', synced: null, lastUpdate: Math.floor(readAt), row: undefined });
      this.totals.appeared++;
    }
  }

  private flip(): void {
    const flips = this.poisson(this.options.flipsPerTick);
    for (let i = 0; i < flips; i++) {
      const index = this.randomDevice();
      if (index === undefined) return;
      const peer = this.live[index]!;
      const r = this.random();
      peer.status = peer.status === 'Connected' ? (r < 0.9 ? 'Not Connected' : 'Disabled') : 'Connected';
      peer.row = undefined;
      this.totals.flips++;
    }
  }

  /** Connected peers catch up with the app's commits and send data now and then. */
  private advance(peer: LivePeer, readAt: number, outage: boolean): void {
    if (peer.cloud) {
      const status: Status = outage ? 'Not Connected' : 'Connected';
      if (status !== peer.status) {
        peer.status = status;
        peer.row = undefined;
      }
    }
    if (peer.status !== 'Connected') return;
    // Most connected devices are idle in any half second: their row does not change.
    if (this.random() < (peer.cloud ? 0.8 : 0.05)) {
      peer.synced = this.localCommit;
      peer.lastUpdate = Math.floor(readAt);
      peer.row = undefined;
    }
  }

  private badRow(readAt: number): unknown {
    const bad = BAD_ROWS[this.badIndex++ % BAD_ROWS.length]!;
    this.totals.badRows.set(bad.kind, (this.totals.badRows.get(bad.kind) ?? 0) + 1);
    this.lastBad = bad;
    return bad.make(this.live, readAt);
  }

  private randomDevice(): number | undefined {
    for (let attempt = 0; attempt < 16; attempt++) {
      const index = Math.floor(this.random() * this.live.length);
      if (!this.live[index]!.cloud) return index;
    }
    return undefined;
  }

  private newId(): string {
    let id = '';
    for (let i = 0; i < PEER_ID_LENGTH; i++) id += ID_ALPHABET[Math.floor(this.random() * ID_ALPHABET.length)];
    return id;
  }

  /** Small-mean Poisson draw (Knuth). */
  private poisson(mean: number): number {
    if (mean <= 0) return 0;
    const limit = Math.exp(-mean);
    let n = 0;
    for (let p = this.random(); p > limit; p *= this.random()) n++;
    return n;
  }
}

/** A row shaped as the SDK hands it over; Ditto reports last_update_received_time in milliseconds. */
function toRow(peer: LivePeer): SdkRow {
  return {
    _id: peer.id,
    is_ditto_server: peer.cloud,
    documents: {
      sync_session_status: peer.status,
      synced_up_to_local_commit_id: peer.synced,
      last_update_received_time: peer.lastUpdate === null ? null : peer.lastUpdate * 1000,
    },
  };
}
