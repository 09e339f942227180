import type { FastifyInstance } from 'fastify';
import { createAuth, isAuthError, type AuthClient } from '../../miniprogram/auth/index';
import { buildApp } from '../../server/app';
import { createNodeWx, type NodeWx } from '../../tools/node-wx';
import type { DevPhoneCodeResponse, OrdersResponse, PhoneBindResponse, ProfileResponse, User } from '../../typings/api';
import { testConfig } from '../server/helpers';

/**
 * The phone journey over real HTTP, with REQUIRE_PHONE=true: the mini-program's real auth service
 * logs in, orders answer 403 PHONE_REQUIRED, the page binds the number that the getPhoneNumber
 * button's code stands for (minted here by the simulator, as WeChat would hand it over), and
 * orders are served. The server talks to its simulated WeChat over its own socket, access token
 * included.
 */
describe('phone binding, end to end', () => {
  let app: FastifyInstance;
  let base: string;
  let wx: NodeWx;
  let auth: AuthClient<User>;

  beforeAll(async () => {
    app = await buildApp({ config: testConfig({ requirePhone: true }), log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    wx = createNodeWx({ server: base, user: 'e2e-phone' });
    auth = createAuth<User>({ baseURL: base, wx, timeout: 5000 });
  });
  afterAll(() => app.close());

  /** What `<button open-type="getPhoneNumber">` hands the page after the user agreed. */
  const phoneButtonCode = async () => {
    const response = await fetch(`${base}/dev/phone-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: 'e2e-phone', phoneNumber: '13800138000' }) });
    return ((await response.json()) as DevPhoneCodeResponse).code;
  };

  it('logs in to an account that must bind a phone', async () => {
    const session = await auth.login();
    expect(session.user).toMatchObject({ phone: null, phoneRequired: true });
  });

  it('gets 403 PHONE_REQUIRED for orders, without logging in again', async () => {
    const error = await auth.request<OrdersResponse>({ url: '/api/orders' }).catch((e: unknown) => e);
    expect(isAuthError(error, 'HTTP')).toBe(true);
    expect(error).toMatchObject({ statusCode: 403, data: { error: { code: 'PHONE_REQUIRED' } } });
    expect(wx.calls.login).toBe(1);
  });

  it('binds the phone: the answer and the session’s user carry the masked number', async () => {
    const { data } = await auth.request<PhoneBindResponse>({ url: '/auth/phone', method: 'POST', data: { code: await phoneButtonCode() } });
    expect(data.user).toMatchObject({ phone: '138****8000', phoneRequired: false });
    auth.updateUser(data.user);
    expect(auth.getSession()!.user.phone).toBe('138****8000');
  });

  it('then serves orders, and the profile shows the masked number', async () => {
    const orders = await auth.request<OrdersResponse>({ url: '/api/orders' });
    expect(orders.statusCode).toBe(200);
    expect(orders.data.orders.length).toBeGreaterThan(0);
    const profile = await auth.request<ProfileResponse>({ url: '/api/profile' });
    expect(profile.data.user.phone).toBe('138****8000');
    expect(JSON.stringify(profile.data)).not.toContain('13800138000');
  });

  it('answers a replayed phone code with 400 INVALID_PHONE_CODE and keeps the session (no re-login)', async () => {
    const code = await phoneButtonCode();
    await auth.request({ url: '/auth/phone', method: 'POST', data: { code } });
    const replay = await auth.request({ url: '/auth/phone', method: 'POST', data: { code } }).catch((e: unknown) => e);
    expect(replay).toMatchObject({ code: 'HTTP', statusCode: 400, data: { error: { code: 'INVALID_PHONE_CODE' } } });
    expect(wx.calls.login).toBe(1);
  });
});
