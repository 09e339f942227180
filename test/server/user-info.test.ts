import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { LoginResponse, UserInfoRequest, UserInfoResponse } from '../../typings/api';
import { bearer, login, testApp, testConfig, type TestApp } from './helpers';

describe('POST /auth/user-info', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.app.close());

  const userData = async (user: string) => (await t.app.inject({ method: 'POST', url: '/dev/user-data', payload: { user } })).json<UserInfoRequest>();
  const send = (skey: string, payload: UserInfoRequest) => t.app.inject({ method: 'POST', url: '/auth/user-info', headers: bearer(skey), payload });

  it('verifies and decrypts what the simulator hands out, and fills the empty nickname', async () => {
    const { skey } = await login(t.app, 'carol');
    const response = await send(skey, await userData('carol'));
    expect(response.statusCode).toBe(200);
    expect(response.json<UserInfoResponse>().user.nickname).toBe('carol');
  });

  it('never overwrites a nickname the user chose', async () => {
    const { skey } = await login(t.app, 'carol');
    await t.app.inject({ method: 'PUT', url: '/api/profile', headers: bearer(skey), payload: { nickname: 'Caz' } });
    expect((await send(skey, await userData('carol'))).json<UserInfoResponse>().user.nickname).toBe('Caz');
  });

  it('answers one generic 400 INVALID_USER_DATA for tampered rawData, signature, data or iv', async () => {
    const { skey } = await login(t.app, 'carol');
    const good = await userData('carol');
    const flip = (s: string) => (s[5] === 'A' ? `${s.slice(0, 5)}B${s.slice(6)}` : `${s.slice(0, 5)}A${s.slice(6)}`);
    const xorFirstByte = (b64: string) => {
      const bytes = Buffer.from(b64, 'base64');
      bytes[0] ^= 0x01;
      return bytes.toString('base64');
    };
    const bodies = new Set<string>();
    for (const bad of [
      { ...good, rawData: good.rawData.replace('carol', 'admin') },
      { ...good, signature: '0'.repeat(40) },
      { ...good, encryptedData: flip(good.encryptedData) },
      // CBC without a MAC lets an IV change pass through as a plaintext change; this one breaks
      // the JSON's opening brace. (The identity never comes from the payload, so other flips are harmless.)
      { ...good, iv: xorFirstByte(good.iv) },
      { ...good, encryptedData: 'not base64!' },
    ]) {
      const response = await send(skey, bad);
      expect(response.statusCode).toBe(400);
      bodies.add(response.body);
    }
    expect([...bodies]).toEqual(['{"error":{"code":"INVALID_USER_DATA","message":"the user data could not be verified"}}']);
  });

  it('takes the identity from the session: another user’s data does not verify', async () => {
    const { skey } = await login(t.app, 'carol');
    await login(t.app, 'dave');
    expect((await send(skey, await userData('dave'))).statusCode).toBe(400);
  });

  it('rejects data made for a newer session_key than this session holds', async () => {
    const old = await login(t.app, 'carol');
    await login(t.app, 'carol'); // WeChat issued a new session_key
    expect((await send(old.skey, await userData('carol'))).statusCode).toBe(400);
  });

  it('needs a session (401) and a complete body (400)', async () => {
    expect((await send('A'.repeat(43), { rawData: '', signature: '', encryptedData: '', iv: '' })).statusCode).toBe(401);
    const { skey } = await login(t.app, 'carol');
    const response = await t.app.inject({ method: 'POST', url: '/auth/user-info', headers: bearer(skey), payload: { rawData: '{}' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('BAD_REQUEST');
  });

  it('refuses the simulator’s data once it is more than 5 minutes old', async () => {
    const { skey } = await login(t.app, 'carol');
    const data = await userData('carol');
    t.clock.advance(5 * 60_000 + 1000);
    expect((await send(skey, data)).statusCode).toBe(400);
  });

  it('POST /dev/user-data answers 404 for a user who never logged in', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/dev/user-data', payload: { user: 'nobody' } });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('NOT_FOUND');
  });
});

