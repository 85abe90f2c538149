import { writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from './helpers/cli.js';
import { valueOf } from './helpers/exposition.js';
import { SCENARIO } from './helpers/replay-exporter.js';
import { haveBinary } from './helpers/tools.js';
import { createTestPki, type TestPki } from './helpers/web-pki.js';
import { basicHeader, request } from './helpers/web-server.js';

describe.runIf(haveBinary('openssl'))('CLI with --web.config.file', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(() => pki?.cleanup());

  it('serves /metrics over TLS with basic auth, and refuses wrong credentials with a bare 401', async () => {
    const config = pki.file('web.yml');
    writeFileSync(
      config,
      [
        'tls_server_config:',
        `  cert_file: ${pki.file('server.crt')}`,
        `  key_file: ${pki.file('server.key')}`,
        'basic_auth_users:',
        `  prometheus: ${bcrypt.hashSync('s3cret-password', 4)}`,
        '',
      ].join('\n'),
    );
    const auth = basicHeader('prometheus', 's3cret-password');
    const cli = await startCli(['--source', 'replay', '--replay', SCENARIO, '--web.config.file', config, '--log-level', 'warn'], {
      scheme: 'https',
      isUp: async (base) => (await request(`${base}/healthz`, { ca: pki.caCert, headers: auth })).status === 200,
    });
    try {
      const ok = await request(`${cli.base}/metrics`, { ca: pki.caCert, headers: auth });
      expect(ok.status).toBe(200);
      expect(valueOf(ok.body, 'ditto_sync_local_commit_id')).toBe(14);
      for (const headers of [{}, basicHeader('prometheus', 'wrong'), basicHeader('someone', 's3cret-password')]) {
        const denied = await request(`${cli.base}/metrics`, { ca: pki.caCert, headers });
        expect(denied.status).toBe(401);
        expect(denied.headers['www-authenticate']).toMatch(/^Basic realm=/);
        expect(denied.body).toBe('unauthorized\n');
      }
      await expect(request(`http://127.0.0.1:${cli.port}/metrics`)).rejects.toThrow();
    } finally {
      expect(await cli.stop()).toBe(0);
    }
  });

  it('exits 2 with one line naming the problem when the web config is bad', async () => {
    const config = pki.file('bad-web.yml');
    writeFileSync(config, 'basic_auth_users:\n  prometheus: not-a-bcrypt-hash\ntls_server_confg: {}\n');
    const { code, stderr } = await runCli(['--source', 'simulate', '--web.config.file', config, '--listen', '127.0.0.1:0']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('bad-web.yml');
  });
});
