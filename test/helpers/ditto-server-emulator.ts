/**
 * An EMULATOR of the Ditto Server (Big Peer) HTTP API, written from Ditto's specification
 * (docs.ditto.live/cloud/http-api: getting-started, dql-queries, auth-and-params and the OpenAPI
 * spec; for the undocumented remote execute, getditto/ditto-cli src/server/client.ts and run.ts).
 * It is not the real server, and nothing here was checked against one: test/fleet-live-server.test.ts
 * runs against a real Ditto Server when one is configured.
 *
 * What it implements, as specified:
 * - `POST {base}/api/v5/store/execute`, `Authorization: Bearer <key>`, JSON body `{statement, args}`;
 *   answers `{transactionId, queryType, items, mutatedDocumentIds, warnings, totalWarningsCount}`.
 * - Errors (400, 401, 404, 408, 500, 503) in the same envelope: `{error: {description}}`.
 * - `POST {base}/api/v5/sync/remote_execute` with `SYNC CONTEXT ( PEERS WHERE peerKeyString = '…'
 *   [OR …] ) SELECT * FROM system:data_sync_info`, answered `{result: [{peer, elapsedMilliseconds,
 *   items, error, warnings, totalWarningsCount}]}` for the connected peers named. The shape of
 *   `peer` is not specified anywhere: the emulator writes the peer key string, or `{peerKeyString}`
 *   when asked to.
 * - Only the statements the fleet source sends are understood (the keyset-paged SELECT on
 *   `__small_peer_info`); anything else is a 400 in the error envelope, as a DQL error would be.
 *
 * Its documents are `__small_peer_info` documents captured from the real SDK
 * (test/fixtures/fleet/small-peer-info.json); `deriveFleet` makes larger fleets from them by
 * changing `_id`, `device_name`, the SDK platform/version, `last_updated_at`, the transport counts
 * and the beacon only.
 * Faults (slow, hung, 5xx, malformed, error inside 2xx, revoked keys) are injected per request;
 * `pageCap` makes it serve pages shorter than LIMIT asks, as a server with its own page cap might.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Document = Record<string, unknown>;

export interface EmulatedRequest {
  readonly path: string;
  readonly statement: string | undefined;
  readonly args: Record<string, unknown> | undefined;
  readonly authorization: string | undefined;
  /** 1-based count of requests so far. */
  readonly n: number;
}

/** What to do with one request instead of (or before) answering it normally. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly description?: string; readonly headers?: Record<string, string> }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'body'; readonly status?: number; readonly body: string; readonly contentType?: string }
  | { readonly kind: 'error-in-2xx'; readonly description: string }
  | { readonly kind: 'reset' };

export interface LivePeer {
  /** The device's system:data_sync_info rows, or an error it answers with. */
  readonly rows?: readonly unknown[];
  readonly error?: string;
}

export interface EmulatorOptions {
  /** Path the HTTP API lives under (portal URLs may include one), e.g. `/3f1c…`. */
  readonly basePath?: string;
  readonly keys?: readonly string[];
  readonly documents?: readonly Document[];
  readonly peerShape?: 'string' | 'object';
  /** Serve at most this many documents per page whatever LIMIT asks (a server that quietly caps pages). */
  readonly pageCap?: number;
}

const FIXTURE = new URL('../fixtures/fleet/small-peer-info.json', import.meta.url);

/** The captured documents, as the SDK wrote them. */
export function capturedDocuments(): Document[] {
  return (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { documents: Document[] }).documents;
}

const FIRST_PAGE = /^SELECT \* FROM __small_peer_info ORDER BY _id LIMIT (\d+)$/;
const NEXT_PAGE = /^SELECT \* FROM __small_peer_info WHERE _id > :after ORDER BY _id LIMIT (\d+)$/;
const REMOTE = /^SYNC CONTEXT \( PEERS WHERE (.+) \) SELECT \* FROM system:data_sync_info$/;
const PEER_CONDITION = /^peerKeyString = '([^']*)'$/;

export class DittoServerEmulator {
  readonly requests: EmulatedRequest[] = [];
  readonly keys: Set<string>;
  /** Documents by _id; change them through setDocuments, upsert and remove. */
  readonly documents = new Map<string, Document>();
  /** Small peers connected right now, for remote execute. */
  readonly connected = new Map<string, LivePeer>();
  peerShape: 'string' | 'object';
  /** At most this many documents per page, below LIMIT when LIMIT is larger; undefined: LIMIT. */
  pageCap: number | undefined;
  /** Called for every request; a returned fault is applied instead of the normal answer (a delay, before it). */
  intercept: ((request: EmulatedRequest) => Fault | undefined) | undefined;
  private readonly faults: Fault[] = [];
  private server: Server | undefined;
  private readonly basePath: string;
  private transaction = 1000;

