import http from 'node:http';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import type { WebConfig } from '../src/web/web-config-load.js';
import { basicHeader, startSecuredExporter } from './helpers/web-server.js';

const PASSWORD = 'the-right-password';
// Cost 10: each check is real work (tens of ms in bcryptjs), so 64 of them queue up.
const web: WebConfig = {
  file: 'web.yml',
  tls: undefined,
  auth: { basicAuthUsers: new Map([['prometheus', bcrypt.hashSync(PASSWORD, 10)]]), bearerToken: undefined },
  headers: [],
};

/** One GET on its own connection from `localAddress` (any 127/8 address is loopback on Linux). */
function get(port: number, headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', headers, agent: false, localAddress }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined }));
      })
      .on('error', reject);
  });
}

/**
 * 64 wrong-password requests from one address at once. `full` resolves with the first answer,
 * which comes at once only for a request refused because too many checks already wait: from then
 * on the queue is full.
 */
function flood(port: number, localAddress: string, tag: string) {
  let first!: () => void;
  const full = new Promise<void>((resolve) => (first = resolve));
  const state = { answered: 0 };
  const answers = Promise.all(
    Array.from({ length: 64 }, (_, i) =>
      get(port, basicHeader('prometheus', `wrong-${tag}-${i}`), localAddress).then((answer) => {
        state.answered++;
        first();
        return answer;
      }),
    ),
  );
  return { full, answers, state };
}

describe('basic auth under a wrong-password flood', () => {
  it('a correct, not yet cached login from another address gets 200 while 64 wrong passwords wait, six times out of six', async () => {
    const logins: string[] = [];
    const flooded: Array<{ status: number; retryAfter: string | undefined }> = [];
    for (let round = 0; round < 6; round++) {
      // A fresh server each round: its cache of successful logins has not seen this one yet.
      const server = await startSecuredExporter(web);
      try {
        const attack = flood(server.port, '127.0.0.66', String(round));
        await attack.full;
        const login = await get(server.port, basicHeader('prometheus', PASSWORD), '127.0.0.5');
        // Not starved: answered while the flood still waits for its checks, not after all of them.
        logins.push(`${login.status}${attack.state.answered < 64 ? '' : ' after the whole flood'}`);
        flooded.push(...(await attack.answers));
      } finally {
        await server.close();
      }
    }
    // Before: bcrypt ran on the event loop one check at a time, so the login came last, after all
    // 64 (about 6 s here), or got 401 when the queue of 32 was full.
    expect(logins).toEqual(['200', '200', '200', '200', '200', '200']);
    for (const f of flooded) {
      expect([401, 429, 503]).toContain(f.status);
      if (f.status !== 401) expect(f.retryAfter).toBe('1');
    }
    expect(flooded.filter((f) => f.status === 429).length, 'the flooding address is throttled').toBeGreaterThan(0);
  }, 120_000);

  it('a correct login from the flooding address itself gets 200 or 429, never 401', async () => {
    const server = await startSecuredExporter(web);
    try {
      const attack = flood(server.port, '127.0.0.77', 'same');
      await attack.full;
      const answer = await get(server.port, basicHeader('prometheus', PASSWORD), '127.0.0.77');
      expect([200, 429]).toContain(answer.status);
      await attack.answers;
    } finally {
      await server.close();
    }
  });
});
