import type { UserInfoRequest, UserInfoResponse } from '../../typings/api';
import { bearer, login, testApp, type TestApp } from './helpers';

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

  it('POST /dev/user-data answers 404 for a user who never logged in', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/dev/user-data', payload: { user: 'nobody' } });
    expect(response.statusCode).toBe(404);
    expect(response.json().error.code).toBe('NOT_FOUND');
  });
});
