import http from 'node:http';
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import type { WebConfig } from '../src/web/web-config-load.js';
import { basicHeader, startSecuredExporter } from './helpers/web-server.js';

const PASSWORD = 'the-right-password';
// Cost 8: each check is real work (a few ms in bcryptjs), so 64 of them queue up.
const web: WebConfig = {
  file: 'web.yml',
  tls: undefined,
  auth: { basicAuthUsers: new Map([['prometheus', bcrypt.hashSync(PASSWORD, 8)]]), bearerToken: undefined },
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

describe('basic auth under a wrong-password flood', () => {
  it('a correct, not yet cached login from another address gets 200 while 64 wrong passwords flood, six times out of six', async () => {
    for (let round = 0; round < 6; round++) {
      // A fresh server each round: its cache of successful logins has not seen this one yet.
      const server = await startSecuredExporter(web);
      try {
        const flood = Array.from({ length: 64 }, (_, i) => get(server.port, basicHeader('prometheus', `wrong-${round}-${i}`), '127.0.0.66'));
        const login = get(server.port, basicHeader('prometheus', PASSWORD), '127.0.0.5');
        const [answer, ...flooded] = await Promise.all([login, ...flood]);
        // Before: 401 (the queue was full, and a full queue answered "wrong password").
        expect(answer.status, `round ${round}`).toBe(200);
        for (const f of flooded) {
          expect([401, 429, 503]).toContain(f.status);
          if (f.status !== 401) expect(f.retryAfter).toBe('1');
        }
        expect(flooded.filter((f) => f.status === 429).length, 'the flooding address is throttled').toBeGreaterThan(0);
      } finally {
        await server.close();
      }
    }
  });

  it('a correct login from the flooding address itself gets 200 or 429, never 401', async () => {
    const server = await startSecuredExporter(web);
    try {
      const flood = Array.from({ length: 64 }, (_, i) => get(server.port, basicHeader('prometheus', `wrong-same-${i}`), '127.0.0.77'));
      const login = get(server.port, basicHeader('prometheus', PASSWORD), '127.0.0.77');
      const [answer] = await Promise.all([login, ...flood]);
      expect([200, 429]).toContain(answer.status);
    } finally {
      await server.close();
    }
  });
});
