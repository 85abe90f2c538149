import { dittoSdkVersion } from '../version.js';

/**
 * The @dittolive/ditto versions this code is written for (the v5 API: DittoConfig, Ditto.open) and
 * tested on (5.1.0). package.json's peerDependencies states the same range; a test keeps them equal.
 */
export const SUPPORTED_DITTO_SDK = '^5.1.0';

const INSTALL_HINT = `npm install @dittolive/ditto@${SUPPORTED_DITTO_SDK}`;

/** The Ditto SDK is missing or outside the supported range; the CLI prints the message as one line. */
export class DittoSdkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DittoSdkError';
  }
}

/** Whether `version` (x.y.z, a pre-release counting as its x.y.z) is in a caret range `^X.Y.Z` with X > 0. */
export function inCaretRange(version: string, range: string): boolean {
  const v = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  const r = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (!v || !r) return false;
  const [major, minor, patch] = [Number(v[1]), Number(v[2]), Number(v[3])];
  const [rMajor, rMinor, rPatch] = [Number(r[1]), Number(r[2]), Number(r[3])];
  if (major !== rMajor) return false;
  return minor > rMinor || (minor === rMinor && patch >= rPatch);
}

/**
 * Why the installed SDK cannot serve `--source ditto`, or undefined when it can. `installed` is the
 * version next to this package ("none" when @dittolive/ditto is not installed).
 */
export function dittoSdkProblem(installed: string = dittoSdkVersion()): string | undefined {
  if (installed === 'none') {
    return `--source ditto needs the Ditto SDK, an optional peer dependency that is not installed: ${INSTALL_HINT}`;
  }
  if (!inCaretRange(installed, SUPPORTED_DITTO_SDK)) {
    return `--source ditto needs @dittolive/ditto ${SUPPORTED_DITTO_SDK}, found ${installed}: ${INSTALL_HINT}`;
  }
  return undefined;
}

/**
 * Loads the modules that use the SDK (which load the SDK itself), after checking it is there and
 * supported: a missing SDK is one clear line, not a module-resolution stack trace.
 */
export async function loadDittoModules(): Promise<[typeof import('./ditto-open.js'), typeof import('./ditto.js')]> {
  const problem = dittoSdkProblem();
  if (problem) throw new DittoSdkError(problem);
  try {
    return await Promise.all([import('./ditto-open.js'), import('./ditto.js')]);
  } catch (error) {
    // package.json resolved but the package itself did not (a half-removed install).
    if (isMissingSdk(error)) throw new DittoSdkError(`--source ditto cannot load @dittolive/ditto (${(error as Error).message}): ${INSTALL_HINT}`);
    throw error;
  }
}

function isMissingSdk(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes('@dittolive/ditto');
}
