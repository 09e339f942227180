import { isAuthError, type AuthError } from '../../miniprogram/auth';
import { createFakeWx, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, HOUR, makeAuth, rejectionOf, storeSession } from './helpers';

let fake: FakeWx;
beforeEach(() => {
  fake = createFakeWx();
});
afterEach(expectPoolEmpty);


describe('login', () => {
  test('concurrent login() calls share one wx.login and one login request', async () => {
    const auth = makeAuth(fake);
    const sessions = await Promise.all([auth.login(), auth.login(), auth.ensureSession()]);

    expect(new Set(sessions.map((s) => s.skey))).toEqual(new Set(['skey-1']));
    expect(fake.stats.logins).toBe(1);
    expect(fake.sentTo('/auth/login')).toHaveLength(1);
    expect(fake.sentTo('/auth/login')[0].data).toEqual({ code: 'code-1' });
  });

  test('the login request carries no skey and the code only in its body', async () => {
    storeSession(fake, 'skey-old', Date.now() - 1);
    const auth = makeAuth(fake);
    await auth.request({ url: '/api/me' });

    const [loginRequest] = fake.sentTo('/auth/login');
    expect(loginRequest.method).toBe('POST');
    expect(loginRequest.header.Authorization).toBeUndefined();
    expect(loginRequest.url).toBe('https://api.test/auth/login');
  });

  test('with the login endpoint down every waiting request rejects with LOGIN_FAILED, and the next call logs in', async () => {
    fake.route('/auth/login', () => ({ statusCode: 503, data: { error: { code: 'WECHAT_UNAVAILABLE', message: 'busy' } } }));
    const auth = makeAuth(fake);
    const failed: AuthError[] = [];
    auth.on('loginFailed', (e) => failed.push(e));

    const errors = await Promise.all(Array.from({ length: 20 }, (_, i) => rejectionOf(auth.request({ url: `/api/${i}` }))));

    expect(errors.every((e) => isAuthError(e, 'LOGIN_FAILED') && e.statusCode === 503)).toBe(true);
    expect((errors[0].data as { error: { code: string } }).error.code).toBe('WECHAT_UNAVAILABLE');
    expect(fake.stats.loginRequests).toBe(1);
    expect(failed).toHaveLength(1);
    expect(fake.sent.filter((r) => r.path.startsWith('/api/'))).toHaveLength(0);

    // No poisoned promise: once the server is back, the next call logs in.
    fake.route('/auth/login', () => ({ statusCode: 200, data: { skey: 'skey-new', expiresAt: Date.now() + HOUR, user: {} } }));
    fake.issueSession('skey-new');
    await expect(auth.request({ url: '/api/again' })).resolves.toMatchObject({ statusCode: 200 });
    expect(fake.stats.loginRequests).toBe(2);
  });

  test('a failing wx.login rejects with LOGIN_FAILED carrying the errMsg, and sends nothing', async () => {
    fake.behaviour.loginFails = 'login:fail system error';
    const auth = makeAuth(fake);
    const error = await rejectionOf(auth.login());

    expect(isAuthError(error, 'LOGIN_FAILED')).toBe(true);
    expect(error.message).toContain('login:fail system error');
    expect(error.cause).toEqual({ errMsg: 'login:fail system error' });
    expect(fake.stats.requests).toBe(0);
  });

  test('an unreachable login endpoint is a LOGIN_FAILED whose cause is the NETWORK error, sent once', async () => {
    fake.route('/auth/login', () => ({ fail: 'request:fail net::ERR_CONNECTION_REFUSED' }));
    const auth = makeAuth(fake);
    const error = await rejectionOf(auth.login());

    expect(error.code).toBe('LOGIN_FAILED');
    expect(isAuthError(error.cause, 'NETWORK')).toBe(true);
    expect(fake.stats.loginRequests).toBe(1);
  });

  // The likeliest server mistakes, each of which used to be stored and then cost a login per request.
  // Each body is made when its test runs: one dated at collection time would have aged by then.
  const bad: [string, () => unknown, RegExp][] = [
    ['no skey', () => ({ expiresAt: Date.now() + HOUR, user: {} }), /skey must be a non-empty string/],
    ['an empty skey', () => ({ skey: '', expiresAt: Date.now() + HOUR, user: {} }), /skey must be a non-empty string/],
    ['a numeric skey', () => ({ skey: 12345, expiresAt: Date.now() + HOUR, user: {} }), /skey must be a non-empty string/],
    ['an skey that would break the header', () => ({ skey: 'k\r\nX-Evil: 1', expiresAt: Date.now() + HOUR, user: {} }), /skey must be a non-empty string, visible ASCII/],
    ['an skey over 1 KB', () => ({ skey: 'k'.repeat(1025), expiresAt: Date.now() + HOUR, user: {} }), /skey must be a non-empty string, visible ASCII, at most 1024 characters/],
    ['no user', () => ({ skey: 'k', expiresAt: Date.now() + HOUR }), /user is missing/],
    ['a string expiresAt', () => ({ skey: 'k', expiresAt: 'tomorrow', user: {} }), /expiresAt must be a number/],
    ['expiresAt NaN', () => ({ skey: 'k', expiresAt: NaN, user: {} }), /expiresAt must be a number/],
    ['expiresAt in seconds (the JWT convention)', () => ({ skey: 'k', expiresAt: Math.floor(Date.now() / 1000) + 7200, user: {} }), /expiresAt must be epoch ms; \d+ looks like seconds/],
    ['expiresAt already past', () => ({ skey: 'k', expiresAt: Date.now() - 1000, user: {} }), /expiresAt is -\d+ s away \(device clock\), within expiryMargin/],
    ['expiresAt inside the 30 s safety margin', () => ({ skey: 'k', expiresAt: Date.now() + 20_000, user: {} }), /expiresAt is 20 s away \(device clock\), within expiryMargin/],
    ['an HTML page', () => '<html>oops</html>', /skey must be a non-empty string/],
    ['an empty body', () => '', /skey must be a non-empty string/],
  ];
  test.each(bad)('a login answer with %s is LOGIN_FAILED naming the field, and stores nothing', async (_, body, message) => {
    fake.route('/auth/login', () => ({ statusCode: 200, data: body() }));
    const auth = makeAuth(fake);
    const failures: AuthError[] = [];
    auth.on('loginFailed', (e) => failures.push(e));
    const error = await rejectionOf(auth.login());

    expect(error.code).toBe('LOGIN_FAILED');
    expect(error.message).toMatch(message);
    expect(error.message).toContain('POST https://api.test/auth/login: unusable login answer: ');
    expect(error.statusCode).toBe(200);
    expect(error.data).toBeUndefined(); // the body may hold an skey: kept out of anything that gets logged
    expect(failures).toEqual([error]);
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.size).toBe(0);
    expect(fake.stats.storageWrites).toBe(0);
  });

  test('an unusable login answer causes no storm: concurrent callers share one login, and each later call costs one', async () => {
    fake.route('/auth/login', () => ({ statusCode: 200, data: { skey: 'k', expiresAt: Math.floor(Date.now() / 1000) + 7200, user: {} } }));
    const auth = makeAuth(fake);

    const errors = await Promise.all(Array.from({ length: 5 }, (_, i) => rejectionOf(auth.request({ url: `/api/${i}` }))));
    expect(errors.every((e) => e.code === 'LOGIN_FAILED' && /looks like seconds/.test(e.message))).toBe(true);
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.loginRequests).toBe(1);

    for (let i = 0; i < 5; i++) expect((await rejectionOf(auth.request({ url: '/api/again' }))).code).toBe('LOGIN_FAILED');
    expect(fake.stats.logins).toBe(6);
    expect(fake.stats.loginRequests).toBe(6);
    expect(fake.sentTo('/api/again')).toHaveLength(0);
    await expect(auth.ready()).resolves.toBeNull();
  });

  test('an expiresAt that looks past on a phone whose clock runs a day fast is accepted once corrected by the Date header', async () => {
    const serverNow = Date.now() - 24 * HOUR; // the phone is a day ahead of the server
    fake.route('/auth/login', () => ({
      statusCode: 200,
      data: { skey: 'k', expiresAt: serverNow + 2 * HOUR, user: {} },
      header: { Date: new Date(serverNow).toUTCString() },
    }));
    fake.issueSession('k');
    const auth = makeAuth(fake);
    const session = await auth.login();

    expect(Math.abs(session.expiresAt - (Date.now() + 2 * HOUR))).toBeLessThan(2000);
    await auth.request({ url: '/api/me' });
    expect(fake.stats.logins).toBe(1);
  });

  test('an expiresAt that is fine on the phone\'s clock but inside the margin on the server\'s is refused', async () => {
    const serverNow = Date.now() + HOUR; // the phone is an hour behind the server
    fake.route('/auth/login', () => ({
      statusCode: 200,
      data: { skey: 'k', expiresAt: serverNow + 10_000, user: {} },
      header: { date: new Date(serverNow).toUTCString() },
    }));
    const auth = makeAuth(fake);

    expect((await rejectionOf(auth.login())).message).toMatch(/within expiryMargin/);
    expect(auth.getSession()).toBeNull();
  });

  test('a server whose every answer is "expired" gets one login and one retry per request, then SESSION_EXPIRED', async () => {
    fake.route('/api/me', () => ({ statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: '' } } }));
    const auth = makeAuth(fake);
    const error = await rejectionOf(auth.request({ url: '/api/me' }));

    expect(error.code).toBe('SESSION_EXPIRED');
    expect(error.statusCode).toBe(401);
    expect(fake.sentTo('/api/me')).toHaveLength(2);
    expect(fake.stats.logins).toBe(2); // the first session, then one renewal
  });

  test('the expiry detector can be replaced for servers that signal expiry differently', async () => {
    storeSession(fake, 'skey-old');
    fake.route('/api/legacy', (req) =>
      req.skey === 'skey-old' ? { statusCode: 200, data: { code: -1 } } : { statusCode: 200, data: { code: 0 } },
    );
    const auth = makeAuth(fake, { isSessionExpired: (r) => (r.data as { code: number }).code === -1 });
    const answer = await auth.request<{ code: number }>({ url: '/api/legacy' });

    expect(answer.data.code).toBe(0);
    expect(fake.stats.logins).toBe(1);
  });
});

