/** Rules for user-typed text and for URLs taken from outside. */

import {
  checkNickname,
  NICKNAME_MAX_CHARS,
  NICKNAME_MAX_CODE_POINTS,
  NICKNAME_MAX_CODE_POINTS_PER_CHAR,
  NICKNAME_MAX_MARKS,
  type NicknameProblem,
} from '../miniprogram/utils/nickname';

/** The API's words for each refusal (the rule itself is the mini-program's, so both sides agree). */
const REASONS: Record<NicknameProblem, string> = {
  empty: 'nickname must not be empty',
  invisible: 'nickname contains invisible, control or direction-changing characters',
  blank: 'nickname contains characters that render blank (braille blank, Hangul fillers)',
  'wide-character': `nickname has a character made of more than ${NICKNAME_MAX_CODE_POINTS_PER_CHAR} code points`,
  marks: `nickname stacks more than ${NICKNAME_MAX_MARKS} combining marks on one character`,
  'too-many-chars': `nickname must be at most ${NICKNAME_MAX_CHARS} characters`,
  'too-many-code-points': `nickname must be at most ${NICKNAME_MAX_CODE_POINTS} code points (an emoji made of several counts as several)`,
};

/**
 * The nickname to store (trimmed, NFC), or why it is refused: the rule in
 * miniprogram/utils/nickname.ts, which the mini-program's live counter runs too.
 */
export function cleanNickname(input: string): { ok: true; value: string } | { ok: false; reason: string } {
  const check = checkNickname(input);
  return check.ok ? { ok: true, value: check.value } : { ok: false, reason: REASONS[check.problem] };
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