describe('POST /auth/user-info checks what WeChat stamped and sent', () => {
  // A WeChat stand-in with a session_key the test knows, so that it can seal payloads itself.
  const SESSION_KEY = randomBytes(16).toString('base64');
  const APPID = 'wx0123456789abcdef';
  let t: TestApp;
  let skey: string;
  beforeEach(async () => {
    t = await testApp({
      config: testConfig({}, { WX_APPID: APPID, WX_SECRET: '0123456789abcdef0123456789abcdef' }),
      transport: async () => ({ status: 200, body: JSON.stringify({ openid: 'oKnownUser0000000000000000000', session_key: SESSION_KEY }) }),
    });
    const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { code: 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6' } });
    ({ skey } = login.json<LoginResponse>());
  });
  afterEach(() => t.app.close());

  /** What WeChat hands the client: rawData signed with session_key, the payload encrypted with it. */
  const sealed = (fields: Record<string, unknown>, timestampSeconds: number): UserInfoRequest => {
    const profile = { nickName: 'Known', gender: 0, language: 'zh_CN', city: '', province: '', country: '', avatarUrl: '', ...fields };
    const rawData = JSON.stringify(profile);
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-128-cbc', Buffer.from(SESSION_KEY, 'base64'), iv);
    const payload = JSON.stringify({ openId: 'oKnownUser0000000000000000000', ...profile, watermark: { timestamp: timestampSeconds, appid: APPID } });
    return {
      rawData,
      signature: createHash('sha1').update(rawData + SESSION_KEY).digest('hex'),
      encryptedData: Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]).toString('base64'),
      iv: iv.toString('base64'),
    };
  };
  const send = (payload: UserInfoRequest) => t.app.inject({ method: 'POST', url: '/auth/user-info', headers: bearer(skey), payload });
  const nowSeconds = () => Math.floor(t.clock.now() / 1000);

  it('accepts data stamped now and keeps a WeChat avatar URL, re-serialized', async () => {
    const response = await send(sealed({ avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132' }, nowSeconds()));
    expect(response.statusCode).toBe(200);
    expect(response.json<UserInfoResponse>().user).toMatchObject({ nickname: 'Known', avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/vi_32/Q0j4TwGTfTK/132' });
  });

  it.each([
    ['another host', 'https://attacker.example/track.png'],
    ['plain http', 'http://thirdwx.qlogo.cn/mmopen/a/132'],
    ['a look-alike host', 'https://thirdwx.qlogo.cn.attacker.example/a.png'],
    ['a script URL', 'javascript:alert(1)'],
    ['a number', 42],
  ])('does not store an avatarUrl from %s, and still fills the nickname', async (_case, avatarUrl) => {
    const response = await send(sealed({ avatarUrl }, nowSeconds()));
    expect(response.statusCode).toBe(200);
    expect(response.json<UserInfoResponse>().user).toMatchObject({ nickname: 'Known', avatarUrl: '' });
  });

  it('does not store a nickname the profile rules refuse', async () => {
    const response = await send(sealed({ nickName: 'adm\u202Ein' }, nowSeconds()));
    expect(response.json<UserInfoResponse>().user.nickname).toBe('');
  });

  it.each([
    ['stamped more than 5 minutes ago (a replay)', -5 * 60 - 2],
    ['stamped more than a minute in the future', 62],
  ])('refuses data %s with 400 INVALID_USER_DATA', async (_case, offsetSeconds) => {
    const response = await send(sealed({}, nowSeconds() + offsetSeconds));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('INVALID_USER_DATA');
    expect((await t.app.inject({ url: '/api/profile', headers: bearer(skey) })).json().user.nickname).toBe('');
  });

  it('accepts data 4 minutes old', async () => {
    expect((await send(sealed({}, nowSeconds() - 4 * 60))).statusCode).toBe(200);
  });
});