describe('sessions', () => {
  test('a warm start with a valid stored session makes exactly one network call for one request', async () => {
    storeSession(fake, 'skey-warm');
    fake.issueSession('skey-warm');
    const auth = makeAuth(fake);
    const answer = await auth.request<{ skey: string }>({ url: '/api/me' });

    expect(answer.data.skey).toBe('skey-warm');
    expect(fake.stats.requests).toBe(1);
    expect(fake.stats.logins).toBe(0);
    expect(fake.stats.checkSessions).toBe(0);
  });

  test('ensureSession answers from the cache without any network call', async () => {
    storeSession(fake, 'skey-warm');
    const auth = makeAuth(fake);

    expect((await auth.ensureSession()).skey).toBe('skey-warm');
    expect(fake.stats.requests + fake.stats.logins).toBe(0);
  });

  test('a stored session inside the safety margin of its expiry counts as expired', async () => {
    storeSession(fake, 'skey-almost', Date.now() + 10_000);
    const auth = makeAuth(fake, { expiryMargin: 30_000 });

    expect((await auth.ensureSession()).skey).toBe('skey-1');
    expect(fake.stats.logins).toBe(1);
  });

  test('a session survives a restart: a new client reads it from storage', async () => {
    await makeAuth(fake).login();
    const restarted = makeAuth(fake);

    expect(restarted.getSession()).toMatchObject({ skey: 'skey-1', user: { id: 'u1' } });
    expect(JSON.parse(fake.storage.get('auth_session')!)).toMatchObject({ v: 1, skey: 'skey-1' });
  });

  test('updateUser replaces the cached user in memory and storage, and does nothing when logged out', async () => {
    const auth = makeAuth(fake);
    auth.updateUser({ id: 'ghost' });
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.size).toBe(0);

    await auth.login();
    auth.updateUser({ id: 'u1-renamed' });

    expect(auth.getSession()).toMatchObject({ skey: 'skey-1', user: { id: 'u1-renamed' } });
    expect(makeAuth(fake).getSession()).toMatchObject({ skey: 'skey-1', user: { id: 'u1-renamed' } });
    expect(fake.stats.requests).toBe(1);
  });

  test('expiresAt is moved onto the device clock when the phone clock is a day behind the server', async () => {
    const serverNow = Date.now() + 24 * HOUR;
    fake.behaviour.serverDate = new Date(serverNow).toUTCString();
    fake.route('/auth/login', () => ({ statusCode: 200, data: { skey: 'k', expiresAt: serverNow + HOUR, user: {} }, header: { Date: new Date(serverNow).toUTCString() } }));
    const auth = makeAuth(fake);
    const session = await auth.login();

    expect(Math.abs(session.expiresAt - (Date.now() + HOUR))).toBeLessThan(2000);
    // Without the correction this session would look valid for 25 hours.
    await auth.ensureSession();
    expect(fake.stats.logins).toBe(1);
  });

  test('ensureWechatSession logs in again only when wx.checkSession says WeChat\'s session is gone', async () => {
    storeSession(fake, 'skey-warm');
    const auth = makeAuth(fake);

    expect((await auth.ensureWechatSession()).skey).toBe('skey-warm');
    expect(fake.stats.logins).toBe(0);

    fake.behaviour.wechatSessionValid = false;
    expect((await auth.ensureWechatSession()).skey).toBe('skey-1');
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.checkSessions).toBe(2);
  });

  test('ordinary requests never call wx.checkSession', async () => {
    const auth = makeAuth(fake);
    await Promise.all([auth.request({ url: '/api/a' }), auth.request({ url: '/api/b' })]);
    await auth.request({ url: '/api/c' });

    expect(fake.stats.checkSessions).toBe(0);
  });

  test('ready() waits for the launch-time login, so a page never races App.onLaunch', async () => {
    const auth = makeAuth(fake);
    auth.ensureSession(); // what App.onLaunch does, without awaiting
    const session = await auth.ready();

    expect(session && session.skey).toBe('skey-1');
    expect(fake.stats.logins).toBe(1);
  });

  test('ready() settles with null when the launch-time login fails', async () => {
    fake.behaviour.loginFails = 'login:fail';
    const auth = makeAuth(fake);
    auth.ensureSession().catch(() => undefined);

    await expect(auth.ready()).resolves.toBeNull();
  });
});

