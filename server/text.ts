/** Rules for user-typed text and URLs. */

export const NICKNAME_MAX_CHARS = 32;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
// Control characters, bidi overrides (they can make a name display as something else) and
// unpaired surrogates (not text; in `u` mode the class matches only unpaired halves).
const FORBIDDEN = /[\p{Cc}\u202A-\u202E\u2066-\u2069\uD800-\uDFFF]/u;

/**
 * The nickname to store, or why it is refused. Length is counted in user-perceived characters
 * (an emoji, even a multi-code-point one, is one), and text over the limit is refused rather
 * than cut, so no character is ever split.
 */
export function cleanNickname(input: string): { ok: true; value: string } | { ok: false; reason: string } {
  const value = input.trim();
  if (value === '') return { ok: false, reason: 'nickname must not be empty' };
  if (FORBIDDEN.test(value)) return { ok: false, reason: 'nickname contains control characters' };
  let chars = 0;
  for (const _ of segmenter.segment(value)) chars++;
  if (chars > NICKNAME_MAX_CHARS) return { ok: false, reason: `nickname must be at most ${NICKNAME_MAX_CHARS} characters` };
  return { ok: true, value };
}

/** An absolute http(s) URL without credentials. */
export function isWebUrl(input: string): boolean {
  try {
    const url = new URL(input);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}
