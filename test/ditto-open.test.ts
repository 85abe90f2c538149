import { relative } from 'node:path';
import { rmSync } from 'node:fs';
import { Authenticator, Logger as DittoLogger } from '@dittolive/ditto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { freePort, openTempDitto, tempDir } from './ditto-test-kit.js';
import type { Logger } from '../src/logger.js';
import { DittoConfigError, openDitto, SYNC_NOT_ACTIVATED_MESSAGE, type DittoOpenConfig } from '../src/sources/ditto-open.js';

function recordingLogger() {
  const lines: Array<{ level: string; message: string }> = [];
  const log = (level: string) => (a: unknown, b?: unknown) => void lines.push({ level, message: String(typeof a === 'string' ? a : b) });
  return { logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as unknown as Logger, lines };
}

const dirs: string[] = [];
const newDir = () => {
  const dir = tempDir('dse-open-');
  dirs.push(dir);
  return dir;
};

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('openDitto refuses bad configuration with a clear message', () => {
  it.each<[string, DittoOpenConfig, string, RegExp]>([
    ['listen without port', { tcpListen: '127.0.0.1' }, 'tcpListen', /expected HOST:PORT/],
    ['listen port out of range', { tcpListen: '127.0.0.1:70000' }, 'tcpListen', /port 1-65535/],
    ['listen port 0', { tcpListen: '0.0.0.0:0' }, 'tcpListen', /port 1-65535/],
    ['connect entry not HOST:PORT', { tcpConnect: ['127.0.0.1:4040', 'peer'] }, 'tcpConnect', /"peer"/],
    ['connect entry without host', { tcpConnect: [':4040'] }, 'tcpConnect', /":4040"/],
    ['server without token', { serverUrl: 'https://example.invalid' }, 'authToken', /needs an auth token/],
    ['token without server', { authToken: 'secret' }, 'serverUrl', /needs the server URL/],
    ['license and server', { serverUrl: 'https://example.invalid', authToken: 't', offlineLicenseToken: 'l' }, 'offlineLicenseToken', /peer-to-peer mode/],
    ['websocket server URL', { serverUrl: 'wss://example.invalid', authToken: 't' }, 'serverUrl', /https:\/\/ auth URL/],
    ['server URL not a URL', { serverUrl: 'example', authToken: 't' }, 'serverUrl', /not a URL/],
    ['unknown log level', { logLevel: 'loud' as never }, 'logLevel', /one of error, warning, info, debug, verbose/],
    ['empty database id', { databaseId: '' }, 'databaseId', /database id/],
    ['blank license token', { offlineLicenseToken: '  ' }, 'offlineLicenseToken', /must not be empty/],
    ['directory under a file', { persistenceDir: '/dev/null/ditto' }, 'persistenceDir', /cannot create \/dev\/null\/ditto: ENOTDIR/],
  ])('%s', async (_name, config, field, message) => {
    const error = await openDitto({ persistenceDir: newDir(), ...config }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DittoConfigError);
    expect((error as DittoConfigError).field).toBe(field);
    expect((error as Error).message).toMatch(new RegExp(`^${field}: `));
    expect((error as Error).message).toMatch(message);
  });
});

describe('openDitto on the real SDK', () => {
  it('without a license: opens the store, applies TCP settings, warns once, does not start sync', async () => {
    const dir = newDir();
    const port = await freePort();
    const { logger, lines } = recordingLogger();
    const { ditto, syncStarted } = await openDitto(
      {
        persistenceDir: relative(process.cwd(), dir), // relative paths resolve against the working directory
        tcpListen: `127.0.0.1:${port}`,
        tcpConnect: ['127.0.0.1:4041', '[::1]:4042'],
        peerToPeer: false,
        logLevel: 'error',
      },
      logger,
    );
    try {
      expect(syncStarted).toBe(false);
      expect(ditto.sync.isActive).toBe(false);
      expect(ditto.absolutePersistenceDirectory).toBe(dir);
      expect(lines.filter((l) => l.level === 'warn')).toEqual([{ level: 'warn', message: SYNC_NOT_ACTIVATED_MESSAGE }]);
      expect(SYNC_NOT_ACTIVATED_MESSAGE).toMatch(/--offline-license-token.*DITTO_EXPORTER_OFFLINE_LICENSE_TOKEN.*--server-url.*--auth-token/);
      expect(DittoLogger.minimumLogLevel).toBe('Error');

      const transports = ditto.transportConfig;
      expect(transports.listen.tcp).toMatchObject({ isEnabled: true, interfaceIP: '127.0.0.1', port });
      expect([...transports.connect.tcpServers].sort()).toEqual(['127.0.0.1:4041', '[::1]:4042']);
      expect(transports.peerToPeer.lan.isEnabled).toBe(false);
      expect(transports.peerToPeer.bluetoothLE.isEnabled).toBe(false);

      const rows = await ditto.store.execute('SELECT * FROM system:data_sync_info');
      expect(rows.items).toHaveLength(0);
    } finally {
      await ditto.close();
      DittoLogger.minimumLogLevel = 'Warning';
    }
  });

  it('tcpListen :PORT listens on every interface', async () => {
    const port = await freePort();
    const { ditto } = await openDitto({ persistenceDir: newDir(), tcpListen: `:${port}`, peerToPeer: false });
    try {
      expect(ditto.transportConfig.listen.tcp).toMatchObject({ isEnabled: true, interfaceIP: '[::]', port });
    } finally {
      await ditto.close();
    }
  });

  it('a license token Ditto rejects is a config error, and the store lock is released', async () => {
    const dir = newDir();
    const error = await openDitto({ persistenceDir: dir, offlineLicenseToken: 'not-a-license' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DittoConfigError);
    expect((error as Error).message).toMatch(/^offlineLicenseToken: Ditto rejected the offline license token: /);
    const reopened = await openTempDitto({ dir });
    await reopened.ditto.close();
  });

  it('server mode sets the expiration handler, starts sync and logs in with the development provider by default', async () => {
    const port = await freePort(); // nothing listens there: the login fails fast, on loopback only
    const { logger, lines } = recordingLogger();
    const { ditto, syncStarted } = await openDitto(
      { persistenceDir: newDir(), serverUrl: `http://127.0.0.1:${port}`, authToken: 'dev-token', peerToPeer: false, logLevel: 'error' },
      logger,
    );
    try {
      expect(syncStarted).toBe(true);
      expect(ditto.sync.isActive).toBe(true);
      expect(ditto.auth.expirationHandler).toBeTypeOf('function');
      expect(lines.some((l) => l.level === 'warn' && l.message === SYNC_NOT_ACTIVATED_MESSAGE)).toBe(false);
      await vi.waitFor(
        () => expect(lines).toContainEqual({ level: 'error', message: `Ditto server login failed (provider ${Authenticator.DEVELOPMENT_PROVIDER})` }),
        { timeout: 10_000 },
      );
    } finally {
      await ditto.close();
      DittoLogger.minimumLogLevel = 'Warning';
    }
  });

  it('the store directory in use is reported with the directory named', async () => {
    const held = await openTempDitto();
    try {
      await expect(openDitto({ persistenceDir: held.dir })).rejects.toThrow(new RegExp(`could not open the Ditto store in ${held.dir}: .*lock`, 'i'));
    } finally {
      await held.dispose();
    }
  });
});
