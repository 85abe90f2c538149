import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig, parseListen } from '../src/config.js';

afterEach(() => vi.unstubAllEnvs());

describe('parseListen', () => {
  it.each([
    [':9730', { host: '0.0.0.0', port: 9730 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['[::1]:9730', { host: '::1', port: 9730 }],
  ])('%s', (input, expected) => {
    expect(parseListen(input)).toEqual(expected);
  });

  it.each(['9730', 'host', 'host:', 'host:70000', '[::1]', 'a:b:c'])('rejects %s', (input) => {
    expect(() => parseListen(input)).toThrow(/HOST:PORT/);
  });
});

describe('parseConfig', () => {
  it('gives the documented defaults', () => {
    const c = parseConfig([]);
    expect(c.source).toBe('ditto');
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 9730 });
    expect([c.maxPeers, c.maxTrackedCommits, c.maxSnapshotAge, c.stallAfter]).toEqual([1000, 10000, 5, 30]);
    expect(c.processMetrics).toBe(true);
    expect(c.ditto).toMatchObject({ persistenceDir: './data/ditto', logLevel: 'warning', peerToPeer: true, tcpConnect: [] });
  });

  it('reads environment twins, and a flag beats its variable', () => {
    vi.stubEnv('DITTO_EXPORTER_MAX_PEERS', '50');
    vi.stubEnv('DITTO_EXPORTER_NO_PROCESS_METRICS', '1');
    vi.stubEnv('DITTO_EXPORTER_TCP_CONNECT', 'a:1, b:2');
    expect(parseConfig([]).maxPeers).toBe(50);
    expect(parseConfig(['--max-peers', '7']).maxPeers).toBe(7);
    expect(parseConfig([]).processMetrics).toBe(false);
    expect(parseConfig([]).ditto.tcpConnect).toEqual(['a:1', 'b:2']);
  });

  it('writes device names unless --no-peer-device-name or its variable says not to', () => {
    expect(parseConfig([]).peerDeviceName).toBe(true);
    expect(parseConfig(['--no-peer-device-name']).peerDeviceName).toBe(false);
    vi.stubEnv('DITTO_EXPORTER_NO_PEER_DEVICE_NAME', '1');
    expect(parseConfig([]).peerDeviceName).toBe(false);
  });

  it('collects repeated --tcp-connect flags', () => {
    expect(parseConfig(['--tcp-connect', 'a:1', '--tcp-connect', 'b:2,c:3']).ditto.tcpConnect).toEqual(['a:1', 'b:2', 'c:3']);
  });

  it.each([
    [['--server-url', 'https://x.example'], /needs --auth-token/],
    [['--auth-token', 't'], /only used with --server-url/],
    [['--replay', 'x.jsonl'], /only used with --source replay/],
  ])('refuses %j', (args, message) => {
    expect(() => parseConfig(args)).toThrow(message);
  });
});
