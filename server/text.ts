/** Rules for user-typed text and for URLs taken from outside. */

export const NICKNAME_MAX_CHARS = 32;
/** Combining marks one character may carry: Vietnamese needs 2, Thai and Indic conjuncts up to 4; "Zalgo" text stacks dozens. */
export const NICKNAME_MAX_MARKS = 4;

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Invisible characters that are nonetheless part of emoji, removed before the check below:
 * - ZERO WIDTH JOINER between two pictographs (👨‍👩‍👧, 🏳️‍🌈, 🧑🏽‍💻);
 * - tag characters closing an emoji tag sequence after 🏴 (🏴󠁧󠁢󠁳󠁣󠁴󠁿, the flags of Scotland, Wales, England);
 * - one variation selector right after a visible character (❤️, 1️⃣, and CJK ideographic variants).
 */
const EMOJI_JOINER = /(?<=\p{Extended_Pictographic}(?:\uFE0F|\p{Emoji_Modifier})?)\u200D(?=\p{Extended_Pictographic})/gu;
const EMOJI_TAGS = /(?<=\u{1F3F4})[\u{E0020}-\u{E007E}]+\u{E007F}/gu;
const VARIATION_SELECTOR = /(?<=[^\p{M}\p{C}\p{Z}])[\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/gu;

/**
 * Everything else that is invisible or changes how the text around it displays:
 * controls (Cc), format characters (Cf: zero-width space/joiners, bidi marks, embeddings,
 * overrides and isolates, soft hyphen, tags), default-ignorable code points (Hangul fillers,
 * stray variation selectors), line and paragraph separators, spaces other than U+0020 and the
 * ideographic space U+3000, private-use characters, noncharacters and unpaired surrogates.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Noncharacter_Code_Point}\p{Default_Ignorable_Code_Point}]|(?![\u0020\u3000])\p{Zs}/u;
/** Marks counted towards NICKNAME_MAX_MARKS: not variation selectors or the keycap's enclosing mark (emoji). */
const COUNTED_MARK = /(?![\uFE00-\uFE0F\u20E3\u{E0100}-\u{E01EF}])\p{M}/gu;

/**
 * The nickname to store, or why it is refused. Length is counted in user-perceived characters
 * (an emoji, even a multi-code-point one, is one), and text over the limit is refused rather
 * than cut, so no character is ever split. Refused, never silently changed: characters that
 * are invisible or reorder the display (INVISIBLE above; ZWJ, tags and variation selectors only
 * where emoji use them) and characters stacking more than NICKNAME_MAX_MARKS combining marks.
 */
export function cleanNickname(input: string): { ok: true; value: string } | { ok: false; reason: string } {
  const value = input.trim();
  if (value === '') return { ok: false, reason: 'nickname must not be empty' };
  const withoutEmojiParts = value.replace(EMOJI_JOINER, '').replace(EMOJI_TAGS, '').replace(VARIATION_SELECTOR, '');
  if (INVISIBLE.test(withoutEmojiParts)) return { ok: false, reason: 'nickname contains invisible, control or direction-changing characters' };
  let chars = 0;
  for (const { segment } of segmenter.segment(value)) {
    chars++;
    if ((segment.match(COUNTED_MARK)?.length ?? 0) > NICKNAME_MAX_MARKS) {
      return { ok: false, reason: `nickname stacks more than ${NICKNAME_MAX_MARKS} combining marks on one character` };
    }
  }
  if (chars > NICKNAME_MAX_CHARS) return { ok: false, reason: `nickname must be at most ${NICKNAME_MAX_CHARS} characters` };
  return { ok: true, value };
}

/** The hosts WeChat serves avatars from (what getUserProfile and decrypted user data carry). */
const WECHAT_AVATAR_HOSTS = new Set(['thirdwx.qlogo.cn', 'wx.qlogo.cn']);

/**
 * A WeChat avatar URL, re-serialized (never stored as received): https, on WeChat's avatar hosts,
 * no credentials, no port, at most 1 KB. Null for anything else.
 */
export function wechatAvatarUrl(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 1024) return null;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '' || !WECHAT_AVATAR_HOSTS.has(url.hostname)) return null;
  return url.href;
}
