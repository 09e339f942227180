import { cleanNickname, NICKNAME_MAX_CHARS as SERVER_MAX } from '../../../server/text';
import { countCharacters, nicknameProblem, NICKNAME_MAX_CHARS } from '../../../miniprogram/utils/nickname';

/** Nicknames people use: CJK, Latin with combining marks, emoji with skin tones, ZWJ families, flags, keycaps. */
const SAMPLES = ['小明', 'Zoë', 'e\u0301te\u0301', '👍🏽', '👨‍👩‍👧‍👦', '🇨🇳🇫🇷', '1️⃣2️⃣', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', 'A🇨', '하늘', '小明 Ming ✨'];

const intl = Intl as unknown as { Segmenter?: unknown };

/** Runs `body` as on a JS engine without Intl.Segmenter (older WeChat base libraries). */
function withoutSegmenter<T>(body: () => T): T {
  const saved = intl.Segmenter;
  intl.Segmenter = undefined;
  try {
    return body();
  } finally {
    intl.Segmenter = saved;
  }
}

describe('the nickname rule', () => {
  test('has the server\'s limit', () => {
    expect(NICKNAME_MAX_CHARS).toBe(SERVER_MAX);
  });

  test.each(SAMPLES)('counts %s as a person does, with and without Intl.Segmenter', (sample) => {
    const expected = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(sample)].length;

    expect(countCharacters(sample)).toBe(expected);
    expect(withoutSegmenter(() => countCharacters(sample))).toBe(expected);
  });

  test.each([
    ['32 CJK characters', '好'.repeat(32)],
    ['33 CJK characters', '好'.repeat(33)],
    ['32 emoji families', '👨‍👩‍👧'.repeat(32)],
    ['33 flags', '🇨🇳'.repeat(33)],
    ['32 letters padded with spaces', `  ${'a'.repeat(32)}  `],
  ])('agrees with the server on %s', (_name, nickname) => {
    const serverTakesIt = cleanNickname(nickname).ok;

    expect(nicknameProblem(nickname) === '').toBe(serverTakesIt);
    expect(withoutSegmenter(() => nicknameProblem(nickname) === '')).toBe(serverTakesIt);
  });

  test('says how long the nickname is and what the limit is', () => {
    expect(nicknameProblem('好'.repeat(40))).toBe('昵称最多 32 个字，现在是 40 个');
  });
});
