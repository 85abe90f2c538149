import { performance } from 'node:perf_hooks';
import { EngineReader, type EngineReading } from '../collectors/engine.js';
import type { EngineView } from '../collectors/families/index.js';
import type { ParseLimits } from '../collectors/prom-text.js';
import type { Logger } from '../logger.js';
import { ENGINE_READ_FAILURES, type EngineFetch, type EngineReadFailure } from '../sources/engine-endpoint.js';

export interface EngineStateOptions {
  /** One read of the engine's body; must not reject (fetchEngineText does not). */
  readonly fetch: () => Promise<EngineFetch>;
  /** Where the body comes from, for log lines. */
  readonly url: string;
  readonly limits?: ParseLimits;
  readonly logger?: Logger;
}

/** Collision warnings logged at most for this many distinct family names. */
const MAX_LOGGED_COLLISIONS = 100;

/**
 * The latest read of Ditto's engine metrics. A scrape calls refresh() before it renders, so the
 * engine part is as current as the scrape; concurrent scrapes share one read. A failed read is
 * counted and makes the engine part absent (never the previous body served as current); it never
 * throws into the scrape.
 */
export class EngineState {
  private readonly reader: EngineReader;
  private readonly errors = new Map<EngineReadFailure, number>(ENGINE_READ_FAILURES.map((r) => [r, 0]));
  private current: EngineView;
  private reading: Promise<void> | undefined;
  private readonly loggedCollisions = new Set<string>();
  private lastFailure: EngineReadFailure | undefined;

  constructor(private readonly options: EngineStateOptions) {
    this.reader = new EngineReader({ limits: options.limits });
    this.current = Object.freeze({ up: false, durationSeconds: undefined, errors: new Map(this.errors), reading: undefined });
  }

  view(): EngineView {
    return this.current;
  }

  /** Reads the engine now; resolves when this (or the read already in flight) is done. Never rejects. */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<void> {
    const started = performance.now();
    let result: EngineFetch;
    try {
      result = await this.options.fetch();
    } catch (error) {
      result = { ok: false, reason: 'unreachable', detail: error instanceof Error ? error.message : String(error) };
    }
    let reading: EngineReading | undefined;
    let failure: EngineReadFailure | undefined = result.ok ? undefined : result.reason;
    let detail = result.ok ? '' : result.detail;
    if (result.ok) {
      try {
        reading = this.reader.read(result.body);
        if (reading.familiesSeen === 0) [failure, detail] = ['empty', 'no metric family in the body'];
        this.logCollisions(reading.collisions);
      } catch (error) {
        // The reader is written not to throw; should it, the scrape still must not fail.
        [failure, detail] = ['empty', `the body could not be read: ${error instanceof Error ? error.message : String(error)}`];
      }
    }
    if (failure !== undefined) this.errors.set(failure, this.errors.get(failure)! + 1);
    this.logTransition(failure, detail);
    this.current = Object.freeze({
      up: failure === undefined,
      durationSeconds: (performance.now() - started) / 1000,
      errors: new Map(this.errors),
      reading,
    });
  }

  /** One line when reading starts failing or the reason changes, one when it works again: not one per scrape. */
  private logTransition(failure: EngineReadFailure | undefined, detail: string): void {
    if (failure === this.lastFailure) return;
    if (failure === undefined) this.options.logger?.info({ url: this.options.url }, "reading Ditto's engine metrics again");
    else this.options.logger?.warn({ url: this.options.url, reason: failure, detail }, `cannot read Ditto's engine metrics (${failure}): ditto_engine_up is 0 until a read succeeds`);
    this.lastFailure = failure;
  }

  private logCollisions(names: readonly string[]): void {
    for (const name of names) {
      if (this.loggedCollisions.has(name) || this.loggedCollisions.size >= MAX_LOGGED_COLLISIONS) continue;
      this.loggedCollisions.add(name);
      this.options.logger?.warn({ family: name }, `Ditto engine family ${name} left out: its name collides with another family on /metrics (counted in ditto_engine_families_dropped{reason="collision"})`);
    }
  }
}
