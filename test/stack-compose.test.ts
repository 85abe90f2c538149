import { existsSync, readdirSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAMILIES, sampleNames, type FamilyArea } from '../src/catalogue/index.js';
import { FLAGS } from '../src/config.js';
import { DEFAULT_PORT } from '../src/server.js';
import { SOURCE_KINDS, type SourceKind } from '../src/sources/source.js';
import { EXPORTER_PORT, EXPORTER_SERVICE, GRAFANA, JOB } from '../scripts/stack/config.js';
import { DASHBOARD_FILES, RULE_FILES } from '../scripts/stack/generate.js';
import { haveBinary, run } from './helpers/tools.js';
import { panelQueries } from './stack/dashboard-queries.js';
import { loadDashboards, readText, readYaml, repoPath } from './stack/files.js';
import { selectors } from './stack/promql-selectors.js';
import { api, startPrometheus, tempDir, waitFor, writeYaml, type Started } from './stack/processes.js';

interface Service {
  build?: unknown;
  image?: string;
  profiles?: string[];
  command?: string[];
  environment?: string[];
  ports?: string[];
  volumes?: string[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = readYaml<Compose>('docker-compose.yml');
const services = compose.services;

interface Mount {
  readonly source: string;
  readonly target: string;
  readonly bind: boolean;
}
const mounts = (service: string): Mount[] =>
  (services[service]?.volumes ?? []).map((v) => {
    const [source, target] = v.split(':') as [string, string];
    return { source, target, bind: source.startsWith('.') || source.startsWith('/') };
  });
const flag = (service: string, name: string): string | undefined =>
  services[service]?.command?.find((c) => c.startsWith(`--${name}=`))?.slice(name.length + 3);
const env = (service: string, name: string): string | undefined =>
  services[service]?.environment?.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
/** Container port of a "host:port:container" or "port:container" mapping. */
const containerPorts = (service: string): number[] => (services[service]?.ports ?? []).map((p) => Number(p.split(':').at(-1)));
const portOf = (listen: string | undefined): number => Number(listen?.split(':').at(-1));

/** The repository path a container path comes from, through the service's bind mounts. */
function hostPath(service: string, containerPath: string): string | undefined {
  for (const m of mounts(service)) {
    if (!m.bind) continue;
    if (containerPath === m.target) return posix.normalize(m.source);
    if (containerPath.startsWith(`${m.target}/`)) return posix.join(m.source, containerPath.slice(m.target.length + 1));
  }
  return undefined;
}

/** The fleet exporter: only with `docker compose --profile fleet`, as it needs a real Ditto Server. */
const FLEET_SERVICE = 'fleet-exporter';
const FLEET_PROFILE = 'fleet';

/** What `${NAME:-default}` and plain values in a compose environment entry resolve to when the host sets nothing. */
const resolved = (value: string | undefined): string | undefined => value?.replace(/^\$\{[A-Z_]+:-([^}]*)\}$/, '$1');
/** The source a service running our image uses when the host sets nothing. */
const sourceOf = (service: string): SourceKind => {
  const value = resolved(env(service, 'DITTO_EXPORTER_SOURCE')) ?? String(FLAGS.find((f) => f.env === 'DITTO_EXPORTER_SOURCE')!.default);
  expect(SOURCE_KINDS).toContain(value);
  return value as SourceKind;
};
/** Services that run the exporter image built from the Dockerfile. */
const exporterServices = () => Object.keys(services).filter((name) => services[name]!.build === '.');

interface ScrapeJob {
  job_name: string;
  static_configs?: { targets: string[] }[];
  dns_sd_configs?: { names: string[]; type: string; port: number }[];
  relabel_configs?: Record<string, unknown>[];
}
const prometheusConfig = () =>
  readYaml<{ rule_files: string[]; scrape_configs: ScrapeJob[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } }>('prometheus/prometheus.yml');

/** Every line of the Dockerfile's final stage that starts with `instruction`. */
const finalStage = (instruction: string): string[] => {
  const stages = readText('Dockerfile').split(/^FROM /m);
  return stages.at(-1)!.replace(/\\\n/g, ' ').split('\n').filter((l) => l.startsWith(`${instruction} `)).map((l) => l.slice(instruction.length + 1).trim());
};

describe('docker-compose.yml wiring', () => {
  it('runs the exporter, Prometheus, Alertmanager and Grafana, and the fleet exporter only in its profile', () => {
    const always = Object.keys(services).filter((name) => !services[name]!.profiles);
    expect(always.sort()).toEqual(['alertmanager', EXPORTER_SERVICE, 'grafana', 'prometheus'].sort());
    expect(services[EXPORTER_SERVICE]!.build, 'the exporter image is built from the Dockerfile').toBe('.');
    expect(services[FLEET_SERVICE]?.profiles).toEqual([FLEET_PROFILE]);
    expect(exporterServices().sort()).toEqual([EXPORTER_SERVICE, FLEET_SERVICE].sort());
    for (const name of exporterServices()) expect(services[name]!.image, `${name} runs the same image`).toBe(services[EXPORTER_SERVICE]!.image);
  });

  it('gives each exporter service only variables its default source uses (any other would warn at start), and the image only variables every source uses', () => {
    for (const name of exporterServices()) {
      const source = sourceOf(name);
      for (const entry of services[name]!.environment ?? []) {
        if (!entry.includes('=')) continue; // passed through only when the host sets it
        const variable = entry.slice(0, entry.indexOf('='));
        const spec = FLAGS.find((f) => f.env === variable);
        if (!spec) continue; // not an exporter setting
        expect(spec.sources ?? SOURCE_KINDS, `${name}: ${variable} is not used with --source ${source}`).toContain(source);
      }
    }
    const imageEnv = finalStage('ENV').flatMap((l) => l.split(/\s+/)).map((kv) => kv.split('=')[0]!);
    expect(imageEnv.length).toBeGreaterThan(0);
    for (const variable of imageEnv) {
      const spec = FLAGS.find((f) => f.env === variable);
      if (spec) expect(spec.sources, `the image sets ${variable}, which only some sources use`).toBeUndefined();
    }
  });

  it('keeps the Ditto store of --source ditto in the image\'s volume, and compose mounts a named volume there', () => {
    const workdir = finalStage('WORKDIR').at(-1)!;
    const store = posix.join(workdir, String(FLAGS.find((f) => f.env === 'DITTO_EXPORTER_PERSISTENCE_DIR')!.default));
    const [volume] = finalStage('VOLUME');
    expect(volume, 'the final stage declares one VOLUME').toBeDefined();
    expect(store.startsWith(`${volume}/`), `${store} is not in the volume ${volume}`).toBe(true);
    expect(finalStage('RUN').some((r) => r.includes(`mkdir -p ${volume}`) && r.includes(`chown node:node ${volume}`)), `${volume} must exist and belong to the node user`).toBe(true);
    const mount = mounts(EXPORTER_SERVICE).find((m) => m.target === volume);
    expect(mount, `${EXPORTER_SERVICE} mounts nothing at ${volume}`).toBeDefined();
    expect(mount!.bind, 'a named volume, so the store outlives the container').toBe(false);
    expect(env(EXPORTER_SERVICE, 'DITTO_EXPORTER_PERSISTENCE_DIR'), 'no variable needed: the default lands in the volume').toBeUndefined();
  });

  it('mounts only paths that exist in the repository, and declares its named volumes', () => {
    for (const name of Object.keys(services)) {
      for (const m of mounts(name)) {
        if (m.bind) expect(existsSync(repoPath(m.source)), `${name}: ${m.source} does not exist`).toBe(true);
        else expect(compose.volumes, `${name}: volume ${m.source} is not declared`).toHaveProperty(m.source);
      }
    }
  });

  it('runs the simulated mesh by default on the port Prometheus scrapes', () => {
    expect(env(EXPORTER_SERVICE, 'DITTO_EXPORTER_SOURCE')).toBe('${DITTO_EXPORTER_SOURCE:-simulate}');
    expect(portOf(env(EXPORTER_SERVICE, 'DITTO_EXPORTER_LISTEN'))).toBe(EXPORTER_PORT);
    expect(EXPORTER_PORT).toBe(DEFAULT_PORT);
    expect(containerPorts(EXPORTER_SERVICE)).toContain(EXPORTER_PORT);
  });

  it('passes the real-peer settings through unset unless the host sets them', () => {
    // "NAME" alone: compose leaves it unset when the host has none, so the CLI keeps its defaults.
    for (const name of ['DITTO_EXPORTER_DATABASE_ID', 'DITTO_EXPORTER_OFFLINE_LICENSE_TOKEN', 'DITTO_EXPORTER_SERVER_URL', 'DITTO_EXPORTER_AUTH_TOKEN']) {
      expect(services[EXPORTER_SERVICE]!.environment).toContain(name);
    }
  });

  it('gives Prometheus the config and every rule file through its mounts', () => {
    const configPath = flag('prometheus', 'config.file')!;
    expect(hostPath('prometheus', configPath)).toBe('prometheus/prometheus.yml');
    const config = readYaml<{ rule_files: string[]; scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } }>('prometheus/prometheus.yml');
    const loaded: string[] = [];
    for (const glob of config.rule_files) {
      const inContainer = posix.join(posix.dirname(configPath), glob);
      const host = hostPath('prometheus', posix.dirname(inContainer));
      expect(host, `${glob} is not under a mounted directory`).toBeDefined();
      const pattern = new RegExp(`^${posix.basename(inContainer).replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`);
      loaded.push(...readdirSync(repoPath(host!)).filter((f) => pattern.test(f)).map((f) => posix.join(host!, f)));
    }
    expect(loaded.sort()).toEqual(Object.values(RULE_FILES).sort());
  });

  it('scrapes the exporter service, and the fleet exporter by name, under the job the rules select, and alerts to the Alertmanager service', () => {
    const config = prometheusConfig();
    const job = config.scrape_configs.find((s) => s.job_name === JOB);
    expect(job, `no scrape job ${JOB}`).toBeDefined();
    expect(job!.static_configs!.flatMap((s) => s.targets)).toEqual([`${EXPORTER_SERVICE}:${portOf(env(EXPORTER_SERVICE, 'DITTO_EXPORTER_LISTEN'))}`]);
    // Not a static target: while the profile is off the name does not resolve and the job has no target for it.
    expect(job!.dns_sd_configs).toEqual([{ names: [FLEET_SERVICE], type: 'A', port: portOf(env(FLEET_SERVICE, 'DITTO_EXPORTER_LISTEN')), refresh_interval: '30s' }]);
    const am = config.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets));
    expect(am).toEqual([`alertmanager:${portOf(flag('alertmanager', 'web.listen-address'))}`]);
    expect(containerPorts('alertmanager')).toContain(portOf(flag('alertmanager', 'web.listen-address')));
    expect(containerPorts('prometheus')).toContain(portOf(flag('prometheus', 'web.listen-address')));
  });

  it('gives Alertmanager its config through its mount', () => {
    expect(hostPath('alertmanager', flag('alertmanager', 'config.file')!)).toBe('prometheus/alertmanager.yml');
  });

  it('provisions Grafana with the Prometheus service and the committed dashboards', () => {
    expect(hostPath('grafana', '/etc/grafana/provisioning')).toBe('grafana/provisioning');
    const ds = readYaml<{ datasources: { uid: string; type: string; url: string; isDefault?: boolean }[] }>('grafana/provisioning/datasources/prometheus.yml');
    expect(ds.datasources).toHaveLength(1);
    const [source] = ds.datasources;
    expect(source!.type).toBe('prometheus');
    expect(source!.uid).toBe(GRAFANA.datasourceUid);
    expect(source!.url).toBe(`http://prometheus:${portOf(flag('prometheus', 'web.listen-address'))}`);

    const providers = readYaml<{ providers: { type: string; folder: string; options: { path: string } }[] }>('grafana/provisioning/dashboards/ditto-sync.yml').providers;
    expect(providers).toHaveLength(1);
    expect(providers[0]!.type).toBe('file');
    expect(providers[0]!.folder).toBe(GRAFANA.folder);
    const dashboardsDir = hostPath('grafana', providers[0]!.options.path);
    expect(dashboardsDir).toBe('grafana/dashboards');
    const shipped = readdirSync(repoPath(dashboardsDir!)).filter((f) => f.endsWith('.json'));
    expect(shipped.map((f) => `${dashboardsDir}/${f}`).sort()).toEqual(Object.values(DASHBOARD_FILES).sort());

    const home = env('grafana', 'GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH');
    expect(hostPath('grafana', home!)).toBe(DASHBOARD_FILES.overview);
  });

  it('scrapes a service for every dashboard: the sync and device families from the exporter, the fleet families from the fleet exporter', () => {
    // Which source serves an area is what the live tests show: test/stack-live.test.ts fills every
    // Overview, Peers and Device panel from the simulate source, test/fleet-stack.test.ts every Fleet
    // panel from the fleet source.
    const SERVED_BY: Partial<Record<FamilyArea, readonly SourceKind[]>> = { sync: ['simulate', 'ditto'], device: ['simulate', 'ditto'], fleet: ['fleet'] };
    const areaOf = new Map(FAMILIES.flatMap((def) => sampleNames(def).map((n) => [n, def.area] as const)));
    const scraped = [EXPORTER_SERVICE, FLEET_SERVICE];
    for (const d of loadDashboards()) {
      const areas = new Set(panelQueries([d]).flatMap((q) => selectors(q.expr).flatMap((sel) => (sel.metric && areaOf.has(sel.metric) ? [areaOf.get(sel.metric)!] : []))));
      const needed = [...areas].filter((a) => SERVED_BY[a]);
      expect(needed.length, `${d.file} reads none of the sync, device or fleet families`).toBeGreaterThan(0);
      for (const area of needed) {
        const by = scraped.filter((name) => SERVED_BY[area]!.includes(sourceOf(name)));
        expect(by, `${d.file}: nothing in the stack serves the ${area} families`).not.toEqual([]);
      }
    }
  });

  it('builds an exporter image that serves the same port with the CLI as entrypoint', () => {
    const dockerfile = readText('Dockerfile');
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${EXPORTER_PORT}$`, 'm'));
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "dist\/cli\.js"\]$/m);
    // Every path the build copies from the context exists and is not excluded by .dockerignore.
    const ignored = readText('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const source of m[1]!.split(/\s+/)) {
        expect(existsSync(repoPath(source)), `COPY ${source}`).toBe(true);
        expect(ignored, `.dockerignore excludes ${source}`).not.toContain(source);
      }
    }
    for (const heavy of ['node_modules', 'dist', 'data', '.git']) expect(ignored).toContain(heavy);
  });
});

const prometheusInstalled = haveBinary('prometheus');
const promtool = haveBinary('promtool');

describe.skipIf(!promtool)('prometheus.yml names the fleet exporter as the exporter is named', () => {
  it('relabels a target found by name to <name>:<port>, and leaves the static target alone', () => {
    // The job's own relabelling, with targets as DNS discovery would give them (an IP, and the name
    // queried in __meta_dns_name); promtool applies it. (Discovery by DNS itself cannot run here.)
    const job = prometheusConfig().scrape_configs.find((s) => s.job_name === JOB)!;
    const port = job.dns_sd_configs![0]!.port;
    const dir = tempDir('sd');
    try {
      const file = writeYaml(dir, 'prometheus.yml', {
        scrape_configs: [
          {
            job_name: JOB,
            static_configs: [...job.static_configs!, { targets: [`172.18.0.5:${port}`], labels: { __meta_dns_name: FLEET_SERVICE } }],
            relabel_configs: job.relabel_configs,
          },
        ],
      });
      // promtool waits out --timeout even when every target is static (they are there at once).
      const r = run('promtool', ['check', 'service-discovery', '--timeout=1s', file, JOB]);
      expect(r.status, r.stderr).toBe(0);
      const targets = JSON.parse(r.stdout) as { labels: Record<string, string> }[];
      // promtool lists the targets in no fixed order.
      expect(targets.map((t) => [t.labels['__address__'], t.labels['instance']]).sort()).toEqual(
        [
          [`${EXPORTER_SERVICE}:${EXPORTER_PORT}`, `${EXPORTER_SERVICE}:${EXPORTER_PORT}`],
          [`172.18.0.5:${port}`, `${FLEET_SERVICE}:${port}`],
        ].sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!prometheusInstalled)('prometheus.yml without the fleet profile', () => {
  let prometheus: Started | undefined;

  beforeAll(async () => {
    // The committed scrape job as it is (no rules, no Alertmanager): here, as in the stack without
    // its fleet profile, the name fleet-exporter does not resolve.
    prometheus = await startPrometheus({ global: { scrape_interval: '1s' }, scrape_configs: prometheusConfig().scrape_configs.filter((s) => s.job_name === JOB) });
  }, 30_000);

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('has no target for the fleet exporter that is not running (so DittoSyncExporterDown has nothing to report)', async () => {
    interface Target { labels: Record<string, string>; lastScrape: string }
    // Wait until the static target was scraped once (so discovery has run), then look at every target.
    const targets = await waitFor(async () => {
      const t = (await api<{ activeTargets: Target[] }>(prometheus!.base, '/api/v1/targets')).activeTargets;
      return t.some((x) => !x.lastScrape.startsWith('0001')) ? t : undefined;
    }, 20_000, 250);
    expect(targets.map((t) => t.labels['instance'])).toEqual([`${EXPORTER_SERVICE}:${EXPORTER_PORT}`]);
  });
});
