import { F } from '../../catalogue/index.js';
import type { EngineFamily } from '../engine.js';
import { byLabel, single, type DynamicFamilies, type FamilyEmitter } from './kit.js';

/** Ditto's own families, as read in this scrape; none while the engine part is not up. */
const engineFamilies: DynamicFamilies<EngineFamily> = {
  dynamic: true,
  items: (v) => (v.engine?.up ? (v.engine.reading?.families ?? []) : []),
  emitItem(_view, family, out) {
    for (const s of family.samples) {
      if (s.kind === 'value') out.value(family.def, s.labels, s.value);
      else out.histogram(family.def, s.labels, s.data);
    }
  },
};

/** The engine area: health of the read, then the engine's families. All absent unless engine metrics are configured. */
export const ENGINE_EMITTERS: readonly FamilyEmitter[] = [
  single(F.engineUp, (v) => (v.engine ? (v.engine.up ? 1 : 0) : undefined)),
  single(F.engineScrapeDuration, (v) => v.engine?.durationSeconds),
  byLabel(F.engineScrapeErrors, 'reason', (v) => v.engine?.errors),
  byLabel(F.engineFamiliesDropped, 'reason', (v) => v.engine?.reading?.familiesDropped),
  byLabel(F.engineSamplesUnusable, 'reason', (v) => v.engine?.reading?.samplesUnusable),
  engineFamilies,
];