describe('logout', () => {
  test('logout clears the session at once, tells the server with the old skey, and the next request logs in', async () => {
    const auth = makeAuth(fake);
    await auth.login();
    const events: string[] = [];
    auth.on('logout', () => events.push('logout'));

    const done = auth.logout();
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.has('auth_session')).toBe(false);
    expect(events).toEqual(['logout']);
    await done;

    expect(fake.sentTo('/auth/logout')[0].skey).toBe('skey-1');
    expect(fake.isValid('skey-1')).toBe(false);
    await auth.request({ url: '/api/me' });
    expect(fake.stats.logins).toBe(2);
  });

  test('logout resolves even when the server cannot be reached', async () => {
    const auth = makeAuth(fake);
    await auth.login();
    fake.route('/auth/logout', () => ({ fail: 'request:fail timeout' }));

    await expect(auth.logout()).resolves.toBeUndefined();
    expect(auth.getSession()).toBeNull();
  });

  test('a login that finishes after a logout is discarded and its waiters are cancelled', async () => {
    const auth = makeAuth(fake);
    const pending = auth.request({ url: '/api/me' });
    auth.logout();

    expect((await rejectionOf(pending)).code).toBe('CANCELLED');
    expect(auth.getSession()).toBeNull();
    expect(fake.sentTo('/api/me')).toHaveLength(0);
  });
});

