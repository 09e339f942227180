/**
 * A logout sticks: nothing begun before it may call wx.login, store a session, emit `login` or send
 * with a session afterwards, whatever state it was in (waiting for a login, in line, in flight,
 * backing off). And it never gets in the way of the next login.
 */
import type { AuthError, Session } from '../../miniprogram/auth';
import { deferred, type FakeOutcome, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, makeAuth, rejectionOf, until, warmFake } from './helpers';

let fake: FakeWx;
beforeEach(() => (fake = warmFake()));
afterEach(expectPoolEmpty);

/** Everything the auth service did that a logout must have stopped, from a point on. */
function watch(auth: ReturnType<typeof makeAuth>) {
  const seen = { login: 0, logout: 0, sessionExpired: 0, loginFailed: 0 };
  for (const event of Object.keys(seen) as (keyof typeof seen)[]) auth.on(event, () => seen[event]++);
  return seen;
}

describe('calls begun before a logout', () => {
  test('a request waiting in line is never sent, ends CANCELLED, and logs no one in', async () => {
    const gate = deferred<FakeOutcome>();
    fake.route('/api/first', () => gate.promise);
    const auth = makeAuth(fake, { maxConcurrent: 1 });
    const seen = watch(auth);
    const first = auth.request({ url: '/api/first' });
    const queued = auth.request({ url: '/api/queued' });
    await until(() => fake.stats.inFlight === 1, 'the first request is in flight');

    const loggedOut = auth.logout();
    gate.resolve({ statusCode: 200, data: 'first' });

    await expect(first).resolves.toMatchObject({ data: 'first' }); // its own answer was already on its way
    expect((await rejectionOf(queued)).code).toBe('CANCELLED');
    await loggedOut;
    expect(fake.sentTo('/api/queued')).toHaveLength(0);
    expect(fake.stats.logins).toBe(0);
    expect(fake.storage.has('auth_session')).toBe(false);
    expect(seen).toEqual({ login: 0, logout: 1, sessionExpired: 0, loginFailed: 0 });
  });

  test('a request in flight answered 401 because the logout revoked its skey ends CANCELLED, without wx.login or sessionExpired', async () => {
    const answer = deferred<void>();
    fake.route('/api/slow', async (req) => {
      await answer.promise;
      return fake.isValid(req.skey!) ? { statusCode: 200, data: 'ok' } : { statusCode: 401, data: {} };
    });
    const auth = makeAuth(fake);
    const seen = watch(auth);
    const slow = auth.request({ url: '/api/slow' });
    await until(() => fake.stats.inFlight === 1, 'the request is in flight');

    await auth.logout(); // the server revokes skey-warm
    answer.resolve();

    expect((await rejectionOf(slow)).code).toBe('CANCELLED');
    expect(fake.sentTo('/api/slow')).toHaveLength(1);
    expect(fake.stats.logins).toBe(0);
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.has('auth_session')).toBe(false);
    expect(seen).toEqual({ login: 0, logout: 1, sessionExpired: 0, loginFailed: 0 });
  });

  test('a GET backing off after a network failure is not sent again and logs no one in when it wakes', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      fake.route('/api/feed', () => ({ fail: 'request:fail interrupted' }));
      const auth = makeAuth(fake, { retryDelay: 5000 });
      const seen = watch(auth);
      const feed = rejectionOf(auth.request({ url: '/api/feed' }));
      await jest.advanceTimersByTimeAsync(10);
      expect(fake.sentTo('/api/feed')).toHaveLength(1);

      auth.logout();
      await jest.advanceTimersByTimeAsync(60_000);

      expect((await feed).code).toBe('CANCELLED');
      expect(fake.sentTo('/api/feed')).toHaveLength(1);
      expect(fake.stats.logins).toBe(0);
      expect(seen.login).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  test('an app that logs out on sessionExpired stays logged out: no call renews the session behind its back', async () => {
    fake.expireAllSessions();
    const auth = makeAuth(fake);
    const seen = watch(auth);
    auth.on('sessionExpired', () => auth.logout());

    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => auth.request({ url: `/api/item/${i}` })));

    expect(outcomes.every((o) => o.status === 'rejected' && (o.reason as AuthError).code === 'CANCELLED')).toBe(true);
    expect(fake.stats.logins).toBe(0);
    expect(fake.stats.loginRequests).toBe(0);
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.has('auth_session')).toBe(false);
    expect(seen).toEqual({ login: 0, logout: 1, sessionExpired: 1, loginFailed: 0 });
    // The first wave of 10 was in flight with the dead skey; the 10 in line were never sent.
    expect(fake.sent.filter((r) => r.path.startsWith('/api/item/'))).toHaveLength(10);
  });

  test('ensureWechatSession begun before a logout ends CANCELLED instead of logging in after it', async () => {
    fake.behaviour.wechatSessionValid = false;
    const auth = makeAuth(fake);
    const check = rejectionOf(auth.ensureWechatSession());
    await auth.logout();

    expect((await check).code).toBe('CANCELLED');
    expect(fake.stats.checkSessions).toBe(1);
    expect(fake.stats.logins).toBe(0);
    expect(auth.getSession()).toBeNull();
  });
});

