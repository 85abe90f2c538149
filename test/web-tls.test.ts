import { writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebConfig } from '../src/web/web-config-load.js';
import { basicHeader, request, startSecuredExporter, type RunningServer } from './helpers/web-server.js';
import { createTestPki, type TestPki } from './helpers/web-pki.js';

let pki: TestPki;
let configs = 0;
const servers: RunningServer[] = [];

/** Serves the exporter with a web config file written next to the test certificates. */
async function serve(yaml: string, options: Parameters<typeof startSecuredExporter>[1] = {}): Promise<RunningServer> {
  const file = pki.file(`web-${configs++}.yml`);
  writeFileSync(file, yaml);
  const running = await startSecuredExporter(await loadWebConfig(file), options);
  servers.push(running);
  return running;
}

const TLS_ONLY = 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n';
const mtls = (clientAuth: string, extra = '') =>
  `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth_type: ${clientAuth}\n  client_ca_file: ca.crt\n${extra}`;

/** The request's outcome: a status code, or "refused" when the TLS layer would not serve it. */
async function outcome(url: string, options: Parameters<typeof request>[1]): Promise<number | 'refused'> {
  try {
    return (await request(url, options)).status;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // The server closing the connection, or a TLS alert about the certificate: both are a refusal.
    if (/ECONNRESET|EPIPE|ERR_SSL|ERR_TLS/.test(code) || /socket hang up|alert/.test(String(error))) return 'refused';
    throw error;
  }
}

beforeAll(() => {
  pki = createTestPki();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  pki.cleanup();
});

