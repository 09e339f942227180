import { isAuthError, type AuthError } from '../../miniprogram/auth';
import type { FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, makeAuth, rejectionOf, warmFake } from './helpers';

let fake: FakeWx;
beforeEach(() => {
  fake = warmFake();
});
afterEach(expectPoolEmpty);

/** The server's error envelope. */
const envelope = (statusCode: number, code: string, message: string) => ({ statusCode, data: { error: { code, message } } });

/** The operator's block as the server carries it out: every session ends, and logins answer 403 USER_BLOCKED. */
function block() {
  fake.expireAllSessions();
  fake.route('/auth/login', () => envelope(403, 'USER_BLOCKED', 'this account has been blocked by the service operator; contact its support'));
}

/** Whether an error is the block: the login refused with the server's USER_BLOCKED, its answer kept. */
const namesTheBlock = (error: AuthError) =>
  isAuthError(error, 'LOGIN_FAILED') && error.statusCode === 403 && (error.data as { error?: { code?: string } }).error?.code === 'USER_BLOCKED';

describe('a user blocked while the app runs', () => {
  test('50 requests in flight at the block cost at most 1 renewal login, and every one ends with the block’s error', async () => {
    const auth = makeAuth(fake);
    const calls = Array.from({ length: 50 }, (_, i) => rejectionOf(auth.request({ url: `/api/item/${i}` })));
    // Before any answer: the fake answers on the next timer turn.
    block();
    const errors = await Promise.all(calls);

    expect(fake.stats.logins).toBeLessThanOrEqual(1);
    expect(fake.stats.loginRequests).toBeLessThanOrEqual(1);
    expect(errors.filter(namesTheBlock)).toHaveLength(50);
    // No request went out twice, and none after the refusal.
    for (let i = 0; i < 50; i++) expect(fake.sentTo(`/api/item/${i}`).length).toBeLessThanOrEqual(1);
    expect(auth.getSession()).toBeNull();
  });

  test('after the refusal, calls end with the same error and start no wx.login until the app logs in again', async () => {
    const auth = makeAuth(fake);
    block();
    await rejectionOf(auth.request({ url: '/api/a' }));
    expect(fake.stats.logins).toBe(1);

    const later = await Promise.all(Array.from({ length: 20 }, (_, i) => rejectionOf(auth.request({ url: `/api/later/${i}` }))));
    expect(later.every(namesTheBlock)).toBe(true);
    expect(namesTheBlock(await rejectionOf(auth.ensureSession()))).toBe(true);
    expect(fake.stats.logins).toBe(1);
    expect(fake.sentTo('/api/later/0')).toHaveLength(0);

    // The app asks (the user taps 登录 again, after the operator lifted the block).
    fake.route('/auth/login', () => fake.loginAnswer());
    const session = await auth.login();
    expect(session.skey).toMatch(/^skey-/);
    expect(fake.stats.logins).toBe(2);
    expect((await auth.request({ url: '/api/after' })).statusCode).toBe(200);
  });

  test('a session that slipped through the block gets the server’s 403 USER_BLOCKED on its request, and no login at all', async () => {
    fake.route('/api/profile', () => envelope(403, 'USER_BLOCKED', 'blocked'));
    const auth = makeAuth(fake);
    const errors = await Promise.all(Array.from({ length: 10 }, () => rejectionOf(auth.request({ url: '/api/profile' }))));
    expect(errors.every((e) => isAuthError(e, 'HTTP') && e.statusCode === 403 && (e.data as { error: { code: string } }).error.code === 'USER_BLOCKED')).toBe(true);
    expect(fake.stats.logins).toBe(0);
  });
});
