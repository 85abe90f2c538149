import { describe, expect, it } from 'vitest';
import { parseLabelValues, PromqlScanError, selectors } from './stack/promql-selectors.js';

const brief = (expr: string) => selectors(expr).map((s) => ({ metric: s.metric, fn: s.fn, labels: s.matchers.map((m) => `${m.label}${m.op}${m.value}`) }));

describe('PromQL selector scanner used by the dashboard and rule lints', () => {
  it.each([
    ['up', [{ metric: 'up', fn: undefined, labels: [] }]],
    ['up{job="a", instance=~"$instance"}', [{ metric: 'up', fn: undefined, labels: ['job=a', 'instance=~$instance'] }]],
    [
      'rate(x_total{job=~"$job"}[$__rate_interval])',
      [{ metric: 'x_total', fn: 'rate', labels: ['job=~$job'] }],
    ],
    [
      'histogram_quantile(0.9, sum by (job, le) (rate(h_bucket{a="1"}[5m])))',
      [{ metric: 'h_bucket', fn: 'rate', labels: ['a=1'] }],
    ],
    [
      'a > b offset 10m and ignoring (status) min_over_time(c{status="connected"}[10m]) == bool 1',
      [
        { metric: 'a', fn: undefined, labels: [] },
        { metric: 'b', fn: undefined, labels: [] },
        { metric: 'c', fn: 'min_over_time', labels: ['status=connected'] },
      ],
    ],
    [
      'label_replace(x{a!="q,}\\"r"}, "dst", "$1", "src", "(.*)") # comment with metric_name\n or on (a) group_left (b) y',
      [
        { metric: 'x', fn: 'label_replace', labels: ['a!=q,}"r'] },
        { metric: 'y', fn: undefined, labels: [] },
      ],
    ],
    ['sum(x) by (job) / on() group_left sum(y) without (peer_id)', [
      { metric: 'x', fn: 'sum', labels: [] },
      { metric: 'y', fn: 'sum', labels: [] },
    ]],
    ['time() - max_over_time(ts[5m]) > 600', [{ metric: 'ts', fn: 'max_over_time', labels: [] }]],
    ['{__name__=~"ditto_.*"} > Inf', [{ metric: undefined, fn: undefined, labels: ['__name__=~ditto_.*'] }]],
    ['3 * (s{status="connected"} == 1)\n  or\n  2 * (s{status="not_connected"} == 1)', [
      { metric: 's', fn: undefined, labels: ['status=connected'] },
      { metric: 's', fn: undefined, labels: ['status=not_connected'] },
    ]],
  ])('%s', (expr, expected) => {
    expect(brief(expr)).toEqual(expected);
  });

  it('rejects what it cannot read instead of guessing', () => {
    expect(() => selectors('up{job="a"')).toThrow(PromqlScanError);
    expect(() => selectors('up{job=a}')).toThrow(PromqlScanError);
    expect(() => selectors('rate(x[5m)')).toThrow(PromqlScanError);
  });

  it('reads Grafana label_values() variable queries', () => {
    expect(parseLabelValues('label_values(up{job=~"$job"}, instance)')).toEqual({ selector: 'up{job=~"$job"}', label: 'instance' });
    expect(parseLabelValues('label_values(job)')).toEqual({ selector: undefined, label: 'job' });
    expect(() => parseLabelValues('query_result(up)')).toThrow(PromqlScanError);
  });
});