describe('events', () => {
  test('login, sessionExpired and loginFailed reach their listeners until they unsubscribe', async () => {
    storeSession(fake, 'skey-old');
    const auth = makeAuth(fake);
    const seen: string[] = [];
    const offLogin = auth.on('login', (s) => seen.push(`login:${s.skey}`));
    auth.on('sessionExpired', () => seen.push('expired'));
    auth.on('loginFailed', (e) => seen.push(`failed:${e.code}`));

    await auth.request({ url: '/api/me' });
    offLogin();
    await auth.login();
    fake.behaviour.loginFails = 'login:fail';
    await auth.login().catch(() => undefined);

    expect(seen).toEqual(['expired', 'login:skey-1', 'failed:LOGIN_FAILED']);
  });

  test('a listener that throws does not break the login', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const auth = makeAuth(fake);
      auth.on('login', () => {
        throw new Error('listener bug');
      });
      const login = auth.login();
      // The listener's error is rethrown on a later turn, where App.onError sees it...
      await expect(jest.advanceTimersByTimeAsync(10)).rejects.toThrow('listener bug');
      // ...and the login itself went through.
      await expect(login).resolves.toMatchObject({ skey: 'skey-1' });
      expect(makeAuth(fake).getSession()).toMatchObject({ skey: 'skey-1' });
    } finally {
      jest.useRealTimers();
    }
  });
});
