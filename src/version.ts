import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function readVersion(path: string): string {
  try {
    const pkg = JSON.parse(readFileSync(require.resolve(path), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const EXPORTER_VERSION = readVersion('../package.json');

/** The installed Ditto SDK's version, or "none" when it is not installed. */
export function dittoSdkVersion(): string {
  const v = readVersion('@dittolive/ditto/package.json');
  return v === 'unknown' ? 'none' : v;
}
