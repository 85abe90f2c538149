import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRANSPORTS } from '../src/catalogue/device.js';
import { labelText, MAX_DEVICE_NAME_LENGTH } from '../src/collectors/label-text.js';
import { buildPresence, type PresenceSnapshot } from '../src/collectors/presence.js';
import { transportOf } from '../src/collectors/transports.js';
import { labelSet } from '../src/exposition/labels.js';

const T = 1_700_000_000;
const LOCAL = 'pkLocal';

/** A connection as the SDK reports it: deterministic id per pair and transport. */
const conn = (a: string, b: string, type: string) => {
  const [peer1, peer2] = a < b ? [a, b] : [b, a];
  return { id: `${peer1}<->${peer2}:${type}`, connectionType: type, peer1, peer2 };
};
const peer = (peerKey: string, extra: Record<string, unknown> = {}) => ({ peerKey, deviceName: `${peerKey} name`, os: 'iOS', dittoSdkVersion: '5.1.0', connections: [], ...extra });
const graph = (local: Record<string, unknown>, remotePeers: unknown[]) => ({ localPeer: { peerKey: LOCAL, deviceName: 'ditto', os: 'Linux', connections: [], ...local }, remotePeers });

function snapshot(g: unknown): PresenceSnapshot {
  const result = buildPresence(g, T);
  if (!result.ok) throw new Error(result.reason);
  return result.snapshot;
}

const noConnections = Object.fromEntries(TRANSPORTS.map((t) => [t, 0]));

