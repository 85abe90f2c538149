import type { Server } from 'node:http';
import bcrypt from 'bcryptjs';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { boundPort, closeServer, createRouter, listen } from '../src/server.js';
import { createAuthMiddleware, decodeBasic, parseAuthorization } from '../src/web/auth.js';
import { BasicAuthVerifier } from '../src/web/basic-auth.js';
import { BcryptCheckError, BcryptPool } from '../src/web/bcrypt-pool.js';
import { webSecurityMiddleware } from '../src/web/secure-router.js';
import type { WebConfig } from '../src/web/web-config-load.js';
import { basicHeader, INTERNALS, request, startSecuredExporter, tinyExporter, type RunningServer } from './helpers/web-server.js';

const PASSWORD = 'correct horse battery staple';
const TOKEN = 'tok_0123456789abcdef0123456789abcdef';
const users = new Map([['prometheus', bcrypt.hashSync(PASSWORD, 4)]]);

const webConfig = (auth: Partial<WebConfig['auth']>, headers: WebConfig['headers'] = []): WebConfig => ({
  file: 'web.yml',
  tls: undefined,
  auth: { basicAuthUsers: auth.basicAuthUsers ?? new Map(), bearerToken: auth.bearerToken },
  headers,
});

/** A 401 as the brief wants it: challenge, no detail, nothing internal. */
function expectUnauthorized(res: { status: number; headers: Record<string, unknown>; body: string }, challenge: string | string[]): void {
  expect(res.status).toBe(401);
  expect(res.headers['www-authenticate']).toBe(Array.isArray(challenge) ? challenge.join(', ') : challenge);
  expect(res.body).toBe('unauthorized\n');
  expect(res.body).not.toMatch(INTERNALS);
  expect(res.headers['cache-control']).toBe('no-store');
}

