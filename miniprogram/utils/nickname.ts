/**
 * The nickname rule, one definition for both sides: the server judges with it (server/text.ts
 * imports this module, as it imports miniprogram/config.ts) and the mini-program's live counter
 * runs it on every keystroke. Nothing here touches `wx`, so it loads anywhere.
 *
 * A nickname is trimmed, normalised to NFC (NFD input is accepted and stored composed) and then
 * refused, never silently changed, when it:
 * - is empty;
 * - holds an invisible, control or direction-changing character (`invisible` below), or one of the
 *   characters that render blank though Unicode calls them letters or symbols (BLANK below);
 *   zero-width joiners, tag characters and variation selectors pass only where emoji use them;
 * - has a character wider than NICKNAME_MAX_CODE_POINTS_PER_CHAR code points, or stacking more
 *   than NICKNAME_MAX_MARKS combining marks;
 * - is longer than NICKNAME_MAX_CHARS characters as a person counts them (an emoji, a flag or a
 *   letter with accents is one), or NICKNAME_MAX_CODE_POINTS code points in all.
 */

/** Characters as a person counts them. The input must not use `maxlength` for this: it counts UTF-16 units. */
export const NICKNAME_MAX_CHARS = 32;
/** Code points in all: two per character on average, which a nickname of emoji made of several parts can use up. */
export const NICKNAME_MAX_CODE_POINTS = 64;
/**
 * Code points in one character. The longest RGI emoji are 10 (👩🏻‍❤️‍💋‍👨🏼: two people with skin
 * tones, three joiners, ❤ with its variation selector, 💋); a subdivision flag is at most 9, a
 * letter with its NICKNAME_MAX_MARKS marks 5, an Indic conjunct within that mark limit 9, a Hangul
 * syllable in jamo 3. What is wider is a joiner or modifier chain made to hide text or break layouts.
 */
export const NICKNAME_MAX_CODE_POINTS_PER_CHAR = 10;
/** Combining marks one character may carry: Vietnamese needs 2, Thai and Indic conjuncts up to 4; "Zalgo" text stacks dozens. */
export const NICKNAME_MAX_MARKS = 4;
/**
 * UTF-16 units looked at, at most: the input field's `maxlength` and the first cut of the rule. A
 * nickname of NICKNAME_MAX_CODE_POINTS composed code points stays within it even typed decomposed,
 * so it never cuts one that would pass, and a 50 KB paste costs no more than a long nickname.
 */
export const NICKNAME_MAX_INPUT = 256;

/** Why a nickname is refused; each side words it for its reader. */
export type NicknameProblem = 'empty' | 'invisible' | 'blank' | 'wide-character' | 'marks' | 'too-many-chars' | 'too-many-code-points';

/** The verdict, with the length in characters for the counter beside the field. */
export type NicknameCheck = { ok: true; value: string; length: number } | { ok: false; problem: NicknameProblem; length: number };

/**
 * Characters that render as blank space although Unicode files them as letters, symbols or marks,
 * so none of the classes in `invisible` catches all of them: the Hangul fillers (also
 * default-ignorable), the blank braille pattern, Khitan's filler and the musical null notehead.
 * Spaces proper (Zs) are in `invisible`; U+0020 and the ideographic space U+3000 are allowed inside
 * a nickname (trimmed at its ends), where they separate visible words.
 */
const BLANK = /\u115F|\u1160|\u2800|\u3164|\uFFA0|\u{16FE4}|\u{1D159}/u;

interface Patterns {
  /** A zero-width joiner between two pictographs (👨‍👩‍👧, 🏳️‍🌈, 🧑🏽‍💻), kept with the pictograph before it. */
  emojiJoiner: RegExp;
  /**
   * The tag characters of a subdivision flag in the RGI shape: 🏴, a region (two tag letters or
   * three tag digits), one to four tag letters or digits, then CANCEL TAG (🏴󠁧󠁢󠁳󠁣󠁴󠁿, the flags of
   * Scotland, Wales, England). Any other run of tags is hidden text.
   */
  flagTags: RegExp;
  /** One variation selector right after a visible character (❤️, 1️⃣, and CJK ideographic variants). */
  variationSelector: RegExp;
  /**
   * Everything else that is invisible or changes how the text around it displays: controls (Cc),
   * format characters (Cf: zero-width space/joiners, bidi marks, embeddings, overrides and isolates,
   * soft hyphen, tags), default-ignorable code points (Hangul fillers, stray variation selectors),
   * line and paragraph separators, spaces other than U+0020 and U+3000, private-use characters,
   * noncharacters and unpaired surrogates.
   */
  invisible: RegExp;
  /** Marks counted towards NICKNAME_MAX_MARKS: not variation selectors or the keycap's enclosing mark (emoji). */
  countedMark: RegExp;
}

let patterns: Patterns | null | undefined;

/**
 * The Unicode property patterns, compiled on first use from strings: an engine without property
 * escapes (old WeChat clients) would reject a regex literal when parsing this file, and take the
 * whole page down with it. There the counter still counts, and the server still judges.
 */
