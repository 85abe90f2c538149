/** What a metric family is: the unit of the contract every sink, doc and rule is checked against. */

export type FamilyType = 'gauge' | 'counter' | 'histogram' | 'untyped';

/** Where a family's data comes from; the README groups the metric table by it. */
export type FamilyArea = 'sync' | 'device' | 'engine' | 'fleet' | 'exporter';

export interface FamilyDef {
  readonly name: string;
  readonly type: FamilyType;
  readonly help: string;
  readonly labels: readonly string[];
  /** OpenTelemetry unit; chosen so the Prometheus name stays the contract name. */
  readonly unit?: string;
  readonly area: FamilyArea;
}

export const family = (area: FamilyArea) => (name: string, type: FamilyType, help: string, labels: readonly string[] = [], unit?: string): FamilyDef =>
  Object.freeze({ name, type, help, labels: Object.freeze([...labels]), unit, area });

/** Every sample name a family can produce (histograms add suffixes). */
export function sampleNames(def: Pick<FamilyDef, 'name' | 'type'>): string[] {
  if (def.type === 'histogram') return [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`];
  return [def.name];
}
