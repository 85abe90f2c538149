/**
 * The rules for the environment variables that start Ditto's engine exporter. What Ditto itself
 * does with each kind of value was measured on SDK 5.1.0 (docs/engine-metrics.md); these tests
 * pin the exporter's reading of them. Every case works on a copy, never on process.env.
 */
import { describe, expect, it } from 'vitest';
import {
  assertEngineExporterSafe,
  configureEngineExporter,
  enableDittoEngineMetrics,
  ENGINE_ADDRESS_VAR as ADDR,
  ENGINE_ENABLED_VAR as ENABLED,
  EngineExporterEnvError,
  engineExporterSetting,
  loopbackListener,
} from '../src/sources/engine-exporter-env.js';
import { checkAttachedEngineExporter } from '../src/sources/engine-checks.js';
import { readEngineExporterSetting } from '../src/sources/ditto-queries.js';
import { captureLogger } from './otel-support.js';

describe('loopbackListener', () => {
  it.each([
    ['"127.0.0.1:9464"', '127.0.0.1', 9464],
    [' "127.0.0.1:1" ', '127.0.0.1', 1],
    ['"127.255.0.9:65535"', '127.255.0.9', 65535],
    ['"[::1]:9464"', '[::1]', 9464],
    ['"[0:0:0:0:0:0:0:1]:9464"', '[0:0:0:0:0:0:0:1]', 9464],
  ])('reads %s as a loopback listener', (raw, host, port) => {
    expect(loopbackListener(raw)).toMatchObject({ host, port });
    expect(loopbackListener(raw)!.url.href).toMatch(/^http:\/\/(127\.|\[::1\])[^/]*\/metrics$/);
  });

  it.each([
    ['unquoted (Ditto ignores it and binds 0.0.0.0:9000)', '127.0.0.1:9464'],
    ['a JSON number (ignored the same way)', '9464'],
    ['every interface', '"0.0.0.0:9000"'],
    ['every IPv6 interface', '"[::]:9000"'],
    ['a private address', '"10.0.0.1:9000"'],
    ['a name (Ditto cannot parse one)', '"localhost:9464"'],
    ['no port', '"127.0.0.1"'],
    ['port 0 (Ditto picks one nobody can learn)', '"127.0.0.1:0"'],
    ['a port out of range', '"127.0.0.1:70000"'],
    ['an octet with a leading zero', '"127.0.0.01:9464"'],
    ['an IPv4-mapped IPv6 address', '"[::ffff:127.0.0.1]:9464"'],
    ['empty', ''],
    ['a JSON null', 'null'],
  ])('refuses %s', (_name, raw) => {
    expect(loopbackListener(raw)).toBeUndefined();
  });
});

describe('engineExporterSetting: what the next Ditto.open would do', () => {
  it.each<[string, Record<string, string>, string]>([
    ['nothing set', {}, 'off'],
    ['only an address', { [ADDR]: '"0.0.0.0:9000"' }, 'off'],
    ['enable false', { [ENABLED]: 'false', [ADDR]: '"0.0.0.0:1"' }, 'off'],
    ['enable false with blanks', { [ENABLED]: ' false ' }, 'off'],
    ['enabled on loopback', { [ENABLED]: 'true', [ADDR]: '"127.0.0.1:9464"' }, 'loopback'],
    ['enabled, no address: the default 0.0.0.0:9000', { [ENABLED]: 'true' }, 'unsafe'],
    ['enabled, an unquoted address: the default again', { [ENABLED]: 'true', [ADDR]: '127.0.0.1:9464' }, 'unsafe'],
    ['enabled on every interface', { [ENABLED]: 'true', [ADDR]: '"0.0.0.0:9464"' }, 'unsafe'],
    // Ditto 5.1.0 ignores these; a later SDK might not. Unsafe until proven otherwise.
    ['enable 1', { [ENABLED]: '1' }, 'unsafe'],
    ['enable TRUE', { [ENABLED]: 'TRUE' }, 'unsafe'],
    ['enable "true" as a JSON string', { [ENABLED]: '"true"' }, 'unsafe'],
    ['enable empty', { [ENABLED]: '' }, 'unsafe'],
  ])('%s → %s', (_name, env, kind) => {
    expect(engineExporterSetting(env).kind).toBe(kind);
  });

  it('refuses an unsafe environment with a message naming both variables and the way out', () => {
    expect(() => assertEngineExporterSafe({ [ENABLED]: 'true' })).toThrow(EngineExporterEnvError);
    expect(() => assertEngineExporterSafe({ [ENABLED]: 'true' })).toThrow(/0\.0\.0\.0:9000.*DITTO_METRICS_EXPORTER_PROMETHEUS_HTTP_LISTENER_ADDR.*--ditto-engine-metrics/);
    expect(assertEngineExporterSafe({}).kind).toBe('off');
    expect(assertEngineExporterSafe({ [ENABLED]: 'true', [ADDR]: '"[::1]:9"' }).kind).toBe('loopback');
  });
});

