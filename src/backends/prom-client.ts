import type { Request, Response } from 'express';
import type { Registry } from 'prom-client';
import type { FamilyDef } from '../catalogue.js';
import { familyEmitters, type FamilyEmitter, type SampleSink, type ScrapeView } from '../collectors/families.js';
import { CONTENT_TYPES, negotiateFormat, type ExpositionFormat } from '../exposition/format.js';
import type { LabelSet } from '../exposition/labels.js';
import { registryText } from '../exposition/registry-text.js';
import { renderFamilies } from '../exposition/render.js';
import { sendExposition } from '../exposition/send.js';
import type { MetricsBackend } from './backend.js';

const OWN = Symbol('ditto-sync-exporter family');

interface BridgeValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** Collects one family's samples in prom-client's shape. */
class ValuesSink implements SampleSink {
  readonly values: BridgeValue[] = [];
  sample(_def: FamilyDef, name: string, labels: LabelSet, value: number | bigint, extra?: LabelSet): void {
    this.values.push({
      value: Number(value),
      labels: extra ? { ...labels.pairs, ...extra.pairs } : { ...labels.pairs },
      ...(name === _def.name ? {} : { metricName: name }),
    });
  }
}

/**
 * One prom-client metric per family, read from the current view at collect time, so a user's own
 * `registry.metrics()` includes the exporter's families. The exporter's /metrics writes them
 * directly instead (same values, much faster at high peer counts).
 */
function bridgeMetric(family: FamilyEmitter, view: () => ScrapeView) {
  const def = family.def;
  let name = def.name;
  return {
    [OWN]: true,
    get name() {
      return name;
    },
    // prom-client renames counters for OpenMetrics registries; accept it as its own counters do.
    set name(value: string) {
      name = value;
    },
    help: def.help,
    type: def.type,
    aggregator: 'sum' as const,
    labelNames: def.labels,
    reset() {},
    async get() {
      const v = view();
      const sink = new ValuesSink();
      if (family.perPeer) for (const peer of v.snapshot?.peers ?? []) family.emitPeer(v, peer, sink);
      else family.emit(v, sink);
      return { name, help: def.help, type: def.type, aggregator: 'sum', values: sink.values };
    },
  };
}

const isOwn = (metric: unknown): boolean => typeof metric === 'object' && metric !== null && OWN in metric;

export class PromClientBackend implements MetricsBackend {
  readonly name = 'prom-client' as const;
  private readonly registered: string[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly view: () => ScrapeView,
  ) {
    for (const family of familyEmitters()) {
      const metric = bridgeMetric(family, view);
      registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
      this.registered.push(family.def.name);
    }
  }

  async render(format: ExpositionFormat): Promise<{ contentType: string; body: string }> {
    const own = await renderFamilies(this.view(), format);
    const others = await registryText(this.registry, format, isOwn);
    const body = own + others + (format === 'openmetrics' ? '# EOF\n' : '');
    return { contentType: CONTENT_TYPES[format], body };
  }

  async handle(req: Request, res: Response): Promise<void> {
    const { contentType, body } = await this.render(negotiateFormat(req.get('accept')));
    await sendExposition(req, res, contentType, body);
  }

  async close(): Promise<void> {
    for (const name of this.registered.splice(0)) this.registry.removeSingleMetric(name);
  }
}