function compiledPatterns(): Patterns | null {
  if (patterns !== undefined) return patterns;
  try {
    patterns = {
      emojiJoiner: new RegExp(String.raw`(\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier})?)\u200D(?=\p{Extended_Pictographic})`, 'gu'),
      flagTags: new RegExp(String.raw`\u{1F3F4}(?:[\u{E0061}-\u{E007A}]{2}|[\u{E0030}-\u{E0039}]{3})[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{1,4}\u{E007F}`, 'gu'),
      variationSelector: new RegExp(String.raw`([^\p{M}\p{C}\p{Z}])[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]`, 'gu'),
      invisible: new RegExp(String.raw`[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}\p{Default_Ignorable_Code_Point}]|(?![\u0020\u3000])\p{Zs}`, 'u'),
      countedMark: new RegExp(String.raw`(?![\uFE00-\uFE0F\u20E3\u{E0100}-\u{E01EF}])\p{M}`, 'gu'),
    };
  } catch {
    patterns = null;
  }
  return patterns;
}

interface GraphemeSegmenter {
  segment(input: string): Iterable<{ segment: string }>;
}
type SegmenterConstructor = new (locale: undefined, options: { granularity: 'grapheme' }) => GraphemeSegmenter;

let made: { by: SegmenterConstructor; segmenter: GraphemeSegmenter } | null = null;

/**
 * Intl.Segmenter where the JS engine has it (the server always does); null on older engines.
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
 * An approximation of Intl.Segmenter's rules for engines without it, which agrees on what
 * nicknames contain (CJK, Latin with marks, emoji with skin tones, ZWJ families, flags, keycaps).
 */
function approximateCharacters(text: string): string[] {
  const chars: string[] = [];
  let previous = -1;
  let pendingRegional = false;
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    const joined: boolean = chars.length > 0 && (previous === ZWJ || extendsPrevious(cp));
    const pairsFlag: boolean = isRegionalIndicator(cp) && pendingRegional;
    if (joined || pairsFlag) chars[chars.length - 1] += char;
    else chars.push(char);
    pendingRegional = isRegionalIndicator(cp) && !pairsFlag;
    previous = cp;
  }
  return chars;
}

/** The characters of `text` as a person counts them: Intl.Segmenter when present, else the approximation. */
function charactersOf(text: string): Iterable<string> {
  const native = segmenter();
  if (!native) return approximateCharacters(text);
  const segments = native.segment(text);
  return {
    *[Symbol.iterator]() {
      for (const { segment } of segments) yield segment;
    },
  };
}

/** Characters as a person counts them, in the first NICKNAME_MAX_INPUT units (never more work than that). */
export function countCharacters(text: string): number {
  let count = 0;
  for (const _ of charactersOf(text.slice(0, NICKNAME_MAX_INPUT))) count++;
  return count;
}

const codePointCount = (text: string) => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

/** The nickname rule (see the top of this file): the value to store, or why it is refused. */
export function checkNickname(input: string): NicknameCheck {
  const trimmed = input.trim();
  if (trimmed === '') return { ok: false, problem: 'empty', length: 0 };
  // Past this no nickname can pass, decomposed or not: refused before any costlier step.
  if (trimmed.length > NICKNAME_MAX_INPUT) {
    const length = countCharacters(trimmed);
    return { ok: false, problem: length > NICKNAME_MAX_CHARS ? 'too-many-chars' : 'too-many-code-points', length };
  }
  const value = trimmed.normalize('NFC');
  const p = compiledPatterns();
  let problem: NicknameProblem | null = null;
  if (p) {
    const withoutEmojiParts = value.replace(p.emojiJoiner, '$1').replace(p.flagTags, '\u{1F3F4}').replace(p.variationSelector, '$1');
    if (p.invisible.test(withoutEmojiParts)) problem = 'invisible';
  }
  if (!problem && BLANK.test(value)) problem = 'blank';
  let length = 0;
  for (const char of charactersOf(value)) {
    length++;
    if (problem) continue;
    if (codePointCount(char) > NICKNAME_MAX_CODE_POINTS_PER_CHAR) problem = 'wide-character';
    else if (p && (char.match(p.countedMark)?.length ?? 0) > NICKNAME_MAX_MARKS) problem = 'marks';
  }
  if (!problem && length > NICKNAME_MAX_CHARS) problem = 'too-many-chars';
  if (!problem && codePointCount(value) > NICKNAME_MAX_CODE_POINTS) problem = 'too-many-code-points';
  return problem ? { ok: false, problem, length } : { ok: true, value, length };
}

/** What the mini-program says about each problem, in the user's words. */
const PROBLEM_TEXT: Record<Exclude<NicknameProblem, 'empty' | 'too-many-chars'>, string> = {
  invisible: '昵称里有看不见的字符或控制字符，请删除后再试',
  blank: '昵称里有显示为空白的字符，请删除后再试',
  'wide-character': '昵称里有过长的组合字符，请删除后再试',
  marks: '昵称里有叠加了过多附加符号的字，请删除后再试',
  'too-many-code-points': '昵称太长了：组合表情按组成部分计算，请删减一些',
};

/** The verdict in the user's words: '' when the server will take the nickname or it is empty (nothing to save). */
export function nicknameMessage(check: NicknameCheck): string {
  if (check.ok || check.problem === 'empty') return '';
  if (check.problem === 'too-many-chars') return `昵称最多 ${NICKNAME_MAX_CHARS} 个字，现在是 ${check.length} 个`;
  return PROBLEM_TEXT[check.problem];
}

/** Why a nickname would be refused, in the user's words, or '' (see nicknameMessage). */
export const nicknameProblem = (nickname: string): string => nicknameMessage(checkNickname(nickname));