describe('HTTPS from tls_server_config', () => {
  let running: RunningServer;
  beforeAll(async () => {
    running = await serve(TLS_ONLY);
  });

  it('serves /metrics over HTTPS to a client that trusts the CA', async () => {
    const res = await request(`${running.url}/metrics`, { ca: pki.caCert });
    expect(res.status).toBe(200);
    expect(res.body).toContain('ditto_sync_cloud_servers_connected 1');
    expect(res.tls?.protocol).toBe('TLSv1.3');
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await expect(request(`${running.url}/metrics`)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  });

  it('does not answer plain HTTP on the TLS port', async () => {
    const plain = running.url.replace('https:', 'http:');
    await expect(request(`${plain}/metrics`)).rejects.toThrow(/socket hang up|ECONNRESET|Parse Error/);
  });

  it('cuts off a client that never starts the TLS handshake', async () => {
    const quick = await serve(TLS_ONLY, { factory: { handshakeTimeoutMs: 300 } });
    const socket = net.connect(quick.port, '127.0.0.1');
    const closed = await new Promise<string>((resolve) => {
      const guard = setTimeout(() => resolve('still open after 10 s'), 10_000);
      socket.on('close', () => {
        clearTimeout(guard);
        resolve('closed');
      });
      socket.on('error', () => {});
    });
    socket.destroy();
    expect(closed).toBe('closed');
  });

  it('combines TLS with basic auth', async () => {
    const hash = bcrypt.hashSync('pw', 4);
    const both = await serve(`${TLS_ONLY}basic_auth_users:\n  prometheus: ${hash}\n`);
    expect((await request(`${both.url}/metrics`, { ca: pki.caCert })).status).toBe(401);
    expect((await request(`${both.url}/metrics`, { ca: pki.caCert, headers: basicHeader('prometheus', 'pw') })).status).toBe(200);
  });
});

describe('client certificates (mTLS)', () => {
  const client = () => ({ ca: pki.caCert, cert: pki.clientCert, key: pki.clientKey });
  const rogue = () => ({ ca: pki.caCert, cert: pki.rogueCert, key: pki.rogueKey });
  const none = () => ({ ca: pki.caCert });

  it('RequireAndVerifyClientCert: refuses a client without a certificate or with an untrusted one, serves a trusted one', async () => {
    const running = await serve(mtls('RequireAndVerifyClientCert'));
    expect(await outcome(`${running.url}/metrics`, none())).toBe('refused');
    expect(await outcome(`${running.url}/metrics`, rogue())).toBe('refused');
    expect(await outcome(`${running.url}/metrics`, client())).toBe(200);
  });

  it('RequireAndVerifyClientCert also holds over TLS 1.2', async () => {
    const running = await serve(mtls('RequireAndVerifyClientCert'));
    expect(await outcome(`${running.url}/metrics`, { ...none(), maxVersion: 'TLSv1.2' })).toBe('refused');
    expect(await outcome(`${running.url}/metrics`, { ...client(), maxVersion: 'TLSv1.2' })).toBe(200);
  });

  it('VerifyClientCertIfGiven: serves a client without a certificate, refuses an untrusted one', async () => {
    const running = await serve(mtls('VerifyClientCertIfGiven'));
    expect(await outcome(`${running.url}/metrics`, none())).toBe(200);
    expect(await outcome(`${running.url}/metrics`, rogue())).toBe('refused');
    expect(await outcome(`${running.url}/metrics`, client())).toBe(200);
  });

  it('RequireAnyClientCert: needs a certificate but does not verify it', async () => {
    const running = await serve(TLS_ONLY.replace(/\n$/, '\n  client_auth_type: RequireAnyClientCert\n'));
    expect(await outcome(`${running.url}/metrics`, none())).toBe('refused');
    expect(await outcome(`${running.url}/metrics`, rogue())).toBe(200);
  });

  it('RequestClientCert: asks, but serves clients either way', async () => {
    const running = await serve(TLS_ONLY.replace(/\n$/, '\n  client_auth_type: RequestClientCert\n'));
    expect(await outcome(`${running.url}/metrics`, none())).toBe(200);
    expect(await outcome(`${running.url}/metrics`, rogue())).toBe(200);
  });

  it('client_allowed_sans: serves a certificate with a listed SAN and refuses one without', async () => {
    const allowed = await serve(mtls('RequireAndVerifyClientCert', '  client_allowed_sans: [spiffe://test/prometheus]\n'));
    expect(await outcome(`${allowed.url}/metrics`, client())).toBe(200);
    const other = await serve(mtls('RequireAndVerifyClientCert', '  client_allowed_sans: [grafana, 10.0.0.1]\n'));
    expect(await outcome(`${other.url}/metrics`, client())).toBe('refused');
  });
});

describe('protocol versions and cipher suites', () => {
  it('min_version TLS13 refuses a TLS 1.2 client', async () => {
    const running = await serve(`${TLS_ONLY}  min_version: TLS13\n`);
    expect(await outcome(`${running.url}/metrics`, { ca: pki.caCert, maxVersion: 'TLSv1.2' })).toBe('refused');
    expect(await outcome(`${running.url}/metrics`, { ca: pki.caCert })).toBe(200);
  });

  it('cipher_suites limits TLS 1.2 to the listed suites and leaves TLS 1.3 working', async () => {
    const running = await serve(`${TLS_ONLY}  cipher_suites: [TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]\n`);
    const tls12 = await request(`${running.url}/metrics`, { ca: pki.caCert, maxVersion: 'TLSv1.2' });
    expect(tls12.tls).toEqual({ protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256' });
    // A client offering only a suite that is not listed cannot connect over TLS 1.2.
    expect(await outcome(`${running.url}/metrics`, { ca: pki.caCert, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toBe('refused');
    expect((await request(`${running.url}/metrics`, { ca: pki.caCert })).tls?.protocol).toBe('TLSv1.3');
  });

  it('curve_preferences limits key exchange groups', async () => {
    const group = async (running: RunningServer) => {
      const socket = tls.connect({ host: '127.0.0.1', port: running.port, ca: pki.caCert, servername: 'localhost' });
      try {
        return await new Promise<string | undefined>((resolve, reject) => {
          socket.once('secureConnect', () => resolve((socket.getEphemeralKeyInfo() as { name?: string } | null)?.name));
          socket.once('error', reject);
        });
      } finally {
        socket.destroy();
      }
    };
    expect(await group(await serve(TLS_ONLY))).toBe('X25519');
    expect(await group(await serve(`${TLS_ONLY}  curve_preferences: [CurveP384]\n`))).toBe('secp384r1');
  });
});
