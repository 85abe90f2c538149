import { describe, expect, it } from 'vitest';
import { dittoSdkProblem, inCaretRange, loadDittoModules, SUPPORTED_DITTO_SDK } from '../src/sources/ditto-sdk.js';
import { dittoSdkVersion } from '../src/version.js';

describe('the supported Ditto SDK range', () => {
  it.each([
    ['5.1.0', true],
    ['5.1.7', true],
    ['5.2.0', true],
    ['5.10.3', true],
    ['5.2.0-rc.1', true],
    ['5.0.9', false],
    ['4.14.4', false],
    ['6.0.0', false],
    ['unknown', false],
    ['', false],
  ])('%s in ^5.1.0: %s', (version, expected) => {
    expect(inCaretRange(version, '^5.1.0')).toBe(expected);
  });

  it('names the fix in one line when the SDK is missing or outside the range', () => {
    expect(dittoSdkProblem('none')).toBe(`--source ditto needs the Ditto SDK, an optional peer dependency that is not installed: npm install @dittolive/ditto@${SUPPORTED_DITTO_SDK}`);
    expect(dittoSdkProblem('4.14.4')).toBe(`--source ditto needs @dittolive/ditto ${SUPPORTED_DITTO_SDK}, found 4.14.4: npm install @dittolive/ditto@${SUPPORTED_DITTO_SDK}`);
    expect(dittoSdkProblem('5.1.0')).toBeUndefined();
  });

  it('accepts the SDK installed here (the devDependency the tests run on) and loads the modules that use it', async () => {
    expect(dittoSdkVersion()).toBe('5.1.0');
    expect(dittoSdkProblem()).toBeUndefined();
    const [open, source] = await loadDittoModules();
    expect(typeof open.openDitto).toBe('function');
    expect(typeof source.DittoSource).toBe('function');
  });
});
