/**
 * The nickname rule, the server's (server/text.ts): trimmed, not empty, at most 32 characters
 * as a person counts them. An emoji, a flag or a letter with accents is one character, however
 * many code points it takes, so the input must not use `maxlength` (it counts UTF-16 units).
 */

/** Matches NICKNAME_MAX_CHARS in server/text.ts (test/miniprogram/utils/nickname.test.ts holds them together). */
export const NICKNAME_MAX_CHARS = 32;

interface GraphemeSegmenter {
  segment(input: string): Iterable<unknown>;
}
type SegmenterConstructor = new (locale: undefined, options: { granularity: 'grapheme' }) => GraphemeSegmenter;

let made: { by: SegmenterConstructor; segmenter: GraphemeSegmenter } | null = null;

/**
 * Intl.Segmenter where the JS engine has it (the server counts with it); null on older engines.
 * Made once (the count runs on every keystroke), and again only if the engine's constructor changes.
 */
function segmenter(): GraphemeSegmenter | null {
  const Segmenter = typeof Intl === 'object' ? (Intl as unknown as { Segmenter?: SegmenterConstructor }).Segmenter : undefined;
  if (!Segmenter) return null;
  if (!made || made.by !== Segmenter) made = { by: Segmenter, segmenter: new Segmenter(undefined, { granularity: 'grapheme' }) };
  return made.segmenter;
}

const ZWJ = 0x200d;
const isRegionalIndicator = (cp: number) => cp >= 0x1f1e6 && cp <= 0x1f1ff;
/** Code points that never start a character of their own: marks, joiners' partners, modifiers, tags. */
function extendsPrevious(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) || // combining diacritical marks
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    (cp >= 0x20d0 && cp <= 0x20ff) || // includes the keycap U+20E3
    (cp >= 0xfe00 && cp <= 0xfe0f) || // variation selectors
    (cp >= 0xfe20 && cp <= 0xfe2f) ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) || // skin tones
    (cp >= 0xe0020 && cp <= 0xe007f) || // tag sequences (subdivision flags)
    (cp >= 0xe0100 && cp <= 0xe01ef) ||
    cp === ZWJ
  );
}

/**
 * Characters as a person counts them. Uses Intl.Segmenter when present; otherwise an
 * approximation of its rules that agrees on what nicknames contain (CJK, Latin with marks,
 * emoji with skin tones, ZWJ families, flags, keycaps).
 */
export function countCharacters(text: string): number {
  const native = segmenter();
  if (native) {
    let count = 0;
    for (const _ of native.segment(text)) count++;
    return count;
  }
  let count = 0;
  let previous = -1;
  let pendingRegional = false;
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    const joined: boolean = previous === ZWJ || extendsPrevious(cp);
    const pairsFlag: boolean = isRegionalIndicator(cp) && pendingRegional;
    if (!joined && !pairsFlag) count++;
    pendingRegional = isRegionalIndicator(cp) && !pairsFlag;
    previous = cp;
  }
  return count;
}

/** Why a nickname would be refused, in the user's words, or '' when the server will take it. */
export function nicknameProblem(nickname: string): string {
  const length = countCharacters(nickname.trim());
  return length > NICKNAME_MAX_CHARS ? `昵称最多 ${NICKNAME_MAX_CHARS} 个字，现在是 ${length} 个` : '';
}
