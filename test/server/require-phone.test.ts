/**
 * REQUIRE_PHONE=true: business routes (orders) answer 403 PHONE_REQUIRED until the user has
 * bound a phone; what an incomplete account needs in order to complete itself stays open.
 */
import type { AvatarUploadResponse, LoginResponse, User } from '../../typings/api';
import { ConfigError, loadConfig } from '../../server/config';
import { SMALL_PNG as PNG } from '../support/images';
import { bearer, login, testApp, type TestApp } from './helpers';

describe('REQUIRE_PHONE', () => {
  it('is off unless set, and reads true/false/1/0 only', () => {
    const env = { WX_MODE: 'simulated' };
    expect(loadConfig(env).requirePhone).toBe(false);
    expect(loadConfig({ ...env, REQUIRE_PHONE: 'true' }).requirePhone).toBe(true);
    expect(loadConfig({ ...env, REQUIRE_PHONE: '0' }).requirePhone).toBe(false);
    expect(() => loadConfig({ ...env, REQUIRE_PHONE: 'yes please' })).toThrow(ConfigError);
  });

  describe('off (the default)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await testApp();
    });
    afterAll(() => t.app.close());

    it('serves orders to a user without a phone, and never asks for one', async () => {
      const { skey, user } = await login(t.app, 'free');
      expect(user.phoneRequired).toBe(false);
      expect((await t.app.inject({ url: '/api/orders', headers: bearer(skey) })).statusCode).toBe(200);
    });
  });

  describe('on', () => {
    let t: TestApp;
    let base: string;
    let session: LoginResponse;
    beforeAll(async () => {
      t = await testApp({ config: { requirePhone: true } });
      base = await t.app.listen({ host: '127.0.0.1', port: 0 });
      session = await login(t.app, 'gated');
    });
    afterAll(() => t.app.close());

    const orders = () => t.app.inject({ url: '/api/orders', headers: bearer(session.skey) });

    it('tells the mini-program at login that this user must bind a phone', () => {
      expect(session.user).toMatchObject({ phone: null, phoneRequired: true });
    });

    it('answers orders with 403 PHONE_REQUIRED in the envelope', async () => {
      const response = await orders();
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ error: { code: 'PHONE_REQUIRED', message: expect.any(String) } });
    });

    it('still answers 401, not 403, without a session: logging in comes first', async () => {
      expect((await t.app.inject({ url: '/api/orders' })).statusCode).toBe(401);
    });

    it('keeps session, profile, avatar and logging in open to the account without a phone', async () => {
      expect((await t.app.inject({ url: '/auth/session', headers: bearer(session.skey) })).statusCode).toBe(200);
      expect((await t.app.inject({ url: '/api/profile', headers: bearer(session.skey) })).statusCode).toBe(200);
      const form = new FormData();
      form.append('file', new Blob([PNG], { type: 'image/png' }), 'a.png');
      const upload = await fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(session.skey), body: form });
      expect(upload.status).toBe(200);
      const { avatarUrl } = (await upload.json()) as AvatarUploadResponse;
      const saved = await t.app.inject({ method: 'PUT', url: '/api/profile', headers: bearer(session.skey), payload: { nickname: '小明', avatarUrl } });
      expect(saved.json<{ user: User }>().user).toMatchObject({ profileComplete: true, phoneRequired: true });
      expect((await login(t.app, 'gated')).user.id).toBe(session.user.id);
    });

    it('serves orders once the phone is bound, and says so in the user', async () => {
      const code = (await t.app.inject({ method: 'POST', url: '/dev/phone-codes', payload: { user: 'gated' } })).json<{ code: string }>().code;
      const bound = await t.app.inject({ method: 'POST', url: '/auth/phone', headers: bearer(session.skey), payload: { code } });
      expect(bound.statusCode).toBe(200);
      expect(bound.json<{ user: User }>().user).toMatchObject({ phone: expect.stringMatching(/^138\*{4}\d{4}$/), phoneRequired: false });
      expect((await orders()).statusCode).toBe(200);
      expect((await login(t.app, 'gated')).user.phoneRequired).toBe(false);
    });
  });
});
