/**
 * A Prometheus stand-in in its own process: GET /metrics every interval for a while and report
 * latencies and whether each body was complete. Kept out of the measured process so parsing the
 * body does not count against the exporter's event loop.
 *
 * Usage: node --import tsx bench/scrape-child.ts URL SECONDS INTERVAL_MS EXPECTED_PEERS
 */
import { performance } from 'node:perf_hooks';

export interface ScrapeReport {
  scrapes: number;
  readonly latenciesMs: number[];
  bodyBytes: number;
  readonly incomplete: string[];
}

const [url, seconds, intervalMs, expectedPeers] = process.argv.slice(2);
if (!url || !seconds || !intervalMs || !expectedPeers) {
  console.error('usage: scrape-child.ts URL SECONDS INTERVAL_MS EXPECTED_PEERS');
  process.exit(2);
}

/** A body is complete when every peer has its status set and the registry's tail is there. */
function problem(status: number, body: string): string | undefined {
  if (status !== 200) return `HTTP ${status}`;
  let statusLines = 0;
  for (let i = body.indexOf('\nditto_sync_peer_status{'); i !== -1; i = body.indexOf('\nditto_sync_peer_status{', i + 1)) statusLines++;
  if (statusLines !== 4 * Number(expectedPeers)) return `${statusLines} status lines, expected ${4 * Number(expectedPeers)}`;
  if (!body.includes('\nditto_sync_exporter_build_info{')) return 'no build_info';
  if (!body.endsWith('\n')) return 'body does not end with a newline';
  return undefined;
}

const report: ScrapeReport = { scrapes: 0, latenciesMs: [], bodyBytes: 0, incomplete: [] };
const end = performance.now() + Number(seconds) * 1000;
while (performance.now() < end) {
  const start = performance.now();
  try {
    const res = await fetch(url);
    const body = await res.text();
    report.latenciesMs.push(performance.now() - start);
    report.bodyBytes = Buffer.byteLength(body);
    const p = problem(res.status, body);
    if (p) report.incomplete.push(p);
  } catch (error) {
    report.incomplete.push(String(error));
  }
  report.scrapes++;
  // Prometheus keeps its schedule; a slow scrape delays only the next one.
  const wait = Number(intervalMs) - (performance.now() - start);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
process.stdout.write(JSON.stringify(report));
