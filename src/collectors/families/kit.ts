import type { FamilyDef } from '../../catalogue/index.js';
import { labelSet, NO_LABELS, type LabelSet } from '../../exposition/labels.js';
import type { SampleSink } from '../samples.js';
import type { ScrapeView } from './view.js';

/** A family written once per scrape. */
export interface Family {
  readonly def: FamilyDef;
  emit(view: ScrapeView, out: SampleSink): void;
}

/** A family written once per item (peer, device); the writers hand the event loop back between items. */
export interface ItemFamily<T> {
  readonly def: FamilyDef;
  items(view: ScrapeView): readonly T[];
  emitItem(view: ScrapeView, item: T, out: SampleSink): void;
}

/**
 * Families whose definitions come from the input, not the catalogue (Ditto's engine metrics):
 * each item writes samples under its own FamilyDef. They are served on /metrics by every writer,
 * but not bridged into a prom-client registry, which needs each family registered up front.
 */
export interface DynamicFamilies<T> {
  readonly dynamic: true;
  items(view: ScrapeView): readonly T[];
  emitItem(view: ScrapeView, item: T, out: SampleSink): void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FamilyEmitter = Family | ItemFamily<any> | DynamicFamilies<any>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const isItemFamily = (f: FamilyEmitter): f is ItemFamily<any> | DynamicFamilies<any> => 'items' in f;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const isDynamic = (f: FamilyEmitter): f is DynamicFamilies<any> => 'dynamic' in f;

/** The emitters with a catalogue family of their own (everything but dynamic families). */
export type CatalogueEmitter = Exclude<FamilyEmitter, DynamicFamilies<unknown>>;

/** One unlabelled value; `undefined` leaves the family out of this scrape. */
export const single = (def: FamilyDef, get: (v: ScrapeView) => number | bigint | undefined): Family => ({
  def,
  emit(view, out) {
    const value = get(view);
    if (value !== undefined) out.value(def, NO_LABELS, value);
  },
});

/** One series per key of a map, labelled `label="key"`; `undefined` leaves the family out. */
export const byLabel = <K extends string>(def: FamilyDef, label: string, get: (v: ScrapeView) => ReadonlyMap<K, number> | undefined): Family => {
  const cache = new Map<string, LabelSet>();
  return {
    def,
    emit(view, out) {
      const values = get(view);
      if (!values) return;
      for (const [key, value] of values) {
        let labels = cache.get(key);
        if (!labels) cache.set(key, (labels = labelSet({ [label]: key })));
        out.value(def, labels, value);
      }
    },
  };
};

export const nonNegative = (a: bigint, b: bigint): bigint => (a > b ? a - b : 0n);