  constructor(options: EmulatorOptions = {}) {
    this.basePath = (options.basePath ?? '').replace(/\/+$/, '');
    this.keys = new Set(options.keys ?? ['emulator-read-only-key']);
    this.peerShape = options.peerShape ?? 'string';
    this.pageCap = options.pageCap;
    this.setDocuments(options.documents ?? capturedDocuments());
  }

  /** The base URL to give the exporter (--fleet-url). */
  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}${this.basePath}`;
  }

  setDocuments(documents: readonly Document[]): void {
    this.documents.clear();
    for (const d of documents) this.documents.set(String(d['_id']), d);
    this.sortedIds = undefined;
    this.generated = undefined;
  }

  upsert(...documents: Document[]): void {
    for (const d of documents) this.documents.set(String(d['_id']), d);
    this.sortedIds = undefined;
  }

  remove(...ids: string[]): void {
    for (const id of ids) this.documents.delete(id);
    this.sortedIds = undefined;
  }

  /**
   * Serves `count` documents made on demand by `make` (for fleets too large to hold as objects,
   * such as the bench's 100,000 devices); replaces the documents map until setDocuments.
   */
  setGenerated(ids: readonly string[], make: (id: string) => Document): void {
    this.documents.clear();
    this.sortedIds = [...ids].sort();
    this.generated = make;
  }

  private generated: ((id: string) => Document) | undefined;

  private lookup(id: string): Document | undefined {
    return this.generated ? this.generated(id) : this.documents.get(id);
  }

  /** Ids in the order ORDER BY _id gives (recomputed when the documents change). */
  private sortedIds: string[] | undefined;
  private idsInOrder(): string[] {
    this.sortedIds ??= [...this.documents.keys()].sort();
    return this.sortedIds;
  }

  /** Faults applied to the next requests, one each, in order. */
  queue(...faults: Fault[]): void {
    this.faults.push(...faults);
  }

  revoke(key: string): void {
    this.keys.delete(key);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: { statement?: unknown; args?: unknown } | undefined;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
    } catch {
      body = undefined;
    }
    const path = (req.url ?? '').split('?')[0]!;
    const request: EmulatedRequest = {
      path,
      statement: typeof body?.statement === 'string' ? body.statement : undefined,
      args: body?.args && typeof body.args === 'object' ? (body.args as Record<string, unknown>) : undefined,
      authorization: req.headers.authorization,
      n: this.requests.length + 1,
    };
    this.requests.push(request);

    let fault = this.faults.shift() ?? this.intercept?.(request);
    if (fault?.kind === 'delay') {
      const ms = fault.ms;
      await new Promise((resolve) => setTimeout(resolve, ms));
      fault = undefined;
    }
    if (fault) return this.applyFault(fault, res);

    if (req.method !== 'POST') return this.error(res, 404, `no route for ${req.method} ${path}`);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.keys.has(token)) return this.error(res, 401, 'Unauthorized: the API key is missing, invalid, expired or revoked');
    if (!/^application\/json/.test(req.headers['content-type'] ?? '')) return this.error(res, 400, 'Content-Type must be application/json');
    if (!body || request.statement === undefined) return this.error(res, 400, 'the body must be a JSON object with a statement');

    if (path === `${this.basePath}/api/v5/store/execute`) return this.execute(request, res);
    if (path === `${this.basePath}/api/v5/sync/remote_execute`) return this.remoteExecute(request, res);
    return this.error(res, 404, `no route for POST ${path}`);
  }

  private execute(request: EmulatedRequest, res: ServerResponse): void {
    const statement = request.statement!.trim();
    const first = FIRST_PAGE.exec(statement);
    const next = NEXT_PAGE.exec(statement);
    if (!first && !next) return this.error(res, 400, `emulator: unsupported statement: ${statement}`);
    const limit = Number((first ?? next)![1]);
    const after = next ? (request.args?.['after'] as unknown) : undefined;
    if (next && typeof after !== 'string') return this.error(res, 400, 'the argument :after is missing');
    const ids = this.idsInOrder();
    let start = 0;
    if (typeof after === 'string') {
      let hi = ids.length;
      while (start < hi) {
        const mid = (start + hi) >>> 1;
        if (ids[mid]! <= after) start = mid + 1;
        else hi = mid;
      }
    }
    const size = this.pageCap === undefined ? limit : Math.min(limit, this.pageCap);
    const page = ids.slice(start, start + size).map((id) => this.lookup(id));
    this.json(res, 200, { transactionId: this.transaction++, queryType: 'select', items: page, mutatedDocumentIds: [], warnings: [], totalWarningsCount: 0 });
  }

  private remoteExecute(request: EmulatedRequest, res: ServerResponse): void {
    const m = REMOTE.exec(request.statement!.trim());
    if (!m) return this.error(res, 400, `emulator: remote execute needs SYNC CONTEXT ( PEERS WHERE peerKeyString = '…' ) SELECT * FROM system:data_sync_info, got: ${request.statement}`);
    const keys: string[] = [];
    for (const part of m[1]!.split(' OR ')) {
      const c = PEER_CONDITION.exec(part.trim());
      if (!c) return this.error(res, 400, `emulator: unsupported peer condition: ${part}`);
      keys.push(c[1]!);
    }
    const result = keys.flatMap((key) => {
      const peer = this.connected.get(key);
      if (!peer) return [];
      return [
        {
          peer: this.peerShape === 'object' ? { peerKeyString: key } : key,
          elapsedMilliseconds: 12,
          items: peer.error ? [] : (peer.rows ?? []),
          error: peer.error ? { description: peer.error } : null,
          warnings: [],
          totalWarningsCount: 0,
        },
      ];
    });
    this.json(res, 200, { result });
  }

  private applyFault(fault: Fault, res: ServerResponse): void {
    switch (fault.kind) {
      case 'status':
        res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.headers ?? {}) });
        res.end(JSON.stringify({ error: { description: fault.description ?? `emulated HTTP ${fault.status}` } }));
        return;
      case 'hang':
        // Headers never come; the socket stays open until the client gives up or the emulator stops.
        return;
      case 'body':
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'application/json' });
        res.end(fault.body);
        return;
      case 'error-in-2xx':
        this.json(res, 200, { queryType: 'select', items: [], warnings: [], totalWarningsCount: 0, error: { description: fault.description } });
        return;
      case 'reset':
        res.socket?.destroy();
        return;
      case 'delay':
        return;
    }
  }

  private error(res: ServerResponse, status: number, description: string): void {
    this.json(res, status, { error: { description } });
  }

  private json(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A peer-key-like id (the captured keys' prefix and length), deterministic in `i`. */
export function deviceId(i: number, seed = 1): string {
  let x = (i + 1) * 2654435761 + seed * 40503;
  let tail = '';
  while (tail.length < 44) {
    x = (Math.imul(x ^ (x >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    tail += ID_ALPHABET[x % 64];
  }
  return `pkAocCgkM${tail}`;
}

export interface DerivedDevice {
  /** Unix seconds of last_updated_at. */
  readonly lastSeen?: number;
  readonly platform?: string;
  readonly version?: string;
  /** Replaces metadata.ditto_sync_health (null removes it). */
  readonly beacon?: Record<string, unknown> | null;
  /** Replaces connections_by_transport (an unsynced SDK reports every transport as null). */
  readonly connections?: Record<string, number | null>;
  /** Replaces device_disk_usage.device_available (free bytes; the captured device_total stays). */
  readonly availBytes?: number;
}

/**
 * `n` documents derived from the captured ones: each is a copy of a captured document (cycling
 * through them) with a new `_id` and `device_name`, and last_updated_at, SDK platform/version,
 * transport counts, free disk bytes and beacon as `describe(i)` says. Every other field is the SDK's.
 */
export function deriveFleet(n: number, describe: (i: number) => DerivedDevice = () => ({}), seed = 1): Document[] {
  const templates = capturedDocuments();
  const out: Document[] = [];
  for (let i = 0; i < n; i++) {
    const d = describe(i);
    const doc = structuredClone(templates[i % templates.length]!);
    doc['_id'] = deviceId(i, seed);
    doc['device_name'] = `device-${i}`;
    if (d.lastSeen !== undefined) doc['last_updated_at'] = new Date(d.lastSeen * 1000).toISOString();
    if (d.platform !== undefined) doc['ditto_sdk_platform'] = d.platform;
    if (d.version !== undefined) doc['ditto_sdk_version'] = d.version;
    if (d.connections !== undefined) doc['connections_by_transport'] = d.connections;
    if (d.availBytes !== undefined) doc['device_disk_usage'] = { ...((doc['device_disk_usage'] as Record<string, unknown>) ?? {}), device_available: d.availBytes };
    if (d.beacon !== undefined) {
      const metadata = { ...((doc['metadata'] as Record<string, unknown>) ?? {}) };
      if (d.beacon === null) delete metadata['ditto_sync_health'];
      else metadata['ditto_sync_health'] = d.beacon;
      doc['metadata'] = metadata;
    }
    out.push(doc);
  }
  return out;
}
