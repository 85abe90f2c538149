/**
 * Where OTLP pushes go, from the flag or the standard OpenTelemetry variables. Kept apart from
 * otlp-push.ts so the CLI can check the setting without loading the OpenTelemetry SDK.
 */

const SIGNAL_PATH = 'v1/metrics';

function parseHttpUrl(value: string, from: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${from}: not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`${from}: OTLP/HTTP needs an http(s) URL, got ${url.protocol}`);
  return url;
}

function withSignalPath(url: URL): string {
  const base = url.href.endsWith('/') ? url.href : `${url.href}/`;
  return `${base}${SIGNAL_PATH}`;
}

/**
 * The metrics URL to push to, or undefined when none is configured:
 * 1. `explicit` (the --otlp-endpoint flag): used as is, or with `/v1/metrics` when its path is empty or `/`;
 * 2. OTEL_EXPORTER_OTLP_METRICS_ENDPOINT, used as is (the OpenTelemetry rule for signal URLs);
 * 3. OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/metrics` appended.
 * Throws a TypeError naming the setting when a URL is unusable.
 */
export function resolveOtlpEndpoint(explicit: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  if (explicit !== undefined && explicit.trim() !== '') {
    const url = parseHttpUrl(explicit.trim(), '--otlp-endpoint');
    return url.pathname === '/' ? withSignalPath(url) : url.href;
  }
  const metrics = env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']?.trim();
  if (metrics) return parseHttpUrl(metrics, 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT').href;
  const general = env['OTEL_EXPORTER_OTLP_ENDPOINT']?.trim();
  if (general) return withSignalPath(parseHttpUrl(general, 'OTEL_EXPORTER_OTLP_ENDPOINT'));
  return undefined;
}

/**
 * Whether an OTLP endpoint is set anywhere (the flag or either variable), usable or not: exactly
 * when resolveOtlpEndpoint returns a URL or throws.
 */
export function hasOtlpEndpoint(explicit: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return [explicit, env['OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'], env['OTEL_EXPORTER_OTLP_ENDPOINT']].some((v) => v !== undefined && v.trim() !== '');
}
