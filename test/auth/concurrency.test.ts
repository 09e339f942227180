import type { AuthError } from '../../miniprogram/auth';
import { createFakeWx, deferred, type FakeOutcome, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, makeAuth, rejectionOf, storeSession, until } from './helpers';

let fake: FakeWx;
beforeEach(() => {
  fake = createFakeWx();
});
afterEach(expectPoolEmpty);

const fifty = <T>(make: (i: number) => Promise<T>) => Promise.all(Array.from({ length: 50 }, (_, i) => make(i)));

describe('many requests at once', () => {
  test('50 concurrent requests with no session cost one wx.login and one login request, and keep at most 10 in flight', async () => {
    const auth = makeAuth(fake);
    const results = await fifty((i) => auth.request<{ skey: string }>({ url: `/api/item/${i}` }));

    expect(results).toHaveLength(50);
    expect(results.every((r) => r.statusCode === 200 && r.data.skey === 'skey-1')).toBe(true);
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.loginRequests).toBe(1);
    expect(fake.stats.requests).toBe(51);
    expect(fake.stats.peakInFlight).toBeLessThanOrEqual(10);
  });

  test('50 concurrent requests on a session the server expired cost one login, repeat each request at most once, and all succeed', async () => {
    storeSession(fake, 'skey-old');
    const auth = makeAuth(fake);
    const results = await fifty((i) => auth.request({ url: `/api/item/${i}` }));

    expect(results.every((r) => r.statusCode === 200)).toBe(true);
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.loginRequests).toBe(1);
    // At most the 10 already in flight are wasted: 10 + 1 login + 50.
    expect(fake.stats.requests).toBeLessThanOrEqual(61);
    for (let i = 0; i < 50; i++) expect(fake.sentTo(`/api/item/${i}`).length).toBeLessThanOrEqual(2);
    expect(fake.sent.filter((r) => r.skey === 'skey-old')).toHaveLength(10);
    expect(fake.stats.peakInFlight).toBeLessThanOrEqual(10);
  });

  test('a request waiting in line sends the skey that is current when it leaves the line', async () => {
    storeSession(fake, 'skey-old');
    const auth = makeAuth(fake, { maxConcurrent: 1 });
    const [first, second] = await Promise.all([auth.request({ url: '/api/a' }), auth.request({ url: '/api/b' })]);

    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    // /api/b waited behind /api/a, whose 401 renewed the session: b never used the dead skey.
    expect(fake.sentTo('/api/b').map((r) => r.skey)).toEqual(['skey-1']);
    expect(fake.stats.logins).toBe(1);
  });

  test('a login is never starved of a slot by the requests waiting for it', async () => {
    storeSession(fake, 'skey-old');
    const auth = makeAuth(fake, { maxConcurrent: 1 });
    const results = await fifty((i) => auth.request({ url: `/api/item/${i}` }));

    expect(results).toHaveLength(50);
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.requests).toBe(1 + 1 + 50);
    expect(fake.stats.peakInFlight).toBe(1);
  });

  test('a late 401 for an older skey neither clears the newer session nor causes another login', async () => {
    storeSession(fake, 'skey-old');
    const slow = deferred<FakeOutcome>();
    fake.route('/api/slow', () => slow.promise);
    const auth = makeAuth(fake);

    const slowCall = auth.request({ url: '/api/slow' });
    // Meanwhile the server forgets skey-old and another request renews the session.
    fake.expireAllSessions();
    await auth.request({ url: '/api/fast' });
    expect(auth.getSession()!.skey).toBe('skey-1');

    fake.route('/api/slow', () => ({ statusCode: 200, data: 'ok' }));
    slow.resolve({ statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: '' } } });
    const answer = await slowCall;

    expect(answer.data).toBe('ok');
    expect(fake.stats.logins).toBe(1);
    expect(auth.getSession()!.skey).toBe('skey-1');
    expect(fake.sentTo('/api/slow').map((r) => r.skey)).toEqual(['skey-old', 'skey-1']);
  });

  test('several clients with their own storage keys keep separate sessions', async () => {
    const shop = makeAuth(fake, { storageKey: 'shop_session' });
    const blog = makeAuth(fake, { storageKey: 'blog_session' });
    await shop.login();
    await blog.login();

    expect(shop.getSession()!.skey).toBe('skey-1');
    expect(blog.getSession()!.skey).toBe('skey-2');
    expect(JSON.parse(fake.storage.get('shop_session')!).skey).toBe('skey-1');
    expect(JSON.parse(fake.storage.get('blog_session')!).skey).toBe('skey-2');
  });
});

