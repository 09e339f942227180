import { createFakeWx, deferred, type FakeOutcome, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, makeAuth, rejectionOf, storeSession } from './helpers';

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
