import { createAuth, isAuthError, type AuthError } from '../../miniprogram/auth';
import { BASE_URL, deferred, type FakeOutcome, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, makeAuth, rejectionOf, warmFake } from './helpers';

let fake: FakeWx;
beforeEach(() => (fake = warmFake()));
afterEach(expectPoolEmpty);


describe('request', () => {
  test('an authenticated request carries the skey only in the Authorization header', async () => {
    const auth = makeAuth(fake);
    await auth.request({ url: '/api/orders?page=2', method: 'POST', data: { note: 'hi' }, header: { 'X-Trace': 't1' } });

    const [sent] = fake.sent;
    expect(sent.header).toEqual({ 'X-Trace': 't1', Authorization: 'Bearer skey-warm' });
    expect(sent.url).toBe(`${BASE_URL}/api/orders?page=2`);
    expect(sent.url).not.toContain('skey-warm');
    expect(JSON.stringify(sent.data)).not.toContain('skey-warm');
  });

  test('a non-2xx answer rejects with an HTTP error carrying status, body, method and URL', async () => {
    fake.route('/api/broken', () => ({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } }));
    const auth = makeAuth(fake);
    const error = await rejectionOf(auth.request({ url: '/api/broken' }));

    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AuthError');
    expect(error.code).toBe('HTTP');
    expect(error.statusCode).toBe(500);
    expect(error.data).toEqual({ error: { code: 'INTERNAL', message: 'boom' } });
    expect(error.message).toBe(`GET ${BASE_URL}/api/broken: HTTP 500`);
    expect(fake.sentTo('/api/broken')).toHaveLength(1);
  });

  test('a public request (auth: false) neither waits for nor triggers a login', async () => {
    fake.storage.clear();
    const auth = makeAuth(fake);
    const answer = await auth.request({ url: '/public', auth: false });

    expect(answer.data).toEqual({ public: true });
    expect(fake.stats.logins).toBe(0);
    expect(fake.sent[0].header.Authorization).toBeUndefined();
  });

  test('the global wx is looked up when a call runs, not when the client is created', async () => {
    const auth = createAuth({ baseURL: BASE_URL });
    (globalThis as { wx?: unknown }).wx = fake.wx;
    try {
      await expect(auth.request({ url: '/api/me' })).resolves.toMatchObject({ statusCode: 200 });
      expect(fake.stats.requests).toBe(1);
    } finally {
      delete (globalThis as { wx?: unknown }).wx;
    }
  });

  test('uploadFile attaches the skey, parses the JSON answer and heals an expired session', async () => {
    fake.expireAllSessions();
    const auth = makeAuth(fake);
    const answer = await auth.uploadFile<{ skey: string }>({ url: '/api/avatar', filePath: 'wxfile://tmp/a.png', name: 'file' });

    expect(answer.data.skey).toBe('skey-1');
    expect(fake.stats.uploads).toBe(2);
    expect(fake.sentTo('/api/avatar').map((r) => r.skey)).toEqual(['skey-warm', 'skey-1']);
    expect(fake.stats.logins).toBe(1);
  });

  test('an upload hit by a network failure is not sent again', async () => {
    fake.route('/api/avatar', () => ({ fail: 'uploadFile:fail socket closed' }));
    const auth = makeAuth(fake);

    expect((await rejectionOf(auth.uploadFile({ url: '/api/avatar', filePath: 'f', name: 'file' }))).code).toBe('NETWORK');
    expect(fake.stats.uploads).toBe(1);
  });
});

