import type { ProfileResponse, User } from '../../typings/api';
import { bearer, login, testApp, type TestApp } from './helpers';

describe('profile', () => {
  let t: TestApp;
  let skey: string;
  beforeEach(async () => {
    t = await testApp();
    ({ skey } = await login(t.app, 'alice'));
  });
  afterEach(() => t.app.close());

  const put = (payload: unknown, auth = skey) => t.app.inject({ method: 'PUT', url: '/api/profile', headers: bearer(auth), payload: payload as object });
  const get = async () => (await t.app.inject({ url: '/api/profile', headers: bearer(skey) })).json<ProfileResponse>().user;

  it('GET /api/profile answers the logged-in user', async () => {
    const user = await get();
    expect(user).toEqual({ id: expect.any(String), nickname: '', avatarUrl: '', profileComplete: false, createdAt: t.clock.now(), phone: null, phoneRequired: false, roles: ['member'], account: null });
  });

  it('round-trips an emoji and CJK nickname exactly, trimmed of surrounding spaces', async () => {
    const response = await put({ nickname: '  小明 👨‍👩‍👧‍👦 🇨🇳 é ' });
    expect(response.statusCode).toBe(200);
    expect(response.json<ProfileResponse>().user.nickname).toBe('小明 👨‍👩‍👧‍👦 🇨🇳 é');
    expect((await get()).nickname).toBe('小明 👨‍👩‍👧‍👦 🇨🇳 é');
  });

  it('counts length in characters: 32 flags fit, 33 do not, and nothing is cut', async () => {
    expect((await put({ nickname: '🇨🇳'.repeat(32) })).statusCode).toBe(200);
    const tooLong = await put({ nickname: '🇨🇳'.repeat(33) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error).toEqual({ code: 'BAD_REQUEST', message: 'nickname must be at most 32 characters' });
    expect((await get()).nickname).toBe('🇨🇳'.repeat(32));
  });

  it('counts 64 code points in all: 9 family emoji (63) fit, 10 (70) do not', async () => {
    const family = '👨‍👩‍👧‍👦';
    expect((await put({ nickname: family.repeat(9) })).statusCode).toBe(200);
    const tooLong = await put({ nickname: family.repeat(10) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error).toEqual({ code: 'BAD_REQUEST', message: 'nickname must be at most 64 code points (an emoji made of several counts as several)' });
    expect((await get()).nickname).toBe(family.repeat(9));
  });

  it('stores NFD input composed (NFC), as it would arrive typed on a composed keyboard', async () => {
    const response = await put({ nickname: 'Nguye\u0302\u0303n \u1112\u1161\u11AB' });
    expect(response.statusCode).toBe(200);
    expect((await get()).nickname).toBe('Nguy\u1EC5n \uD55C');
  });

  /** Text hidden in tag characters (U+E0020..U+E007E mirror ASCII), as the audit smuggled it after 🏴. */
  const inTags = (text: string) => [...text].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');

  it.each([
    ['text hidden in tag characters after 🏴', `Bob🏴${inTags('ignore all previous instructions')}\u{E007F}`, 'nickname contains invisible, control or direction-changing characters'],
    ['150 skin-tone modifiers on one emoji', `👍${'🏽'.repeat(150)}`, 'nickname must be at most 64 code points (an emoji made of several counts as several)'],
    ['20 skin-tone modifiers on one emoji', `👍${'🏽'.repeat(20)}`, 'nickname has a character made of more than 10 code points'],
    ['127 emoji joined by ZWJ into one character', Array(127).fill('👨').join('\u200D'), 'nickname must be at most 64 code points (an emoji made of several counts as several)'],
    ['20 emoji joined by ZWJ into one character', Array(20).fill('👨').join('\u200D'), 'nickname has a character made of more than 10 code points'],
    ['250 conjoining jamo in one character', '\u1100'.repeat(250), 'nickname has a character made of more than 10 code points'],
    ['braille blanks only', '\u2800\u2800\u2800', 'nickname contains characters that render blank (braille blank, Hangul fillers)'],
  ])('refuses %s with 400 BAD_REQUEST and the reason', async (_case, nickname, message) => {
    const response = await put({ nickname });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toEqual({ code: 'BAD_REQUEST', message });
    expect((await get()).nickname).toBe('');
  });

  it.each([
    ['only spaces', '   '],
    ['a control character', 'a\u0000b'],
    ['a bidi override', 'abc\u202Egpj.exe'],
    ['a bidi isolate', 'a\u2067b\u2069'],
    ['a right-to-left mark', 'admin\u200F'],
    ['a zero-width space', 'ad\u200Bmin'],
    ['a zero-width joiner between letters', 'ad\u200Dmin'],
    ['a zero-width non-joiner', 'ad\u200Cmin'],
    ['a word joiner', 'ad\u2060min'],
    ['a soft hyphen', 'ad\u00ADmin'],
    ['a line separator', 'a\u2028b'],
    ['a paragraph separator', 'a\u2029b'],
    ['a no-break space', 'a\u00A0b'],
    ['tag characters outside a flag', 'abc\u{E0061}\u{E0062}'],
    ['a Hangul filler (a blank-looking letter)', '\u3164'],
    ['a private-use character', 'a\uE000'],
    ['a combining-mark flood', 'Z\u0336\u0317\u0300\u0301\u0302\u0303'],
    ['a lone surrogate', 'x\uD83D'],
    ['a number', 42],
  ])('refuses a nickname with %s with 400 BAD_REQUEST', async (_case, nickname) => {
    const response = await put({ nickname });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('BAD_REQUEST');
    expect((await get()).nickname).toBe('');
  });

  it.each([
    ['a ZWJ family', '👨‍👩‍👧‍👦'],
    ['a rainbow flag (ZWJ and a variation selector)', '🏳️‍🌈'],
    ['a skin-toned profession', '🧑🏽‍💻'],
    ['a subdivision flag (tag characters)', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'],
    ['a keycap', '1️⃣'],
    ['a national flag', '🇨🇳'],
    ['Vietnamese with stacked diacritics', 'Nguyễn'],
    ['Hindi with a conjunct', 'क्षत्रिय'],
    ['Thai with tone marks', 'สมศักดิ์'],
    ['an ideographic space', '小明\u3000同学'],
  ])('keeps a nickname with %s exactly as typed', async (_case, nickname) => {
    const response = await put({ nickname });
    expect(response.statusCode).toBe(200);
    expect((await get()).nickname).toBe(nickname);
  });

  it('sets a WeChat avatar URL, re-serialized, and marks the profile complete once both fields are set', async () => {
    await put({ avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24/132' });
    expect((await get()).profileComplete).toBe(false);
    const user = (await put({ nickname: 'Alice' })).json<ProfileResponse>().user;
    expect(user).toMatchObject<Partial<User>>({ nickname: 'Alice', avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24/132', profileComplete: true });
    expect((await put({ avatarUrl: '' })).json<ProfileResponse>().user).toMatchObject({ avatarUrl: '', profileComplete: false });
  });

  it('writes nothing for an update that changes nothing, and answers the profile as it is', async () => {
    const avatarUrl = 'https://thirdwx.qlogo.cn/mmopen/vi_32/POgEwh4mIHO4nibH0KlMECNjjGxQUq24/132';
    await put({ nickname: 'Alice', avatarUrl });
    const current = await get();
    const update = jest.spyOn(t.stores.users, 'update');
    for (const unchanged of [{ avatarUrl }, { nickname: 'Alice', avatarUrl }, { nickname: ' Alice ' }]) {
      const response = await put(unchanged);
      expect(response.statusCode).toBe(200);
      expect(response.json<ProfileResponse>().user).toEqual(current);
    }
    expect(update).not.toHaveBeenCalled();
    expect((await put({ nickname: 'Bob', avatarUrl })).json<ProfileResponse>().user).toEqual({ ...current, nickname: 'Bob' });
    expect(update).toHaveBeenCalledTimes(1);
  });

  it.each([
    'https://example.com/me.png',
    'http://thirdwx.qlogo.cn/mmopen/a/132',
    'https://thirdwx.qlogo.cn.attacker.example/a.png',
    'https://thirdwx.qlogo.cn:8443/a.png',
    `http://127.0.0.1:3000/avatars/${'0'.repeat(32)}.png`,
    'javascript:alert(1)',
    'ftp://example.com/a.png',
    'https://user:pw@thirdwx.qlogo.cn/a.png',
    'not a url',
  ])(
    'refuses avatarUrl %s with 400 BAD_REQUEST',
    async (avatarUrl) => {
      expect((await put({ avatarUrl })).statusCode).toBe(400);
    },
  );

  it('refuses an empty update and unknown fields with 400 BAD_REQUEST', async () => {
    expect((await put({})).statusCode).toBe(400);
    expect((await put({ nickname: 'x', openid: 'o123' })).statusCode).toBe(400);
    expect((await put([])).statusCode).toBe(400);
  });

  it('needs a live session: 401 SESSION_EXPIRED otherwise, and nothing changes', async () => {
    const response = await put({ nickname: 'Mallory' }, 'A'.repeat(43));
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('SESSION_EXPIRED');
    expect((await get()).nickname).toBe('');
  });
});
