/**
 * The HTTP client and the paged inventory read against an emulator of the Ditto Server HTTP API
 * (written from Ditto's specification; not the real server).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DittoServerClient, endpoint, envelopeError, FleetReadError, retryAfterMs } from '../src/sources/fleet/client.js';
import { readInventory } from '../src/sources/fleet/inventory-reader.js';
import { DittoServerEmulator, deriveFleet } from './helpers/ditto-server-emulator.js';

const KEY = 'emulator-read-only-key';
let emu: DittoServerEmulator;
let retries: number[];

beforeEach(async () => {
  emu = await new DittoServerEmulator({ basePath: '/3f1c0a9e-app', keys: [KEY] }).start();
  retries = [];
});
afterEach(() => emu.stop());

const client = (options: Partial<ConstructorParameters<typeof DittoServerClient>[0]> = {}) =>
  new DittoServerClient({ baseUrl: emu.url, apiKey: () => KEY, timeoutMs: 2000, backoffMs: 20, onRetry: (s) => retries.push(s), ...options });

async function failure(promise: Promise<unknown>): Promise<FleetReadError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(FleetReadError);
    return error as FleetReadError;
  }
  throw new Error('expected the read to fail');
}

const page = () => client().execute('SELECT * FROM __small_peer_info ORDER BY _id LIMIT 10');

describe('requests as Ditto documents them', () => {
  it('POST {base}/api/v5/store/execute, the base keeping its path, with a bearer key and a JSON body', async () => {
    const answer = await page();
    expect(answer.items).toHaveLength(3);
    const r = emu.requests[0]!;
    expect(r.path).toBe('/3f1c0a9e-app/api/v5/store/execute');
    expect(r.authorization).toBe(`Bearer ${KEY}`);
    expect(endpoint('https://x.cloud.dittolive.app/app-id/', '/api/v5/store/execute')).toBe('https://x.cloud.dittolive.app/app-id/api/v5/store/execute');
    expect(endpoint('https://x.cloud.dittolive.app', '/api/v5/store/execute')).toBe('https://x.cloud.dittolive.app/api/v5/store/execute');
  });

  it('reads the inventory page by page by key: LIMIT and _id > :after, never OFFSET, one request per page', async () => {
    emu.setDocuments(deriveFleet(23));
    const pages: number[] = [];
    const result = await readInventory(client(), { pageSize: 5, onPage: (items) => void pages.push(items.length) });
    // The short page is not taken as the end: only an empty one is.
    expect(pages).toEqual([5, 5, 5, 5, 3, 0]);
    expect(result).toEqual({ pages: 6, documents: 23 });
    const ids = [...emu.documents.keys()].sort();
    expect(emu.requests.map((r) => r.args?.['after'])).toEqual([undefined, ids[4], ids[9], ids[14], ids[19], ids[22]]);
    for (const r of emu.requests) {
      expect(r.statement).toMatch(/ORDER BY _id LIMIT 5$/);
      expect(r.statement).not.toMatch(/OFFSET/i);
    }
  });

  it('asks once more when the last page is exactly full, and stops at an empty one', async () => {
    emu.setDocuments(deriveFleet(10));
    const result = await readInventory(client(), { pageSize: 5, onPage: () => {} });
    expect(result).toEqual({ pages: 3, documents: 10 });
  });

  it('reads the whole fleet from a server that quietly caps pages below LIMIT', async () => {
    const fleet = deriveFleet(25);
    emu.setDocuments(fleet);
    emu.pageCap = 7;
    const seen: string[] = [];
    const pages: number[] = [];
    const result = await readInventory(client(), {
      pageSize: 10,
      onPage: (items) => {
        pages.push(items.length);
        for (const d of items) seen.push(String((d as Record<string, unknown>)['_id']));
      },
    });
    expect(pages).toEqual([7, 7, 7, 4, 0]);
    expect(result).toEqual({ pages: 5, documents: 25 });
    expect(seen).toEqual(fleet.map((d) => String(d['_id'])).sort());
    for (const r of emu.requests) expect(r.statement).toMatch(/LIMIT 10$/);
  });

  it('reads an empty fleet with one request', async () => {
    emu.setDocuments([]);
    expect(await readInventory(client(), { pageSize: 5, onPage: () => {} })).toEqual({ pages: 1, documents: 0 });
    expect(emu.requests).toHaveLength(1);
  });
});

describe('errors', () => {
  it('treats the error envelope inside a 200 as an error', async () => {
    emu.queue({ kind: 'error-in-2xx', description: 'query execution failed: collection is locked' });
    const e = await failure(page());
    expect(e.reason).toBe('error_envelope');
    expect(e.message).toContain('collection is locked');
  });

  it('reports 401 and 403 as unauthorized, without retrying', async () => {
    emu.revoke(KEY);
    const e = await failure(page());
    expect({ reason: e.reason, status: e.status }).toEqual({ reason: 'unauthorized', status: 401 });
    emu.queue({ kind: 'status', status: 403, description: 'forbidden' });
    expect((await failure(client({ apiKey: () => 'other' }).execute('x'))).reason).toBe('unauthorized');
    expect(retries).toEqual([]);
  });

  it.each([408, 429, 503])('retries %i with backoff and succeeds when the server recovers', async (status) => {
    emu.queue({ kind: 'status', status }, { kind: 'status', status });
    const answer = await page();
    expect(answer.items).toHaveLength(3);
    expect(retries).toEqual([status, status]);
    expect(emu.requests).toHaveLength(3);
  });

  it('gives up after --fleet-retries and names the last status', async () => {
    for (let i = 0; i < 4; i++) emu.queue({ kind: 'status', status: 503 });
    const e = await failure(client({ retries: 3 }).execute('SELECT * FROM __small_peer_info ORDER BY _id LIMIT 10'));
    expect({ reason: e.reason, status: e.status }).toEqual({ reason: 'http_5xx', status: 503 });
    expect(retries).toHaveLength(3);
    expect(emu.requests).toHaveLength(4);
  });

  it('waits at least what Retry-After asks', async () => {
    emu.queue({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    await page();
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(new Date(Date.now() + 5000).toUTCString())).toBeGreaterThan(3000);
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('does not retry a 500 or a 400', async () => {
    emu.queue({ kind: 'status', status: 500, description: 'internal' });
    expect((await failure(page())).reason).toBe('http_5xx');
    expect((await failure(client().execute('DROP EVERYTHING'))).reason).toBe('http_4xx');
    expect(retries).toEqual([]);
  });

  it('times out a hung request', async () => {
    emu.queue({ kind: 'hang' });
    const e = await failure(client({ timeoutMs: 300 }).execute('SELECT * FROM __small_peer_info ORDER BY _id LIMIT 10'));
    expect(e.reason).toBe('timeout');
  });

  it('waits for a slow answer that arrives within the timeout', async () => {
    emu.queue({ kind: 'delay', ms: 300 });
    expect((await client({ timeoutMs: 5000 }).execute('SELECT * FROM __small_peer_info ORDER BY _id LIMIT 10')).items).toHaveLength(3);
  });

  it('times out a body that stops half-way', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items": [');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const e = await failure(new DittoServerClient({ baseUrl: url, apiKey: () => KEY, timeoutMs: 300 }).execute('x'));
      expect(e.reason).toBe('timeout');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it.each([
    ['a body that is not JSON', { kind: 'body', body: '<html>Sign in</html>', contentType: 'text/html' }],
    ['JSON without items', { kind: 'body', body: '{"queryType": "select"}' }],
    ['items that are not an array', { kind: 'body', body: '{"items": {"a": 1}}' }],
    ['a JSON array', { kind: 'body', body: '[]' }],
    ['an empty body', { kind: 'body', body: '' }],
  ] as const)('calls %s in a 200 malformed', async (_what, fault) => {
    emu.queue(fault);
    expect((await failure(page())).reason).toBe('malformed');
  });

  it('refuses an answer larger than the bound without holding it', async () => {
    emu.setDocuments(deriveFleet(50));
    const e = await failure(client({ maxBodyBytes: 20_000 }).execute('SELECT * FROM __small_peer_info ORDER BY _id LIMIT 50'));
    expect(e.reason).toBe('malformed');
    expect(e.message).toMatch(/--fleet-page-size/);
  });

  it('calls a reset connection a network failure, and an unreachable server too', async () => {
    emu.queue({ kind: 'reset' });
    expect((await failure(page())).reason).toBe('network');
    const dead = new DittoServerClient({ baseUrl: 'http://127.0.0.1:1', apiKey: () => KEY, timeoutMs: 2000 });
    expect((await failure(dead.execute('x'))).reason).toBe('network');
  });

  it('fails a read whose full page does not move the cursor, instead of looping', async () => {
    emu.setDocuments(deriveFleet(6));
    const stuck = [...emu.documents.values()].slice(0, 3);
    emu.intercept = () => ({ kind: 'body', body: JSON.stringify({ items: stuck }) });
    const e = await failure(readInventory(client(), { pageSize: 3, onPage: () => {} }));
    expect(e.reason).toBe('malformed');
    expect(e.message).toMatch(/does not page by key/);
    expect(emu.requests.length).toBe(2);
  });

  it('never writes the API key into an error message', async () => {
    const key = 'sk-very-secret-key-123';
    emu.queue({ kind: 'status', status: 400, description: `bad key ${key}` });
    const e = await failure(client({ apiKey: () => key }).execute('x'));
    expect(e.message).not.toContain(key);
    expect(e.message).toContain('***');
  });

  it('reads the envelope error as documented and as it may drift', () => {
    expect(envelopeError({ error: { description: 'x' } })).toBe('x');
    expect(envelopeError({ error: null, items: [] })).toBeUndefined();
    expect(envelopeError({ error: {} })).toBeUndefined();
    expect(envelopeError({ error: { code: 7 } })).toBe('{"code":7}');
    expect(envelopeError({ error: 'boom' })).toBe('boom');
  });
});
