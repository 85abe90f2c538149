import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type StackConfig } from '../scripts/stack/config.js';
import { rulesYaml } from '../scripts/stack/generate.js';
import { alertRules, recordingRules } from '../scripts/stack/rules/index.js';
import { repoPath } from './stack/files.js';
import { haveBinary, run } from './helpers/tools.js';

// In CI a missing binary throws here and fails this file; locally it skips with a warning.
const promtool = haveBinary('promtool');
const amtool = haveBinary('amtool');

const ruleFiles = readdirSync(repoPath('prometheus/rules')).filter((f) => f.endsWith('.yml')).map((f) => repoPath('prometheus/rules', f));
const testFiles = readdirSync(repoPath('prometheus/tests')).filter((f) => f.endsWith('.test.yml')).map((f) => repoPath('prometheus/tests', f));

const ok = (r: { status: number; stdout: string; stderr: string }) => expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);

describe.skipIf(!promtool)('promtool', () => {
  it('check config: prometheus.yml and the rule files it loads', () => {
    const r = run('promtool', ['check', 'config', repoPath('prometheus/prometheus.yml')]);
    ok(r);
    expect(r.stdout).toMatch(new RegExp(`SUCCESS: ${ruleFiles.length} rule files found`));
  });

  it('check rules', () => ok(run('promtool', ['check', 'rules', ...ruleFiles])));

  it('test rules: every alert fires and stays silent where it should, recording rules compute the right values', () => {
    expect(testFiles.length).toBeGreaterThan(0);
    ok(run('promtool', ['test', 'rules', ...testFiles]));
  });
});

describe.skipIf(!amtool)('amtool', () => {
  it('check-config alertmanager.yml', () => {
    const r = run('amtool', ['check-config', repoPath('prometheus/alertmanager.yml')]);
    ok(r);
    expect(r.stdout).toContain('SUCCESS');
  });
});

describe.skipIf(!promtool)('promtool tests are sharp', () => {
  it.each([
    ['a later for:', { cloudGap: { ...DEFAULT_CONFIG.cloudGap, for: 360 } }],
    ['a higher gap threshold', { cloudGap: { ...DEFAULT_CONFIG.cloudGap, unackedAge: 360 } }],
    ['a shorter peer silence', { peerStale: { ...DEFAULT_CONFIG.peerStale, silence: 300 } }],
  ])('fail when the rules are built with %s', (_what, change) => {
    const dir = mkdtempSync(join(tmpdir(), 'ditto-rules-'));
    try {
      mkdirSync(join(dir, 'rules'));
      mkdirSync(join(dir, 'tests'));
      const config: StackConfig = { ...DEFAULT_CONFIG, ...change };
      writeFileSync(join(dir, 'rules/ditto-sync-alerts.yml'), rulesYaml(alertRules(config)));
      writeFileSync(join(dir, 'rules/ditto-sync-recording.yml'), rulesYaml(recordingRules(config)));
      for (const f of testFiles) copyFileSync(f, join(dir, 'tests', basename(f)));
      const r = run('promtool', ['test', 'rules', ...testFiles.map((f) => join(dir, 'tests', basename(f)))]);
      expect(r.status, r.stdout).not.toBe(0);
      expect(r.stdout + r.stderr).toContain('FAILED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