describe('a server that refuses every skey (a misused 401, a store without replication)', () => {
  /** 50 callers at once on an endpoint that answers 401 whatever the skey. */
  async function storm(auth: ReturnType<typeof makeAuth>) {
    fake.route('/api/always-401', () => ({ statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: 'again' } } }));
    const events = { sessionExpired: 0, login: 0 };
    auth.on('sessionExpired', () => events.sessionExpired++);
    auth.on('login', () => events.login++);
    const errors = await fifty(() => rejectionOf(auth.request({ url: '/api/always-401' })));
    return { errors, events };
  }

  test('50 callers with a stored session cost one renewal login and one sessionExpired, and all end SESSION_EXPIRED', async () => {
    storeSession(fake, 'skey-stored');
    const auth = makeAuth(fake);
    const { errors, events } = await storm(auth);

    expect(errors.every((e: AuthError) => e.code === 'SESSION_EXPIRED' && e.statusCode === 401)).toBe(true);
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.loginRequests).toBe(1);
    expect(events).toEqual({ sessionExpired: 1, login: 1 });
    // The 10 in flight with the stored skey, their 10 retries, and the 40 that waited in line.
    expect(fake.sentTo('/api/always-401')).toHaveLength(60);
    expect(fake.sent.filter((r) => r.skey === 'skey-stored')).toHaveLength(10);
    expect(fake.stats.peakInFlight).toBeLessThanOrEqual(10);
  });

  test('50 callers on a cold start cost the first login and one renewal, and one sessionExpired', async () => {
    const auth = makeAuth(fake);
    const { errors, events } = await storm(auth);

    expect(errors.every((e: AuthError) => e.code === 'SESSION_EXPIRED')).toBe(true);
    expect(fake.stats.logins).toBe(2);
    expect(events).toEqual({ sessionExpired: 1, login: 2 });
    expect(fake.sentTo('/api/always-401')).toHaveLength(60);
  });

  test('after the storm the renewed session is kept, and each later call renews at most once', async () => {
    storeSession(fake, 'skey-stored');
    const auth = makeAuth(fake);
    await storm(auth);
    expect(auth.getSession()!.skey).toBe('skey-1');

    for (let i = 0; i < 3; i++) expect((await rejectionOf(auth.request({ url: '/api/always-401' }))).code).toBe('SESSION_EXPIRED');
    expect(fake.stats.logins).toBe(1 + 3);
    expect(fake.sentTo('/api/always-401')).toHaveLength(60 + 3 * 2);
  });
});

describe('one request limit for the whole app', () => {
  /** Holds every answer of `path` until released. */
  function hold(path: string) {
    const gate = deferred<void>();
    fake.route(path, async () => {
      await gate.promise;
      return { statusCode: 200, data: {} };
    });
    return () => gate.resolve();
  }

  test('two clients (one per backend) share WeChat\'s 10 slots: 30 calls never put more than 10 in flight', async () => {
    const release = hold('/api/slow');
    const shop = makeAuth(fake, { storageKey: 'shop_session' });
    const blog = makeAuth(fake, { storageKey: 'blog_session' });
    await Promise.all([shop.login(), blog.login()]);
    const calls = Array.from({ length: 15 }, () => shop.request({ url: '/api/slow' })).concat(
      Array.from({ length: 15 }, () => blog.request({ url: '/api/slow' })),
    );
    await until(() => fake.stats.inFlight >= 10, '10 calls are in flight');
    expect(fake.stats.inFlight).toBe(10);

    release();
    await Promise.all(calls);
    expect(fake.stats.peakInFlight).toBe(10);
    expect(fake.sentTo('/api/slow')).toHaveLength(30);
  });

  test('uploads take slots from the same pool as requests, as WeChat counts them', async () => {
    const release = hold('/api/avatar');
    const releaseRequests = hold('/api/slow');
    const auth = makeAuth(fake);
    storeSession(fake, 'skey-warm');
    fake.issueSession('skey-warm');
    const uploads = Array.from({ length: 8 }, () => auth.uploadFile({ url: '/api/avatar', filePath: 'f', name: 'file' }));
    const requests = Array.from({ length: 5 }, () => auth.request({ url: '/api/slow' }));
    await until(() => fake.stats.inFlight >= 10, 'the pool is full');

    expect(fake.stats.uploads).toBe(8);
    expect(fake.stats.requests).toBe(2);
    release();
    releaseRequests();
    await Promise.all([...uploads, ...requests]);
    expect(fake.stats.peakInFlight).toBe(10);
  });

  test('maxConcurrent lowers one client\'s share without lowering the others\'', async () => {
    const release = hold('/api/slow');
    const background = makeAuth(fake, { storageKey: 'bg_session', maxConcurrent: 2 });
    const main = makeAuth(fake, { storageKey: 'main_session' });
    await Promise.all([background.login(), main.login()]);
    const calls = [...Array.from({ length: 10 }, () => background.request({ url: '/api/slow' }))];
    await until(() => fake.stats.inFlight >= 2, "the background client's 2 are in flight");
    calls.push(...Array.from({ length: 10 }, () => main.request({ url: '/api/slow' })));
    await until(() => fake.stats.inFlight >= 10, 'the pool is full');

    const bySkey = (skey: string) => fake.sentTo('/api/slow').filter((r) => r.skey === skey).length;
    expect(bySkey(background.getSession()!.skey)).toBe(2);
    expect(bySkey(main.getSession()!.skey)).toBe(8);
    release();
    await Promise.all(calls);
    expect(fake.stats.peakInFlight).toBe(10);
  });
});
