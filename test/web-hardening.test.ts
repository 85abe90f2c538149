import { writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWebConfig, type WebConfig } from '../src/web/web-config-load.js';
import { basicHeader, INTERNALS, request, startSecuredExporter, type RunningServer } from './helpers/web-server.js';
import { createTestPki, type TestPki } from './helpers/web-pki.js';

const PASSWORD = 'pw-for-hardening';
const web: WebConfig = {
  file: 'web.yml',
  tls: undefined,
  auth: { basicAuthUsers: new Map([['prometheus', bcrypt.hashSync(PASSWORD, 4)]]), bearerToken: undefined },
  headers: [],
};
const AUTH = basicHeader('prometheus', PASSWORD);
const AUTH_LINE = `Authorization: ${AUTH.authorization}\r\n`;

interface Exchange {
  /** Everything the server sent before closing (or before the guard ran out). */
  readonly response: string;
  readonly closed: boolean;
}

/** Writes raw bytes and collects the answer until the server closes the connection (10 s guard). */
function exchange(connect: () => net.Socket, payload: string | Buffer, guardMs = 10_000): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect();
    let response = '';
    const guard = setTimeout(() => {
      socket.destroy();
      resolve({ response, closed: false });
    }, guardMs);
    socket.on('data', (chunk: Buffer) => (response += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      resolve({ response, closed: true });
    });
    socket.write(payload);
  });
}

const statusOf = (response: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);
const bodyOf = (response: string) => response.slice(response.indexOf('\r\n\r\n') + 4);

describe('hostile requests to the standalone app (auth on, plain HTTP)', () => {
  let running: RunningServer;
  const plain = () => net.connect(running.port, '127.0.0.1');
  beforeAll(async () => {
    running = await startSecuredExporter(web);
  });
  afterAll(() => running.close());

  it.each([
    ['/%', 404, '/%'],
    ['/%zz', 404, '/%zz'],
    ['/metrics%00', 404, '/metrics%00'],
    ['/%E0%A4%A', 404, '/%E0%A4%A'],
    ['//etc/passwd', 404, '//etc/passwd'],
    ['/..%2f..%2fetc%2fpasswd', 404, '/..%2f..%2fetc%2fpasswd'],
    ['/metrics/', 404, '/metrics/'],
    ['/Metrics', 404, '/Metrics'],
    ['an 8000-character path', 404, `/${'a'.repeat(8000)}`],
    ['/metrics?%', 200, '/metrics?%'],
    ['/metrics?x=%ZZ&x[y]=1', 200, '/metrics?x=%ZZ&x[y]=1'],
  ])('%s → %i, with nothing internal in the body', async (_name, status, path) => {
    const res = await request(`${running.url}${path}`, { headers: AUTH });
    expect(res.status).toBe(status);
    if (status !== 200) expect(res.body).not.toMatch(INTERNALS);
    expect((await request(`${running.url}${path}`)).status).toBe(401);
  });

  it('answers other methods with 405 on known paths and 404 elsewhere', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      const known = await request(`${running.url}/metrics`, { method, headers: AUTH });
      expect(known.status, method).toBe(405);
      expect(known.headers.allow).toBe('GET, HEAD');
      expect(known.body).not.toMatch(INTERNALS);
      expect((await request(`${running.url}/elsewhere`, { method, headers: AUTH })).status, method).toBe(404);
    }
    const head = await request(`${running.url}/metrics`, { method: 'HEAD', headers: AUTH });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('refuses oversized headers with 431 and no body', async () => {
    const { response } = await exchange(plain, `GET /metrics HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}X-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(statusOf(response)).toBe(431);
    expect(bodyOf(response)).toBe('');
  });

  it.each([
    ['a garbage request line', 'HELLO THERE\r\n\r\n'],
    ['an unknown method', `BREW /metrics HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}\r\n`],
    ['a control character in a header', `GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n`],
    ['both Content-Length and Transfer-Encoding (smuggling)', `GET /metrics HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
  ])('answers %s with 400 and nothing internal', async (_name, payload) => {
    const { response, closed } = await exchange(plain, payload);
    expect(statusOf(response)).toBe(400);
    expect(bodyOf(response)).not.toMatch(INTERNALS);
    expect(closed).toBe(true);
  });
});

describe('slow clients are cut off by headersTimeout', () => {
  let pki: TestPki;
  const servers: RunningServer[] = [];
  const timeouts = { headersTimeoutMs: 300, requestTimeoutMs: 600, factory: { connectionsCheckingIntervalMs: 100 } };
  beforeAll(() => {
    pki = createTestPki();
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    pki.cleanup();
  });

  it('over plain HTTP: a client that never finishes its headers gets 408 and a closed socket', async () => {
    const running = await startSecuredExporter(web, timeouts);
    servers.push(running);
    const { response, closed } = await exchange(() => net.connect(running.port, '127.0.0.1'), `GET /metrics HTTP/1.1\r\nHost: x\r\n${AUTH_LINE}`);
    expect(closed).toBe(true);
    expect(statusOf(response)).toBe(408);
    expect(bodyOf(response)).toBe('');
  });

  it('over HTTPS: the same, once the handshake is done', async () => {
    const file = pki.file('web.yml');
    writeFileSync(file, 'tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n');
    const running = await startSecuredExporter(await loadWebConfig(file), timeouts);
    servers.push(running);
    const connect = () => tls.connect({ host: '127.0.0.1', port: running.port, ca: pki.caCert, servername: 'localhost' });
    const { response, closed } = await exchange(connect, 'GET /metrics HTTP/1.1\r\nHost: x\r\n');
    expect(closed).toBe(true);
    expect(statusOf(response)).toBe(408);
  });
});