describe('network failures', () => {
  test('a POST hit by a network failure is sent exactly once and rejects with NETWORK', async () => {
    fake.route('/api/pay', () => ({ fail: 'request:fail net::ERR_CONNECTION_RESET' }));
    const auth = makeAuth(fake);
    const error = await rejectionOf(auth.request({ url: '/api/pay', method: 'POST', data: { amount: 1 } }));

    expect(isAuthError(error, 'NETWORK')).toBe(true);
    expect(error.cause).toEqual({ errMsg: 'request:fail net::ERR_CONNECTION_RESET' });
    expect(fake.sentTo('/api/pay')).toHaveLength(1);
  });

  test('a GET is retried after network failures and succeeds once the network is back', async () => {
    let calls = 0;
    fake.route('/api/feed', () => (++calls < 3 ? { fail: 'request:fail interrupted' } : { statusCode: 200, data: 'fresh' }));
    const auth = makeAuth(fake);

    await expect(auth.request({ url: '/api/feed' })).resolves.toMatchObject({ data: 'fresh' });
    expect(fake.sentTo('/api/feed')).toHaveLength(3);
  });

  test('a GET gives up after the configured number of retries', async () => {
    fake.route('/api/feed', () => ({ fail: 'request:fail' }));
    const auth = makeAuth(fake, { retries: 1 });

    expect((await rejectionOf(auth.request({ url: '/api/feed' }))).code).toBe('NETWORK');
    expect(fake.sentTo('/api/feed')).toHaveLength(2);
  });

  test('a retry waits out its backoff without holding a request slot', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      let calls = 0;
      fake.route('/api/flaky', () => (++calls === 1 ? { fail: 'request:fail' } : { statusCode: 200, data: 'ok' }));
      const auth = makeAuth(fake, { maxConcurrent: 1, retryDelay: 10_000 });
      const flaky = auth.request({ url: '/api/flaky' });
      let otherDone = false;
      const other = auth.request({ url: '/api/other' }).then(() => (otherDone = true));
      await jest.advanceTimersByTimeAsync(100);

      // Still in its 10 s backoff, yet the only slot served the other request.
      expect(otherDone).toBe(true);
      expect(fake.sentTo('/api/flaky')).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(10_000);
      await expect(flaky).resolves.toMatchObject({ data: 'ok' });
      await other;
      expect(fake.sentTo('/api/flaky')).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('timeouts and cancellation', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
  afterEach(() => jest.useRealTimers());

  test('a request with no answer within timeout aborts its task and rejects with TIMEOUT', async () => {
    fake.route('/api/slow', () => 'hang');
    const auth = makeAuth(fake, { timeout: 5000 });
    const outcome = rejectionOf(auth.request({ url: '/api/slow' }));
    await jest.advanceTimersByTimeAsync(4999);
    expect(fake.stats.aborted).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;

    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('GET https://api.test/api/slow');
    expect(fake.stats.aborted).toBe(1);
    expect(fake.stats.inFlight).toBe(0);
  });

  test('a timed-out GET is not retried: the server may still be working on it', async () => {
    fake.route('/api/slow', () => 'hang');
    const auth = makeAuth(fake);
    const outcome = rejectionOf(auth.request({ url: '/api/slow', timeout: 100 }));
    await jest.advanceTimersByTimeAsync(1000);

    expect((await outcome).code).toBe('TIMEOUT');
    expect(fake.sentTo('/api/slow')).toHaveLength(1);
  });

  // Timeout wordings from public reports of real devices (Android cronet and HttpURLConnection, iOS
  // in three languages, DevTools) and WeChat's network guide; then failures that are not timeouts.
  const timeouts = [
    'request:fail timeout',
    'request:fail socket time out :3000',
    'request:fail socket time out timeout:6000',
    'request:fail socket timeout',
    'request:fail fail:time out',
    'request:fail errcode:-118 cronet_error_code:-118 error_msg:net::ERR_CONNECTION_TIMED_OUT',
    'request:fail -7:net::ERR_TIMED_OUT',
    'request:fail net::ERR_CONNECTION_TIMED_OUT',
    'request:fail The request timed out.',
    'request:fail 请求超时。',
    'request:fail 要求逾時。',
  ];
  const networkFailures = [
    'request:fail interrupted',
    'request:fail net::ERR_CONNECTION_RESET',
    'request:fail errcode:-101 cronet_error_code:-101 error_msg:net::ERR_CONNECTION_RESET',
    'request:fail errcode:10011 cronet_error_code:0 error_msg:network change, cancel all task',
    'request:fail ssl hand shake error',
    'request:fail 似乎已断开与互联网的连接。',
  ];
  test.each([...timeouts.map((m) => [m, 'TIMEOUT', 1] as const), ...networkFailures.map((m) => [m, 'NETWORK', 3] as const)])(
    'WeChat\'s "%s" is %s, and a GET is sent %i time(s)',
    async (errMsg, code, sends) => {
      fake.route('/api/flaky', () => ({ fail: errMsg }));
      const auth = makeAuth(fake);
      const outcome = rejectionOf(auth.request({ url: '/api/flaky' }));
      await jest.advanceTimersByTimeAsync(100);
      const error = await outcome;

      expect(error.code).toBe(code);
      expect(error.message).toBe(`GET https://api.test/api/flaky: ${errMsg}`);
      expect(fake.sentTo('/api/flaky')).toHaveLength(sends);
    },
  );

  test('WeChat\'s "uploadFile:fail timeout" is TIMEOUT', async () => {
    fake.route('/api/avatar', () => ({ fail: 'uploadFile:fail timeout' }));
    const auth = makeAuth(fake);
    const outcome = rejectionOf(auth.uploadFile({ url: '/api/avatar', filePath: 'f', name: 'file' }));
    await jest.advanceTimersByTimeAsync(10);

    expect((await outcome).code).toBe('TIMEOUT');
    expect(fake.stats.uploads).toBe(1);
  });

  test('requests default to a 10 s timeout and uploads to WeChat\'s 60 s, and wx is given the same figure', async () => {
    fake.route('/api/slow', () => 'hang');
    fake.route('/api/avatar', () => 'hang');
    const auth = makeAuth(fake);
    const request = rejectionOf(auth.request({ url: '/api/slow' }));
    const upload = rejectionOf(auth.uploadFile({ url: '/api/avatar', filePath: 'f', name: 'file' }));
    await jest.advanceTimersByTimeAsync(10_000);
    expect((await request).code).toBe('TIMEOUT');
    expect(fake.stats.aborted).toBe(1);

    await jest.advanceTimersByTimeAsync(49_999);
    expect(fake.stats.aborted).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect((await upload).message).toBe('POST https://api.test/api/avatar: no answer within 60000 ms');
    expect(fake.sentTo('/api/slow')[0].timeout).toBe(10_000);
    expect(fake.sentTo('/api/avatar')[0].timeout).toBe(60_000);
  });

  test('a call\'s timeout covers its wait for a login: it ends TIMEOUT then, and is never sent when the login lands', async () => {
    fake.storage.clear();
    const login = fake.wx.login;
    fake.wx.login = (options) => void setTimeout(() => login(options), 8000);
    const auth = makeAuth(fake, { timeout: 20_000 });
    const outcome = rejectionOf(auth.request({ url: '/api/me', timeout: 5000 }));
    await jest.advanceTimersByTimeAsync(4999);
    expect(fake.stats.requests).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    const error = await outcome;

    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('GET https://api.test/api/me: no session within 5000 ms');
    await jest.advanceTimersByTimeAsync(10_000);
    expect(auth.getSession()).toMatchObject({ skey: 'skey-1' }); // the login went on for everyone else
    expect(fake.sentTo('/api/me')).toHaveLength(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('the time spent waiting for a login is taken from the same attempt\'s timeout', async () => {
    fake.storage.clear();
    const login = fake.wx.login;
    fake.wx.login = (options) => void setTimeout(() => login(options), 3000);
    fake.route('/api/me', () => 'hang');
    const auth = makeAuth(fake);
    const outcome = rejectionOf(auth.request({ url: '/api/me', timeout: 5000 }));
    await jest.advanceTimersByTimeAsync(3010);
    expect(fake.sentTo('/api/me')).toHaveLength(1);
    expect(fake.sentTo('/api/me')[0].timeout).toBeLessThanOrEqual(2000);
    await jest.advanceTimersByTimeAsync(1990);

    expect((await outcome).code).toBe('TIMEOUT');
    expect(fake.stats.aborted).toBe(1);
  });

  test('a wx.login that never answers: the request ends TIMEOUT at its own timeout and the login ends LOGIN_FAILED, nothing hangs', async () => {
    fake.storage.clear();
    fake.wx.login = () => undefined;
    const auth = makeAuth(fake, { timeout: 1000 });
    const loginFailures: AuthError[] = [];
    auth.on('loginFailed', (e) => loginFailures.push(e));
    const outcome = rejectionOf(auth.request({ url: '/api/me' }));
    await jest.advanceTimersByTimeAsync(1000);
    const error = await outcome;

    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toBe('GET https://api.test/api/me: no session within 1000 ms');
    expect(loginFailures.map((e) => e.code)).toEqual(['LOGIN_FAILED']);
    expect(isAuthError(loginFailures[0].cause, 'TIMEOUT')).toBe(true);
    expect(fake.stats.requests).toBe(0);
  });

  test('aborting a request in flight aborts its task and rejects with CANCELLED', async () => {
    fake.route('/api/slow', () => 'hang');
    const auth = makeAuth(fake);
    const call = auth.request({ url: '/api/slow' });
    await jest.advanceTimersByTimeAsync(1);
    call.abort();

    expect((await rejectionOf(call)).code).toBe('CANCELLED');
    expect(fake.stats.aborted).toBe(1);
  });

  test('aborting a call that has already answered changes nothing: its answer stands, no task is aborted, no timer is left', async () => {
    const auth = makeAuth(fake);
    const call = auth.request({ url: '/api/me' });
    await jest.advanceTimersByTimeAsync(10);
    await expect(call).resolves.toMatchObject({ statusCode: 200 });

    call.abort();

    await expect(call).resolves.toMatchObject({ statusCode: 200 });
    expect(fake.stats.aborted).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a queued request cancelled through its signal is never sent and frees its place in line', async () => {
    const gate = deferred<FakeOutcome>();
    fake.route('/api/first', () => gate.promise);
    const auth = makeAuth(fake, { maxConcurrent: 1 });
    const controller = new AbortController();
    const first = auth.request({ url: '/api/first' });
    const queued = auth.request({ url: '/api/queued', signal: controller.signal });
    const third = auth.request({ url: '/api/third' });
    await jest.advanceTimersByTimeAsync(1);
    controller.abort();
    expect((await rejectionOf(queued)).code).toBe('CANCELLED');

    gate.resolve({ statusCode: 200, data: 1 });
    await jest.advanceTimersByTimeAsync(10);
    await Promise.all([first, third]);
    expect(fake.sentTo('/api/queued')).toHaveLength(0);
    expect(fake.sent.map((r) => r.path)).toEqual(['/api/first', '/api/third']);
  });

  test('a request whose signal is already aborted rejects at once and sends nothing', async () => {
    const auth = makeAuth(fake);
    const error = await rejectionOf(auth.request({ url: '/api/me', signal: AbortSignal.abort() }));

    expect(error.code).toBe('CANCELLED');
    expect(fake.stats.requests).toBe(0);
  });

  test('a request cancelled while it waits for a login rejects at once; the login goes on for others', async () => {
    fake.storage.clear();
    const auth = makeAuth(fake);
    const cancelled = auth.request({ url: '/api/a' });
    const kept = auth.request({ url: '/api/b' });
    cancelled.abort();
    expect((await rejectionOf(cancelled)).code).toBe('CANCELLED');
    await jest.advanceTimersByTimeAsync(10);

    await expect(kept).resolves.toMatchObject({ statusCode: 200 });
    expect(fake.sent.map((r) => r.path)).toEqual(['/auth/login', '/api/b']);
  });

  test('a call aborted during its retry backoff never starts a login, and its backoff timer is cleared', async () => {
    fake.route('/api/feed', () => ({ fail: 'request:fail interrupted' }));
    fake.route('/api/other', () => ({ statusCode: 401, data: {} }));
    fake.behaviour.loginFails = 'login:fail';
    const auth = makeAuth(fake, { retryDelay: 10_000 });
    const feed = auth.request({ url: '/api/feed' });
    await jest.advanceTimersByTimeAsync(10);
    // Meanwhile another call's 401 clears the session and its renewal fails: no session, no login under way.
    const other = rejectionOf(auth.request({ url: '/api/other' }));
    await jest.advanceTimersByTimeAsync(10);
    expect((await other).code).toBe('LOGIN_FAILED');
    expect(auth.getSession()).toBeNull();
    const loginsBefore = fake.stats.logins;

    feed.abort();
    expect((await rejectionOf(feed)).code).toBe('CANCELLED');
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(fake.stats.logins).toBe(loginsBefore);
    expect(fake.sentTo('/api/feed')).toHaveLength(1);
  });

  test('a call aborted while it waits for a renewal rejects at once, and starts no login when that renewal fails', async () => {
    fake.expireAllSessions();
    const loginAnswer = deferred<FakeOutcome>();
    fake.route('/auth/login', () => loginAnswer.promise);
    const auth = makeAuth(fake);
    const call = auth.request({ url: '/api/me' });
    await jest.advanceTimersByTimeAsync(10);
    expect(fake.stats.logins).toBe(1); // renewing after the 401

    call.abort();
    expect((await rejectionOf(call)).code).toBe('CANCELLED');
    loginAnswer.resolve({ statusCode: 503, data: {} });
    await jest.advanceTimersByTimeAsync(60_000);

    expect(fake.stats.logins).toBe(1);
    expect(fake.sentTo('/api/me')).toHaveLength(1);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('a call aborted in the same turn its session arrives is never sent', async () => {
    fake.storage.clear();
    const auth = makeAuth(fake);
    const call = auth.request({ url: '/api/me' });
    // Runs right after the call's own reaction to the login: between two of its states.
    auth.ensureSession().then(() => call.abort());
    await jest.advanceTimersByTimeAsync(10);

    expect((await rejectionOf(call)).code).toBe('CANCELLED');
    expect(fake.sentTo('/api/me')).toHaveLength(0);
    expect(fake.stats.requests).toBe(1); // the login request only
  });

  test('an aborted call leaves no timer behind, in line or in flight', async () => {
    fake.route('/api/slow', () => 'hang');
    const auth = makeAuth(fake, { maxConcurrent: 1 });
    const inFlight = auth.request({ url: '/api/slow' });
    const inLine = auth.request({ url: '/api/slow' });
    await jest.advanceTimersByTimeAsync(10);
    inLine.abort();
    inFlight.abort();

    expect((await rejectionOf(inLine)).code).toBe('CANCELLED');
    expect((await rejectionOf(inFlight)).code).toBe('CANCELLED');
    expect(jest.getTimerCount()).toBe(0);
    expect(fake.sentTo('/api/slow')).toHaveLength(1);
  });
});