describe('buildPresence', () => {
  it('reads the graph the real SDK gives a lone peer: no remote peers, no connections', () => {
    // Measured on 5.1.0 (DITTO_NOTES): localPeer {deviceName "ditto", os "Linux", connections []}, remotePeers [].
    const s = snapshot({ localPeer: { deviceName: 'ditto', os: 'Linux', isCompatible: true, dittoSdkVersion: '5.1.0', connections: [], peerMetadata: {}, identityServiceMetadata: {}, peerKey: 'pkAocCgkMDP679', isConnectedToDittoServer: false }, remotePeers: [] });
    expect(s.remotePeers).toBe(0);
    expect(s.connections).toEqual(noConnections);
    expect(s.localPeerKey).toBe('pkAocCgkMDP679');
    expect([...s.unusable]).toEqual([['peer', 0], ['connection', 0]]);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('counts a connection both ends report once', () => {
    const c = conn(LOCAL, 'pkA', 'WebSocket');
    const s = snapshot(graph({ connections: [c] }, [peer('pkA', { connections: [{ ...c }] })]));
    expect(s.connections.web_socket).toBe(1);
    expect(Object.values(s.connections).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('counts a connection only the remote end reports, and two transports to one peer as two connections', () => {
    const s = snapshot(graph({}, [peer('pkA', { connections: [conn(LOCAL, 'pkA', 'Bluetooth'), conn(LOCAL, 'pkA', 'AccessPoint')] })]));
    expect(s.connections).toEqual({ ...noConnections, bluetooth: 1, access_point: 1 });
  });

  it('counts peers reached over several hops, but not their connections', () => {
    const hop = conn('pkA', 'pkRelay', 'Bluetooth');
    const direct = conn(LOCAL, 'pkA', 'P2PWiFi');
    const s = snapshot(graph({ connections: [direct] }, [peer('pkA', { connections: [direct, hop] }), peer('pkRelay', { connections: [hop] })]));
    expect(s.remotePeers).toBe(2);
    expect(s.connections).toEqual({ ...noConnections, p2p_wifi: 1 });
    expect([...s.peers.keys()]).toEqual(['pkA', 'pkRelay']);
  });

  it.each([
    ['Bluetooth', 'bluetooth'],
    ['AccessPoint', 'access_point'],
    ['P2PWiFi', 'p2p_wifi'],
    ['WebSocket', 'web_socket'],
    ['Multicast', 'multicast'],
    ['LoRa', 'other'],
    ['bluetooth', 'other'],
    ['constructor', 'other'],
  ])('maps transport %s to %s', (sdk, label) => {
    expect(transportOf(sdk)).toBe(label);
  });

  it('describes each remote peer by key, with bounded and sanitised label values', () => {
    const long = 'x'.repeat(500);
    const s = snapshot(graph({}, [peer('pkA', { deviceName: 'Zoë\'s "iPad"\n', os: 'iOS' }), peer('pkB', { deviceName: long, os: undefined, dittoSdkVersion: 42 })]));
    expect(s.peers.get('pkA')).toEqual({ deviceName: 'Zoë\'s "iPad"\uFFFD', os: 'iOS', sdkVersion: '5.1.0' });
    const b = s.peers.get('pkB')!;
    expect(b.deviceName).toHaveLength(MAX_DEVICE_NAME_LENGTH);
    expect(b.deviceName.endsWith('…')).toBe(true);
    expect([b.os, b.sdkVersion]).toEqual(['', '']);
  });

  it('leaves out and counts bad entries, and keeps the rest', () => {
    const good = conn(LOCAL, 'pkA', 'Bluetooth');
    const s = snapshot(
      graph({ connections: [good, { id: 'x', connectionType: 'Bluetooth', peer1: LOCAL }, null, { id: '', connectionType: 'WebSocket', peer1: LOCAL, peer2: 'pkA' }] }, [
        peer('pkA', { connections: 'not a list' }),
        'not a peer',
        peer('', {}),
        peer('\uD800bad', {}),
        { deviceName: 'no key' },
        peer('pkA', { deviceName: 'duplicate' }),
        peer(LOCAL, { deviceName: 'the local peer again' }),
      ]),
    );
    expect(s.remotePeers).toBe(1);
    expect(s.peers.get('pkA')?.deviceName).toBe('pkA name');
    expect(s.connections).toEqual({ ...noConnections, bluetooth: 1 });
    expect(s.unusable.get('peer')).toBe(4);
    expect(s.unusable.get('connection')).toBe(4);
  });

  it.each([
    ['not an object', null],
    ['an array', []],
    ['no local peer', { remotePeers: [] }],
    ['a local peer without a key', { localPeer: { peerKey: '' }, remotePeers: [] }],
    ['no remotePeers array', { localPeer: { peerKey: LOCAL }, remotePeers: {} }],
  ])('refuses a graph with %s', (_what, g) => {
    expect(buildPresence(g, T).ok).toBe(false);
  });

  it('never throws on anything, and every count it gives is a non-negative integer', () => {
    const anyValue = fc.oneof(fc.anything(), fc.constantFrom(LOCAL, 'pkA', 'Bluetooth', 'Multicast', '__proto__', '\uD800', null));
    const connLike = fc.record({ id: fc.oneof(fc.string(), anyValue), connectionType: fc.oneof(fc.constantFrom('Bluetooth', 'WebSocket'), anyValue), peer1: fc.oneof(fc.constant(LOCAL), anyValue), peer2: anyValue }, { requiredKeys: [] });
    const peerLike = fc.record({ peerKey: fc.oneof(fc.string(), anyValue), deviceName: anyValue, os: anyValue, dittoSdkVersion: anyValue, connections: fc.oneof(fc.array(fc.oneof(connLike, anyValue), { maxLength: 5 }), anyValue) }, { requiredKeys: [] });
    const graphLike = fc.oneof(fc.record({ localPeer: fc.oneof(peerLike, fc.constant({ peerKey: LOCAL })), remotePeers: fc.oneof(fc.array(fc.oneof(peerLike, anyValue), { maxLength: 8 }), anyValue) }, { requiredKeys: [] }), anyValue);
    fc.assert(
      fc.property(graphLike, (g) => {
        const result = buildPresence(g, T);
        if (!result.ok) return;
        const counts = [result.snapshot.remotePeers, ...Object.values(result.snapshot.connections), ...result.snapshot.unusable.values()];
        for (const n of counts) expect(Number.isInteger(n) && n >= 0).toBe(true);
        for (const d of result.snapshot.peers.values()) {
          for (const text of [d.deviceName, d.os, d.sdkVersion]) expect(text.isWellFormed()).toBe(true);
        }
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('labelText', () => {
  it.each([
    ['plain', 'Front desk', 'Front desk'],
    ['a lone surrogate', 'a\uD800b', 'a\uFFFDb'],
    ['control characters', 'tab\there\r\n\u0085', 'tab\uFFFDhere\uFFFD\uFFFD\uFFFD'],
    ['not a string', 42, ''],
    ['undefined', undefined, ''],
  ])('%s', (_what, input, expected) => {
    expect(labelText(input, 64)).toBe(expected);
  });

  it('cuts at the cap, never inside a surrogate pair', () => {
    const emoji = '😀'.repeat(100);
    for (const cap of [10, 11, 64]) {
      const text = labelText(emoji, cap);
      expect(text.length).toBeLessThanOrEqual(cap);
      expect(text.isWellFormed()).toBe(true);
      expect(text.endsWith('…')).toBe(true);
    }
    expect(labelText('x'.repeat(64), 64)).toBe('x'.repeat(64));
  });

  it('gives distinct escaped label text for distinct kept names (no two names collapse into one series)', () => {
    const names = ['a"b', 'a\\"b', 'a\nb', 'a\\nb'];
    const texts = names.map((n) => labelSet({ device_name: labelText(n, 64) }).text);
    expect(new Set(texts).size).toBe(names.length);
  });
});
