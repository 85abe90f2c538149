import { existsSync, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '../src/server.js';
import { EXPORTER_PORT, EXPORTER_SERVICE, GRAFANA, JOB } from '../scripts/stack/config.js';
import { DASHBOARD_FILES, RULE_FILES } from '../scripts/stack/generate.js';
import { readText, readYaml, repoPath } from './stack/files.js';

interface Service {
  build?: unknown;
  image?: string;
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

describe('docker-compose.yml wiring', () => {
  it('runs the exporter, Prometheus, Alertmanager and Grafana', () => {
    expect(Object.keys(services).sort()).toEqual(['alertmanager', EXPORTER_SERVICE, 'grafana', 'prometheus'].sort());
    expect(services[EXPORTER_SERVICE]!.build, 'the exporter image is built from the Dockerfile').toBe('.');
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

  it('scrapes the exporter service under the job the rules select, and alerts to the Alertmanager service', () => {
    const config = readYaml<{ scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } }>('prometheus/prometheus.yml');
    const job = config.scrape_configs.find((s) => s.job_name === JOB);
    expect(job, `no scrape job ${JOB}`).toBeDefined();
    expect(job!.static_configs.flatMap((s) => s.targets)).toEqual([`${EXPORTER_SERVICE}:${EXPORTER_PORT}`]);
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