describe('configureEngineExporter: --ditto-engine-metrics', () => {
  it('sets both variables, the address JSON-quoted on 127.0.0.1', () => {
    const env: Record<string, string> = {};
    const listener = configureEngineExporter(env, 41234);
    expect(env).toEqual({ [ENABLED]: 'true', [ADDR]: '"127.0.0.1:41234"' });
    expect(listener).toMatchObject({ host: '127.0.0.1', port: 41234, preset: false });
    expect(listener.url.href).toBe('http://127.0.0.1:41234/metrics');
    expect(engineExporterSetting(env).kind).toBe('loopback');
  });

  it('keeps a loopback address the operator chose, and an enable of true', () => {
    const env: Record<string, string> = { [ENABLED]: 'true', [ADDR]: '"[::1]:9555"' };
    expect(configureEngineExporter(env, 41234)).toMatchObject({ host: '[::1]', port: 9555, preset: true });
    expect(env).toEqual({ [ENABLED]: 'true', [ADDR]: '"[::1]:9555"' });
  });

  it.each([
    ['enable false', { [ENABLED]: 'false' }, /contradicts/],
    ['enable of a value Ditto cannot read', { [ENABLED]: 'yes' }, /contradicts/],
    ['an unquoted address', { [ADDR]: '127.0.0.1:9464' }, /JSON-quoted loopback/],
    ['every interface', { [ADDR]: '"0.0.0.0:9000"' }, /JSON-quoted loopback/],
    ['port 0', { [ADDR]: '"127.0.0.1:0"' }, /with a port/],
  ])('refuses %s and changes nothing', (_name, given, message) => {
    const env: Record<string, string> = { ...given };
    expect(() => configureEngineExporter(env, 41234)).toThrow(message);
    expect(env).toEqual(given);
  });

  it('enableDittoEngineMetrics (library mode) picks a free port and returns the URL; refuses without touching the environment', async () => {
    const env: Record<string, string | undefined> = {};
    const { url, port } = await enableDittoEngineMetrics({ env });
    expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
    expect(env).toEqual({ [ENABLED]: 'true', [ADDR]: JSON.stringify(`127.0.0.1:${port}`) });
    expect(await enableDittoEngineMetrics({ env })).toEqual({ url, port });
    const bad: Record<string, string | undefined> = { [ADDR]: '"0.0.0.0:9000"' };
    await expect(enableDittoEngineMetrics({ env: bad })).rejects.toThrow(EngineExporterEnvError);
    expect(bad).toEqual({ [ADDR]: '"0.0.0.0:9000"' });
    expect(await enableDittoEngineMetrics({ env: {}, port: 9999 })).toEqual({ url: 'http://127.0.0.1:9999/metrics', port: 9999 });
  });
});

describe('library mode checks (logged, never thrown)', () => {
  const check = async (shown: { enabled?: boolean; address?: string } | undefined, url?: string) => {
    const logger = captureLogger();
    await checkAttachedEngineExporter({ engineExporter: async () => (shown ? { enabled: shown.enabled, address: shown.address } : undefined) }, url, logger);
    return logger.warnings.map((w) => String(w[1]));
  };

  it('warns when the app\'s Ditto serves its engine metrics beyond loopback', async () => {
    expect(await check({ enabled: true, address: '0.0.0.0:9000' })).toEqual([expect.stringContaining('beyond loopback and without authentication')]);
    expect(await check({ enabled: true, address: '127.0.0.1:9464' })).toEqual([]);
    expect(await check({ enabled: false, address: '0.0.0.0:9000' })).toEqual([]);
    expect(await check(undefined)).toEqual([]);
  });

  it('warns when engineMetrics is given but the exporter is off, or nothing listens at the URL', async () => {
    const warnings = await check({ enabled: false, address: '0.0.0.0:9000' }, 'http://127.0.0.1:1/metrics');
    expect(warnings).toEqual([expect.stringContaining('opened without its engine exporter'), expect.stringContaining('nothing listens')]);
  });

  it('reads the SHOW answers of SDK 5.1.0', () => {
    expect(readEngineExporterSetting([{ metrics_exporter_prometheus_enabled: true }, { metrics_exporter_prometheus_http_listener_addr: '127.0.0.1:9464' }])).toEqual({ enabled: true, address: '127.0.0.1:9464' });
    expect(readEngineExporterSetting([null, 'x', { other: 1 }])).toEqual({ enabled: undefined, address: undefined });
  });
});