describe('basic auth in front of the standalone app', () => {
  let running: RunningServer;
  const headers: WebConfig['headers'] = [
    ['Strict-Transport-Security', 'max-age=31536000'],
    ['X-Frame-Options', 'sameorigin'],
  ];
  beforeAll(async () => {
    running = await startSecuredExporter(webConfig({ basicAuthUsers: users }, headers));
  });
  afterAll(() => running.close());

  it('serves every endpoint to the right user and password', async () => {
    for (const path of ['/metrics', '/healthz', '/readyz', '/']) {
      const res = await request(`${running.url}${path}`, { headers: basicHeader('prometheus', PASSWORD) });
      expect(res.status, path).toBe(200);
    }
    const metrics = await request(`${running.url}/metrics`, { headers: basicHeader('prometheus', PASSWORD) });
    expect(metrics.body).toContain('ditto_sync_peer_status{peer_id="peer-a",peer_type="device",status="connected"} 1');
  });

  it('answers 401 with a Basic challenge and no detail for a wrong, missing, unknown or malformed credential', async () => {
    const challenge = 'Basic realm="ditto-sync-exporter"';
    const attempts: Array<Record<string, string>> = [
      {},
      basicHeader('prometheus', 'wrong'),
      basicHeader('prometheus', ''),
      basicHeader('nobody', PASSWORD),
      basicHeader('', ''),
      { authorization: 'Basic' },
      { authorization: 'Basic !!!notbase64' },
      { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` },
      { authorization: `Bearer ${TOKEN}` },
      { authorization: `Digest username="prometheus"` },
    ];
    for (const headers of attempts) {
      for (const path of ['/metrics', '/healthz', '/readyz', '/', '/unknown']) {
        expectUnauthorized(await request(`${running.url}${path}`, { headers }), challenge);
      }
    }
  });

  it('checks credentials before anything else: unknown paths and other methods need them too', async () => {
    expect((await request(`${running.url}/nope`)).status).toBe(401);
    expect((await request(`${running.url}/metrics`, { method: 'POST' })).status).toBe(401);
    const auth = basicHeader('prometheus', PASSWORD);
    expect((await request(`${running.url}/nope`, { headers: auth })).status).toBe(404);
    expect((await request(`${running.url}/metrics`, { method: 'POST', headers: auth })).status).toBe(405);
  });

  it('accepts the scheme name in any case, as RFC 7235 says', async () => {
    const value = Buffer.from(`prometheus:${PASSWORD}`).toString('base64');
    expect((await request(`${running.url}/metrics`, { headers: { authorization: `bAsIc ${value}` } })).status).toBe(200);
  });

  it('answers 503 with Retry-After, never 401, when no bcrypt answer could be had (the worker died twice)', async () => {
    const died = vi.spyOn(BcryptPool.prototype, 'compare').mockImplementation(() => Promise.reject(new BcryptCheckError('worker died twice (test)')));
    try {
      for (const headers of [basicHeader('prometheus', 'not-checked'), basicHeader('nobody', PASSWORD)]) {
        const res = await request(`${running.url}/metrics`, { headers });
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['www-authenticate']).toBeUndefined();
        expect(res.body).not.toMatch(INTERNALS);
      }
      expect(died).toHaveBeenCalledTimes(2);
    } finally {
      died.mockRestore();
    }
    expect((await request(`${running.url}/metrics`, { headers: basicHeader('prometheus', 'wrong') })).status).toBe(401);
  });

  it('puts the configured headers on every response, 401s included', async () => {
    for (const res of [await request(`${running.url}/metrics`), await request(`${running.url}/metrics`, { headers: basicHeader('prometheus', PASSWORD) })]) {
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
      expect(res.headers['x-frame-options']).toBe('sameorigin');
    }
  });
});

describe('bearer token', () => {
  let running: RunningServer;
  let both: RunningServer;
  beforeAll(async () => {
    running = await startSecuredExporter(webConfig({ bearerToken: TOKEN }));
    both = await startSecuredExporter(webConfig({ bearerToken: TOKEN, basicAuthUsers: users }));
  });
  afterAll(async () => {
    await running.close();
    await both.close();
  });

  it('lets the right token through and answers 401 with a Bearer challenge otherwise', async () => {
    expect((await request(`${running.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await request(`${running.url}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    const challenge = 'Bearer realm="ditto-sync-exporter"';
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, 'Bearer ', `Bearer ${TOKEN} extra`, TOKEN, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`]) {
      expectUnauthorized(await request(`${running.url}/metrics`, { headers: authorization === undefined ? {} : { authorization } }), challenge);
    }
  });

  it('accepts either when basic auth and a token are both configured, and offers both challenges', async () => {
    expect((await request(`${both.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    expect((await request(`${both.url}/metrics`, { headers: basicHeader('prometheus', PASSWORD) })).status).toBe(200);
    expectUnauthorized(await request(`${both.url}/metrics`), ['Basic realm="ditto-sync-exporter"', 'Bearer realm="ditto-sync-exporter"']);
  });
});

describe('mounting ahead of the library router in an application', () => {
  let server: Server;
  let base: string;
  const exporter = tinyExporter();
  beforeAll(async () => {
    const app = express();
    app.get('/app/health', (_req, res) => void res.send('app ok'));
    app.use('/ditto', ...webSecurityMiddleware(webConfig({ bearerToken: TOKEN })), createRouter(exporter));
    server = await listen(app, { host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${boundPort(server)}`;
  });
  afterAll(async () => {
    await closeServer(server);
    await exporter.close();
  });

  it('protects the mounted exporter paths and leaves the application\'s own routes alone', async () => {
    expect((await request(`${base}/app/health`)).status).toBe(200);
    expect((await request(`${base}/ditto/metrics`)).status).toBe(401);
    const ok = await request(`${base}/ditto/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('ditto_sync_connected_peers 2');
  });
});

describe('BasicAuthVerifier', () => {
  const hash = users.get('prometheus')!;
  /** A comparison that counts its calls and can be held open. */
  function countingCompare() {
    const calls: string[] = [];
    let running = 0;
    let maxRunning = 0;
    const compare = async (password: string, h: string) => {
      calls.push(h);
      maxRunning = Math.max(maxRunning, ++running);
      try {
        return await bcrypt.compare(password, h);
      } finally {
        running--;
      }
    };
    return { compare, calls, maxRunning: () => maxRunning };
  }

  it('pays bcrypt once per credential, then serves from the cache', async () => {
    const counter = countingCompare();
    const verifier = new BasicAuthVerifier(users, { compare: counter.compare });
    expect(await verifier.verify('prometheus', PASSWORD)).toBe('ok');
    expect(await verifier.verify('prometheus', PASSWORD)).toBe('ok');
    expect(await verifier.verify('prometheus', PASSWORD)).toBe('ok');
    expect(counter.calls).toHaveLength(1);
    // Failures are not cached: each one pays the full cost again.
    expect(await verifier.verify('prometheus', 'wrong')).toBe('denied');
    expect(await verifier.verify('prometheus', 'wrong')).toBe('denied');
    expect(counter.calls).toHaveLength(3);
  });

  it('runs a real bcrypt comparison for unknown users, against the costliest configured hash', async () => {
    const counter = countingCompare();
    const costly = bcrypt.hashSync('other', 6);
    const verifier = new BasicAuthVerifier(new Map([...users, ['admin', costly]]), { compare: counter.compare, sleep: async () => {} });
    // The right password of an existing user does not open an account that does not exist.
    expect(await verifier.verify('ghost', PASSWORD)).toBe('denied');
    expect(await verifier.verify('ghost', PASSWORD)).toBe('denied');
    expect(counter.calls).toEqual([costly, costly]);
  });

  it('makes a check against a cheaper hash wait as long as one at the highest cost would work', async () => {
    const waits: number[] = [];
    const costly = bcrypt.hashSync('other', 7); // users' own hash has cost 4: three steps cheaper
    const verifier = new BasicAuthVerifier(new Map([...users, ['admin', costly]]), {
      compare: (p, h) => bcrypt.compare(p, h),
      sleep: async (ms) => void waits.push(ms),
    });
    expect(await verifier.verify('prometheus', PASSWORD)).toBe('ok');
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThan(0);
    expect(await verifier.verify('admin', 'wrong')).toBe('denied'); // the costliest: no wait
    expect(await verifier.verify('ghost', 'x')).toBe('denied'); // compared against the costliest: no wait
    expect(waits).toHaveLength(1);
    expect(verifier.mixedCosts).toBe(true);
  });

  it('runs one comparison at a time with a main-thread compare, and answers overloaded, not denied, when too many wait', async () => {
    const counter = countingCompare();
    const verifier = new BasicAuthVerifier(users, { compare: counter.compare, maxQueued: 3, maxQueuedPerClient: 10 });
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e', PASSWORD].map((p) => verifier.verify('prometheus', p)));
    // One runs, three wait, the rest are refused without being checked: never a wrong "denied".
    expect(results).toEqual(['denied', 'denied', 'denied', 'denied', 'overloaded', 'overloaded']);
    expect(counter.maxRunning()).toBe(1);
    expect(counter.calls).toHaveLength(4);
  });

  it('serves waiting checks round-robin across clients, and throttles a client with too many waiting', async () => {
    const order: string[] = [];
    const verifier = new BasicAuthVerifier(users, {
      compare: async (p, h) => {
        order.push(p);
        return bcrypt.compare(p, h);
      },
      maxQueued: 32,
      maxQueuedPerClient: 4,
    });
    const flood = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'].map((p) => verifier.verify('prometheus', p, '10.0.0.66'));
    const login = verifier.verify('prometheus', PASSWORD, '10.0.0.5');
    const results = await Promise.all([...flood, login]);
    // f1 ran at once, f2-f5 waited, f6 was throttled; the other client's login went next.
    expect(results).toEqual(['denied', 'denied', 'denied', 'denied', 'denied', 'throttled', 'ok']);
    expect(order.indexOf(PASSWORD)).toBeLessThanOrEqual(2);
  });

  it('checks on worker threads by default', async () => {
    const verifier = new BasicAuthVerifier(users);
    try {
      const [ok, wrong] = await Promise.all([verifier.verify('prometheus', PASSWORD), verifier.verify('prometheus', 'nope')]);
      expect([ok, wrong]).toEqual(['ok', 'denied']);
    } finally {
      await verifier.close();
    }
  });

  it('keeps a bounded cache, forgetting the oldest success first', async () => {
    const many = new Map(['u1', 'u2', 'u3'].map((u) => [u, hash]));
    const counter = countingCompare();
    const verifier = new BasicAuthVerifier(many, { compare: counter.compare, maxCached: 2 });
    for (const u of ['u1', 'u2', 'u3']) expect(await verifier.verify(u, PASSWORD)).toBe('ok');
    expect(counter.calls).toHaveLength(3);
    expect(await verifier.verify('u3', PASSWORD)).toBe('ok');
    expect(counter.calls).toHaveLength(3);
    expect(await verifier.verify('u1', PASSWORD)).toBe('ok');
    expect(counter.calls).toHaveLength(4);
  });

  it('refuses passwords bcrypt would truncate', async () => {
    const long = 'x'.repeat(72);
    const longUsers = new Map([['u', bcrypt.hashSync(long, 4)]]);
    const verifier = new BasicAuthVerifier(longUsers);
    try {
      expect(await verifier.verify('u', long)).toBe('ok');
      expect(await verifier.verify('u', `${long}tail`)).toBe('denied');
    } finally {
      await verifier.close();
    }
  });

  it('answers unavailable, never denied, when a comparison fails rather than says no', async () => {
    const throwing = new BasicAuthVerifier(users, { compare: async () => Promise.reject(new Error('boom')) });
    expect(await throwing.verify('prometheus', PASSWORD)).toBe('unavailable');
    expect(await throwing.verify('prometheus', 'wrong')).toBe('unavailable');
  });

  it('still lets the right password in, and keeps the wrong one out, when the worker was terminated before the check', async () => {
    const pool = new BcryptPool(1);
    const verifier = new BasicAuthVerifier(users, { pool, maxCached: 0 });
    try {
      expect(await verifier.verify('prometheus', PASSWORD)).toBe('ok');
      // The reviewer's case: the slot of a dying worker (idle timeout, crash) used to get the next
      // check and answer "no match", a wrong 401.
      void pool.workers[0]!.terminate();
      expect(await verifier.verify('prometheus', PASSWORD)).toBe('ok');
      void pool.workers[0]!.terminate();
      expect(await verifier.verify('prometheus', 'wrong')).toBe('denied');
    } finally {
      await verifier.close();
    }
    expect(pool.workers).toEqual([]);
  });
});

describe('Authorization header parsing', () => {
  it.each([
    ['Basic YTpi', { scheme: 'basic', value: 'YTpi' }],
    ['BEARER abc.def', { scheme: 'bearer', value: 'abc.def' }],
    ['Bearer   abc  ', { scheme: 'bearer', value: 'abc' }],
    ['Bearer', undefined],
    ['Bearer a b', undefined],
    [' Basic YTpi', undefined],
    [undefined, undefined],
  ])('%j', (header, expected) => {
    expect(parseAuthorization(header)).toEqual(expected);
  });

  it('decodes basic credentials strictly and splits at the first colon', () => {
    expect(decodeBasic(Buffer.from('u:p:q').toString('base64'))).toEqual({ user: 'u', password: 'p:q' });
    expect(decodeBasic(Buffer.from('u:').toString('base64'))).toEqual({ user: 'u', password: '' });
    expect(decodeBasic(Buffer.from('nocolon').toString('base64'))).toBeUndefined();
    expect(decodeBasic('YTpi!')).toBeUndefined();
    expect(decodeBasic('YTp')).toBeUndefined();
  });

  it('refuses a realm that would break the challenge header', () => {
    expect(() => createAuthMiddleware({ basicAuthUsers: users, bearerToken: undefined }, { realm: 'a"b' })).toThrow(RangeError);
  });
});
