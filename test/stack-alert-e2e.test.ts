/**
 * End to end: the simulated mesh loses its cloud, and DittoCloudSyncGapGrowing travels
 * exporter → Prometheus → Alertmanager (our routing and inhibition config) → a webhook in this test.
 * The rules are a temporary copy built with short windows and `for: 0s`; the `for` timing itself is
 * what the promtool tests cover.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, JOB, type StackConfig } from '../scripts/stack/config.js';
import { rulesYaml } from '../scripts/stack/generate.js';
import { alertRules, runbookAnchor } from '../scripts/stack/rules/index.js';
import { startCli, type RunningCli } from './helpers/cli.js';
import { haveBinary } from './helpers/tools.js';
import { readYaml } from './stack/files.js';
import { onPath, startAlertmanager, startPrometheus, tempDir, waitFor, type Started } from './stack/processes.js';

// Upstream names the binary alertmanager; Debian's package (what CI installs) prometheus-alertmanager.
const alertmanagerBinary = onPath('alertmanager') ? 'alertmanager' : haveBinary('prometheus-alertmanager') ? 'prometheus-alertmanager' : undefined;
const prometheusInstalled = haveBinary('prometheus');

/** Seconds instead of minutes for the gap alert; the other alerts keep their `for` so they stay out of the way. */
const FAST: StackConfig = {
  ...DEFAULT_CONFIG,
  gaugeWindow: 5,
  cloudGap: { unackedAge: 3, cloudSilence: 3, cloudRowsWindow: 10, for: 0 },
};

interface WebhookAlert {
  status: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface WebhookPayload {
  receiver: string;
  status: string;
  alerts: WebhookAlert[];
}

/** Our alertmanager.yml with every receiver pointed at `url` and group timings cut to a second. */
function alertmanagerConfig(url: string): Record<string, unknown> {
  const config = readYaml<{ route: Record<string, unknown>; receivers: { name: string }[] }>('prometheus/alertmanager.yml');
  return {
    ...config,
    route: { ...config.route, group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
    receivers: config.receivers.map((r) => ({ name: r.name, webhook_configs: [{ url, send_resolved: false }] })),
  };
}

describe.skipIf(!alertmanagerBinary || !prometheusInstalled)('DittoCloudSyncGapGrowing end to end', () => {
  let exporter: RunningCli | undefined;
  let prometheus: Started | undefined;
  let alertmanager: Started | undefined;
  let webhook: Server | undefined;
  let rulesDir: string | undefined;
  const received: WebhookPayload[] = [];

  beforeAll(async () => {
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        try {
          received.push(JSON.parse(body) as WebhookPayload);
        } catch {
          // A malformed notification would show up as "never received" below.
        }
        res.end();
      });
    });
    await new Promise<void>((resolve) => webhook!.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/alerts`;

    alertmanager = await startAlertmanager(alertmanagerBinary!, alertmanagerConfig(hookUrl));
    // The cloud goes away 3 s after start and stays away for the whole test.
    exporter = await startCli(['--source', 'simulate', '--simulate-outage-after', '3', '--simulate-outage-duration', '600', '--log-level', 'warn']);
    rulesDir = tempDir('rules');
    const rules = join(rulesDir, 'ditto-sync-alerts.yml');
    writeFileSync(rules, rulesYaml(alertRules(FAST)));
    prometheus = await startPrometheus({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: [rules],
      alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager.base.replace('http://', '')] }] }] },
      scrape_configs: [{ job_name: JOB, static_configs: [{ targets: [`127.0.0.1:${exporter.port}`] }] }],
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await alertmanager?.stop();
    await exporter?.stop();
    await new Promise<void>((resolve) => (webhook ? webhook.close(() => resolve()) : resolve()));
    if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  });

  it('reaches the webhook through Alertmanager with its labels and expanded annotations', async () => {
    const instance = `127.0.0.1:${exporter!.port}`;
    const find = () => {
      for (const payload of received) {
        const alert = payload.alerts.find((a) => a.labels['alertname'] === 'DittoCloudSyncGapGrowing' && a.status === 'firing');
        if (alert) return { payload, alert };
      }
      return undefined;
    };
    let found: ReturnType<typeof find>;
    try {
      found = await waitFor(find, 45_000, 250);
    } catch (error) {
      throw new Error(
        `no DittoCloudSyncGapGrowing notification: ${String(error)}\nreceived: ${JSON.stringify(received)}\n` +
          `prometheus: ${prometheus?.output()}\nalertmanager: ${alertmanager?.output()}`,
      );
    }
    const { payload, alert } = found;
    // Our routing sends critical alerts to the `page` receiver.
    expect(payload.receiver).toBe('page');
    expect(alert.labels).toEqual({ alertname: 'DittoCloudSyncGapGrowing', severity: 'critical', job: JOB, instance });
    expect(alert.annotations['summary']).toBe(`Local writes on ${instance} are not reaching the Ditto cloud.`);
    expect(alert.annotations['description']).toMatch(new RegExp(`^For at least \\d+(\\.\\d+)?s, local writes on ${instance.replace(/\./g, '\\.')} \\(job ${JOB}\\) have not reached any cloud server`));
    expect(alert.annotations['runbook_url']).toBe(`${DEFAULT_CONFIG.runbookUrl}#${runbookAnchor('DittoCloudSyncGapGrowing')}`);
  }, 60_000);
});
