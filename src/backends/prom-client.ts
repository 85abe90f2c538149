import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import type { FamilyDef } from '../catalogue/index.js';
import { EMITTERS, isDynamic, isItemFamily, type CatalogueEmitter, type ScrapeView } from '../collectors/families/index.js';
import type { HistogramData } from '../collectors/histogram.js';
import type { SampleSink } from '../collectors/samples.js';
import { CONTENT_TYPES, formatLe, type ExpositionFormat } from '../exposition/format.js';
import { labelSet, NO_LABELS, type LabelSet } from '../exposition/labels.js';
import { registryText } from '../exposition/registry-text.js';
import type { ByteWriter } from '../exposition/byte-writer.js';
import { isAscii } from '../exposition/labels.js';
import { renderFamilies, renderFamiliesInto } from '../exposition/render.js';
import type { MetricsBackend, RenderOptions, Rendered } from './backend.js';

interface BridgeValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** Collects one family's typed samples in prom-client's value shape (`le` as prom-client writes it). */
class ValuesSink implements SampleSink {
  readonly values: BridgeValue[] = [];

  value(_def: FamilyDef, labels: LabelSet, value: number | bigint, extra?: LabelSet): void {
    this.values.push({ value: Number(value), labels: extra ? { ...labels.pairs, ...extra.pairs } : { ...labels.pairs } });
  }

  histogram(def: FamilyDef, labels: LabelSet, data: HistogramData): void {
    let cumulative = 0;
    const bucket = (le: string, value: number) => this.values.push({ value, labels: { ...labels.pairs, le }, metricName: `${def.name}_bucket` });
    for (let i = 0; i < data.bounds.length; i++) bucket(formatLe(data.bounds[i]!), (cumulative += data.counts[i]!));
    bucket('+Inf', data.count);
    this.values.push({ value: data.sum, labels: { ...labels.pairs }, metricName: `${def.name}_sum` });
    this.values.push({ value: data.count, labels: { ...labels.pairs }, metricName: `${def.name}_count` });
  }
}

/**
 * Set while the backend asks the registry for everything but its own families: prom-client calls
 * every metric's get() synchronously inside getMetricsAsJSON(), so the bridges can answer cheaply
 * for exactly that call. Were a later prom-client to call them later, they would answer in full:
 * slower, never wrong (the backend drops its own families from that answer by name).
 */
let answeringProbe = false;

/** Dynamic families (Ditto's engine metrics) have no registry entry: /metrics serves them, `registry.metrics()` does not. */
const BRIDGED: readonly CatalogueEmitter[] = EMITTERS.filter((f): f is CatalogueEmitter => !isDynamic(f));

const PROBE = BRIDGED[0]!;

/**
 * One prom-client metric per family, read from the current view at collect time, so a user's own
 * `registry.metrics()` includes the exporter's families, with the registry's default labels. The
 * exporter's /metrics writes them directly instead (same samples, much faster at high peer counts).
 */
function bridgeMetric(family: CatalogueEmitter, view: () => ScrapeView) {
  const def = family.def;
  let name = def.name;
  return {
    get name() {
      return name;
    },
    // prom-client renames counters for OpenMetrics registries; accept it as its own counters do.
    set name(value: string) {
      name = value;
    },
    help: def.help,
    type: def.type === 'untyped' ? 'gauge' : def.type,
    aggregator: 'sum' as const,
    labelNames: def.labels,
    reset() {},
    async get() {
      if (answeringProbe) {
        // One labelled sample of one family tells the registry's default labels back; the rest answer nothing.
        const values = family === PROBE ? [{ value: 1, labels: {} }] : [];
        return { name, help: def.help, type: def.type, aggregator: 'sum', values };
      }
      const v = view();
      const sink = new ValuesSink();
      if (isItemFamily(family)) for (const item of family.items(v)) family.emitItem(v, item, sink);
      else family.emit(v, sink);
      return { name, help: def.help, type: def.type, aggregator: 'sum', values: sink.values };
    },
  };
}

type Collected = MetricObjectWithValues<MetricValue<string>>;

export class PromClientBackend implements MetricsBackend {
  readonly name = 'prom-client' as const;
  readonly formats = ['prometheus', 'openmetrics'] as const;
  private readonly registered: object[] = [];
  private readonly ownNames = new Set<string>();

  constructor(
    private readonly registry: Registry,
    private readonly view: () => ScrapeView,
  ) {
    for (const family of BRIDGED) {
      const metric = bridgeMetric(family, view);
      registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
      this.registered.push(metric);
      this.ownNames.add(family.def.name);
    }
  }

  async render(format: ExpositionFormat, options: RenderOptions = {}): Promise<Rendered> {
    const { others, defaults } = await this.registryPart();
    const own = await renderFamilies(this.view(), format, { constLabels: defaults, signal: options.signal });
    const body = own + registryText(others, format) + (format === 'openmetrics' ? '# EOF\n' : '');
    return { contentType: CONTENT_TYPES[format], body };
  }

  async renderInto(writer: ByteWriter, format: ExpositionFormat, options: RenderOptions = {}): Promise<string> {
    const { others, defaults } = await this.registryPart();
    await renderFamiliesInto(writer, this.view(), format, { constLabels: defaults, signal: options.signal });
    const tail = registryText(others, format) + (format === 'openmetrics' ? '# EOF\n' : '');
    writer.write(tail, isAscii(tail));
    return CONTENT_TYPES[format];
  }

  /** The registry's other metrics, with its default labels applied by prom-client itself, and those labels. */
  private async registryPart(): Promise<{ others: Collected[]; defaults: LabelSet }> {
    let pending: Promise<Collected[]>;
    answeringProbe = true;
    try {
      pending = this.registry.getMetricsAsJSON();
    } finally {
      answeringProbe = false;
    }
    const all = await pending;
    let defaults = NO_LABELS;
    const others: Collected[] = [];
    for (const metric of all) {
      if (!this.ownNames.has(metric.name) && !this.ownNames.has(`${metric.name}_total`)) others.push(metric);
      else if (metric.name === PROBE.def.name && metric.values.length === 1) defaults = labelSet(metric.values[0]!.labels as Record<string, string>);
    }
    return { others, defaults };
  }

  async close(): Promise<void> {
    for (const metric of this.registered.splice(0)) {
      // An OpenMetrics registry renames counters in place: the bridge's name is whatever it holds now.
      const name = (metric as { name: string }).name;
      if (this.registry.getSingleMetric(name) === metric) this.registry.removeSingleMetric(name);
    }
  }
}