describe('a login in flight at logout', () => {
  test('a login listener that logs out (a blocked user, say) ends that login CANCELLED, with no session held', async () => {
    fake.storage.clear();
    const auth = makeAuth(fake);
    let loggedOut: Promise<void> | undefined;
    auth.on('login', () => (loggedOut = auth.logout()));

    const error = await rejectionOf(auth.login());
    await loggedOut;

    expect((error as AuthError).code).toBe('CANCELLED');
    expect(auth.getSession()).toBeNull();
    expect(fake.stats.logins).toBe(1);
  });

  test('releases its waiters at once with CANCELLED, and login() right after starts a fresh login that succeeds', async () => {
    fake.storage.clear();
    const code = deferred<void>();
    const login = fake.wx.login;
    fake.wx.login = (options) => void code.promise.then(() => login(options));
    const auth = makeAuth(fake);
    const seen = watch(auth);
    const launch = auth.ensureSession(); // what App.onLaunch starts
    const waiting = auth.request({ url: '/api/me' });

    auth.logout();
    const settledAtOnce = await Promise.race([
      Promise.allSettled([launch, waiting]),
      new Promise((resolve) => setTimeout(resolve, 0, 'still pending')),
    ]);
    expect(settledAtOnce).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ code: 'CANCELLED' }) },
      { status: 'rejected', reason: expect.objectContaining({ code: 'CANCELLED' }) },
    ]);

    fake.wx.login = login;
    const fresh = await auth.login();
    code.resolve(); // the launch login's wx.login answers only now

    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fresh.skey).toBe('skey-1');
    expect(auth.getSession()).toMatchObject({ skey: 'skey-1' });
    // The launch login's code was never exchanged: only the fresh login reached the server.
    expect(fake.sentTo('/auth/login')).toHaveLength(1);
    expect(fake.sentTo('/api/me')).toHaveLength(0);
    expect(seen).toEqual({ login: 1, logout: 1, sessionExpired: 0, loginFailed: 0 });
  });

  test('a login request already sent is aborted, and its answer never stored', async () => {
    fake.storage.clear();
    const answer = deferred<FakeOutcome>();
    fake.route('/auth/login', () => answer.promise);
    const auth = makeAuth(fake);
    const seen = watch(auth);
    const launch = rejectionOf(auth.ensureSession());
    await until(() => fake.stats.inFlight === 1, 'the login request is in flight');

    auth.logout();
    answer.resolve({ statusCode: 200, data: { skey: 'skey-late', expiresAt: Date.now() + 3600_000, user: {} } });

    expect((await launch).code).toBe('CANCELLED');
    expect(fake.stats.aborted).toBe(1);
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.has('auth_session')).toBe(false);
    expect(seen).toEqual({ login: 0, logout: 1, sessionExpired: 0, loginFailed: 0 });
  });
});

describe('logout itself', () => {
  test('when already logged out it emits nothing and sends nothing', async () => {
    fake.storage.clear();
    const auth = makeAuth(fake);
    const seen = watch(auth);

    await auth.logout();
    await auth.logout();

    expect(seen.logout).toBe(0);
    expect(fake.stats.requests).toBe(0);
  });

  test('with a login under way but no session yet it emits logout once, and tells no server', async () => {
    fake.storage.clear();
    const auth = makeAuth(fake);
    const seen = watch(auth);
    const launch = rejectionOf(auth.ensureSession());

    await auth.logout();
    await auth.logout();

    expect((await launch).code).toBe('CANCELLED');
    expect(seen.logout).toBe(1);
    expect(fake.sentTo('/auth/logout')).toHaveLength(0);
  });

  test('a listener that logs in again from the logout event gets a fresh session', async () => {
    const auth = makeAuth(fake);
    let relogin: Promise<Session<{ id: string }>> | undefined;
    auth.on('logout', () => {
      relogin = auth.login();
    });

    await auth.logout();

    await expect(relogin).resolves.toMatchObject({ skey: 'skey-1' });
    expect(auth.getSession()).toMatchObject({ skey: 'skey-1' });
  });
});
