/**
 * The simulated WeChat's stable_token and getuserphonenumber, called as the real ones are (JSON
 * POSTs), with WeChat's documented rules: the same token while it is valid, the next one in its
 * last 5 minutes, force refresh invalidating the old one (20 a day, 30 s apart), single-use phone
 * codes valid 5 minutes, and the dev routes that feed them.
 */
import { login, testApp, type TestApp } from './helpers';

const MINUTE = 60_000;

describe('simulated WeChat open APIs', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.app.close());

  const stableToken = async (body: Record<string, unknown> = {}) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/cgi-bin/stable_token',
        payload: { grant_type: 'client_credential', appid: t.config.wechat.appId, secret: t.config.wechat.secret, ...body },
      })
    ).json<{ access_token?: string; expires_in?: number; errcode?: number; errmsg?: string }>();
  const phoneNumber = async (accessToken: string | undefined, code: unknown) =>
    (
      await t.app.inject({
        method: 'POST',
        url: `/wxa/business/getuserphonenumber${accessToken === undefined ? '' : `?access_token=${encodeURIComponent(accessToken)}`}`,
        payload: { code },
      })
    ).json<Record<string, unknown>>();
  const phoneCode = async (payload: Record<string, unknown> = {}) => t.app.inject({ method: 'POST', url: '/dev/phone-codes', payload });

  describe('POST /cgi-bin/stable_token', () => {
    it('hands out the same token with its remaining lifetime while it is valid', async () => {
      const first = await stableToken();
      expect(first).toEqual({ access_token: expect.stringMatching(/^\d+_[A-Za-z0-9_-]{120,}$/), expires_in: 7200 });
      t.clock.advance(10 * MINUTE);
      expect(await stableToken()).toEqual({ access_token: first.access_token, expires_in: 6600 });
    });

    it('hands out the next token in the old one’s last 5 minutes; both work until the old one ends', async () => {
      const old = (await stableToken()).access_token!;
      t.clock.advance(115 * MINUTE);
      const next = await stableToken();
      expect(next).toEqual({ access_token: expect.any(String), expires_in: 7200 });
      expect(next.access_token).not.toBe(old);
      const code = (await phoneCode()).json().code;
      expect((await phoneNumber(old, code)).errcode).toBe(0);
      t.clock.advance(5 * MINUTE);
      expect((await phoneNumber(old, (await phoneCode()).json().code)).errcode).toBe(42001);
      expect((await phoneNumber(next.access_token, (await phoneCode()).json().code)).errcode).toBe(0);
    });

    it('invalidates the old token at once in force-refresh mode, refreshes nothing within 30 s, and stops after 20 a day', async () => {
      const old = (await stableToken()).access_token!;
      const forced = (await stableToken({ force_refresh: true })).access_token!;
      expect(forced).not.toBe(old);
      expect((await phoneNumber(old, (await phoneCode()).json().code)).errcode).toBe(40001);
      t.clock.advance(29_999);
      expect((await stableToken({ force_refresh: true })).access_token).toBe(forced);
      for (let i = 2; i <= 20; i++) {
        t.clock.advance(30_000);
        expect((await stableToken({ force_refresh: true })).errcode).toBeUndefined();
      }
      t.clock.advance(30_000);
      expect((await stableToken({ force_refresh: true })).errcode).toBe(45009);
    });

    it.each([
      ['a wrong appid', { appid: 'wx0000000000000000' }, 40013],
      ['a wrong secret', { secret: 'f'.repeat(32) }, 40125],
      ['no secret', { secret: undefined }, 40125],
      ['a wrong grant_type', { grant_type: 'authorization_code' }, 40002],
    ])('answers errcode for %s', async (_case, body, errcode) => {
      expect(await stableToken(body)).toEqual({ errcode, errmsg: expect.any(String) });
    });

    it('answers an injected fault for stable_token only, once', async () => {
      await t.app.inject({ method: 'POST', url: '/dev/faults', payload: { api: 'stable_token', errcode: 40164 } });
      expect((await stableToken()).errcode).toBe(40164);
      expect((await stableToken()).access_token).toEqual(expect.any(String));
    });
  });

  describe('POST /wxa/business/getuserphonenumber', () => {
    it('answers phone_info in WeChat’s shape for a code, once', async () => {
      const token = (await stableToken()).access_token!;
      const code = (await phoneCode({ user: 'alice', phoneNumber: '13800138000' })).json().code;
      expect(code).toMatch(/^[0-9a-f]{64}$/);
      expect(await phoneNumber(token, code)).toEqual({
        errcode: 0,
        errmsg: 'ok',
        phone_info: {
          phoneNumber: '13800138000',
          purePhoneNumber: '13800138000',
          countryCode: '86',
          watermark: { timestamp: Math.floor(t.clock.now() / 1000), appid: t.config.wechat.appId },
        },
      });
      expect((await phoneNumber(token, code)).errcode).toBe(40029);
    });

    it('puts the country code in phoneNumber for a number from outside mainland China', async () => {
      const token = (await stableToken()).access_token!;
      const code = (await phoneCode({ phoneNumber: '+852 51234567' })).json().code;
      expect((await phoneNumber(token, code)).phone_info).toMatchObject({ phoneNumber: '+852 51234567', purePhoneNumber: '51234567', countryCode: '852' });
    });

    it('gives every simulated user a number of their own, the same every time', async () => {
      const token = (await stableToken()).access_token!;
      const numberOf = async (user: string) => ((await phoneNumber(token, (await phoneCode({ user })).json().code)).phone_info as { purePhoneNumber: string }).purePhoneNumber;
      const [a1, a2, b] = [await numberOf('alice'), await numberOf('alice'), await numberOf('bob')];
      expect(a1).toMatch(/^138\d{8}$/);
      expect(a2).toBe(a1);
      expect(b).not.toBe(a1);
    });

    it('refuses a code older than 5 minutes with 40029', async () => {
      const token = (await stableToken()).access_token!;
      const code = (await phoneCode()).json().code;
      t.clock.advance(5 * MINUTE + 1);
      expect((await phoneNumber(token, code)).errcode).toBe(40029);
    });

    it.each([
      ['no access_token', undefined, 41001],
      ['something that is not a token', 'abc', 40014],
      ['a token it never issued', `86_${'A'.repeat(160)}`, 40001],
    ])('answers errcode for %s, before looking at the code', async (_case, token, errcode) => {
      const code = (await phoneCode()).json().code;
      expect((await phoneNumber(token, code)).errcode).toBe(errcode);
    });

    it('answers injected faults, 40001 included, for the phone API only', async () => {
      const token = (await stableToken()).access_token!;
      await t.app.inject({ method: 'POST', url: '/dev/faults', payload: { api: 'getuserphonenumber', errcode: 40001, times: 2 } });
      // Logins (jscode2session) are not affected by faults queued for the phone API.
      expect((await login(t.app)).skey).toEqual(expect.any(String));
      const code = (await phoneCode()).json().code;
      expect((await phoneNumber(token, code)).errcode).toBe(40001);
      expect((await phoneNumber(token, code)).errcode).toBe(40001);
      expect((await phoneNumber(token, code)).errcode).toBe(0);
    });
  });

  describe('POST /dev/codes', () => {
    it.each([['short'], ['has spaces in it, sixteen+'], ['x'.repeat(65)]])('refuses the unionid %j, which is not of WeChat’s shape, with 400', async (unionid) => {
      const response = await t.app.inject({ method: 'POST', url: '/dev/codes', payload: { user: 'wes', unionid } });
      expect(response.statusCode).toBe(400);
    });
  });

  describe('POST /dev/phone-codes', () => {
    it.each([['12345'], ['1380013800'], ['23800138000'], ['+86 2380013800'], ['+8613800138000'], ['+0 1234567'], ['phone']])('refuses the number %s with 400', async (phone) => {
      const response = await phoneCode({ phoneNumber: phone });
      expect(response.statusCode).toBe(400);
      expect(response.json().error.code).toBe('BAD_REQUEST');
    });
  });

  describe('unionid', () => {
    it('carries a simulated user’s unionid in every later login, and refuses to give the user another', async () => {
      const first = await login(t.app, 'uma');
      const code = (await t.app.inject({ method: 'POST', url: '/dev/codes', payload: { user: 'uma', unionid: 'oUnion-uma-00000000000' } })).json().code;
      const exchange = await t.app.inject({ url: `/sns/jscode2session?appid=${t.config.wechat.appId}&secret=${t.config.wechat.secret}&js_code=${code}&grant_type=authorization_code` });
      expect(exchange.json()).toMatchObject({ unionid: 'oUnion-uma-00000000000' });
      const again = await login(t.app, 'uma');
      expect(again.user.id).toBe(first.user.id);
      expect((await t.stores.users.get(first.user.id))?.unionid).toBe('oUnion-uma-00000000000');
      const other = await t.app.inject({ method: 'POST', url: '/dev/codes', payload: { user: 'uma', unionid: 'oUnion-else-0000000000' } });
      expect(other.statusCode).toBe(400);
    });

    it('logs two simulated users with one unionid (one person, two of the company’s apps) into one account', async () => {
      const codeFor = async (user: string) => (await t.app.inject({ method: 'POST', url: '/dev/codes', payload: { user, unionid: 'oUnion-vic-00000000000' } })).json().code;
      const a = (await t.app.inject({ method: 'POST', url: '/auth/login', payload: { code: await codeFor('vic-shop') } })).json();
      const b = (await t.app.inject({ method: 'POST', url: '/auth/login', payload: { code: await codeFor('vic-blog') } })).json();
      expect(a.isNewUser).toBe(true);
      expect(b.isNewUser).toBe(false);
      expect(b.user.id).toBe(a.user.id);
      expect(JSON.stringify([a, b])).not.toContain('oUnion-vic-00000000000');
    });
  });
});
