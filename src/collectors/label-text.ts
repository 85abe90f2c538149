/**
 * User text (device names) and SDK-reported strings made safe as label values: bounded, well-formed
 * UTF-16, no control characters. Pure.
 */

/** Longest device name kept as a label value; longer names are cut and end in "…". */
export const MAX_DEVICE_NAME_LENGTH = 128;
/** Longest OS or SDK version string kept; the SDK's own values are far shorter. */
export const MAX_SHORT_TEXT_LENGTH = 64;

// C0 and C1 control characters and DEL: legal in a label, useless on a dashboard, and a tab or a
// carriage return there would only confuse.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * `value` as a label value of at most `maxLength` UTF-16 code units: lone surrogates and control
 * characters become U+FFFD, a longer text is cut at a code point boundary and ends in "…".
 * Anything but a string is "" (unknown).
 */
export function labelText(value: unknown, maxLength: number): string {
  if (typeof value !== 'string') return '';
  // Cut first, so a huge string costs no more than a short one; the cut below still applies.
  let text = value.length > maxLength ? value.slice(0, maxLength + 1) : value;
  if (!text.isWellFormed()) text = text.toWellFormed();
  if (CONTROL.test(text)) text = text.replace(CONTROLS, '\uFFFD');
  if (text.length <= maxLength) return text;
  let end = maxLength - 1;
  // Never split a surrogate pair: a lone high surrogate would be an ill-formed label value.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
