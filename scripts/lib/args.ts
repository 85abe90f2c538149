/** Numeric command-line options with environment twins, for the load and soak scripts. */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';

export interface NumberOption {
  readonly flag: string;
  readonly env: string;
  readonly fallback: number;
  readonly integer?: boolean;
  /** Smallest accepted value (default: above 0). */
  readonly min?: number;
}

export class UsageError extends Error {}

/** Reads `--flag N` (or `--flag=N`), then the environment variable, then the fallback. */
export function readNumbers<K extends string>(argv: readonly string[], env: NodeJS.ProcessEnv, spec: Record<K, NumberOption>): Record<K, number> & { json: string | undefined } {
  const options: Record<string, { type: 'string' }> = { json: { type: 'string' } };
  for (const key of Object.keys(spec) as K[]) options[spec[key].flag] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const out = { json: values['json'] as string | undefined } as Record<K, number> & { json: string | undefined };
  for (const key of Object.keys(spec) as K[]) {
    const { flag, env: envName, fallback, integer = true, min } = spec[key];
    const text = (values[flag] as string | undefined) ?? env[envName];
    if (text === undefined || text === '') {
      out[key] = fallback as (typeof out)[K];
      continue;
    }
    const n = Number(text.replace(/_/g, ''));
    const ok = Number.isFinite(n) && (!integer || Number.isInteger(n)) && (min === undefined ? n > 0 : n >= min);
    if (!ok) throw new UsageError(`--${flag} (${envName}) must be ${integer ? 'an integer' : 'a number'} ${min === undefined ? 'above 0' : `of at least ${min}`}, got ${JSON.stringify(text)}`);
    out[key] = n as (typeof out)[K];
  }
  return out;
}

/**
 * Runs a script's `main`: writes its result to `--json FILE` when asked, and exits 0 when the
 * result's checks passed, 1 when one failed or the run broke, 2 on a UsageError.
 */
export function runScript(name: string, main: () => Promise<{ result: { ok: boolean }; json: string | undefined }>): void {
  main().then(
    ({ result, json }) => {
      if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
      process.exitCode = result.ok ? 0 : 1;
    },
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`${name}: ${error.message}`);
        process.exitCode = 2;
        return;
      }
      console.error(`${name}: failed to run:`, error);
      process.exitCode = 1;
    },
  );
}
