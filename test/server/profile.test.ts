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
    expect(user).toEqual({ id: expect.any(String), nickname: '', avatarUrl: '', profileComplete: false, createdAt: t.clock.now(), phone: null, phoneRequired: false });
  });

  it('round-trips an emoji and CJK nickname exactly, trimmed of surrounding spaces', async () => {
    const response = await put({ nickname: '  小明 👨‍👩‍👧‍👦 🇨🇳 é ' });
    expect(response.statusCode).toBe(200);
    expect(response.json<ProfileResponse>().user.nickname).toBe('小明 👨‍👩‍👧‍👦 🇨🇳 é');
    expect((await get()).nickname).toBe('小明 👨‍👩‍👧‍👦 🇨🇳 é');
  });

  it('counts length in characters: 32 family emoji fit, 33 do not, and nothing is cut', async () => {
    const family = '👨‍👩‍👧‍👦';
    expect((await put({ nickname: family.repeat(32) })).statusCode).toBe(200);
    const tooLong = await put({ nickname: family.repeat(33) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error).toEqual({ code: 'BAD_REQUEST', message: 'nickname must be at most 32 characters' });
    expect((await get()).nickname).toBe(family.repeat(32));
  });

  it.each([
    ['only spaces', '   '],
    ['a control character', 'a\u0000b'],
    ['a bidi override', 'abc\u202Egpj.exe'],
    ['a lone surrogate', 'x\uD83D'],
    ['a number', 42],
  ])('refuses a nickname with %s with 400 BAD_REQUEST', async (_case, nickname) => {
    const response = await put({ nickname });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('BAD_REQUEST');
    expect((await get()).nickname).toBe('');
  });

  it('sets avatarUrl and marks the profile complete once both fields are set', async () => {
    await put({ avatarUrl: 'https://example.com/me.png' });
    expect((await get()).profileComplete).toBe(false);
    const user = (await put({ nickname: 'Alice' })).json<ProfileResponse>().user;
    expect(user).toMatchObject<Partial<User>>({ nickname: 'Alice', avatarUrl: 'https://example.com/me.png', profileComplete: true });
  });

  it.each(['javascript:alert(1)', 'ftp://example.com/a.png', 'https://user:pw@example.com/a.png', 'not a url'])(
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
