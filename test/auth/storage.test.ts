import { createFakeWx, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, HOUR, makeAuth, storeSession } from './helpers';

let fake: FakeWx;
beforeEach(() => {
  fake = createFakeWx();
});
afterEach(expectPoolEmpty);

describe('stored session', () => {
  test.each([
    ['a plain string', '"skey-xyz"'],
    ['a number', '42'],
    ['null', 'null'],
    ['an array', '["skey", 1]'],
    ['a record of another version', JSON.stringify({ v: 0, skey: 'k', expiresAt: Date.now() + HOUR, user: {} })],
    ['a record without skey', JSON.stringify({ v: 1, expiresAt: Date.now() + HOUR, user: {} })],
    ['a record with an empty skey', JSON.stringify({ v: 1, skey: '', expiresAt: Date.now() + HOUR, user: {} })],
    ['a record with a numeric skey', JSON.stringify({ v: 1, skey: 7, expiresAt: Date.now() + HOUR, user: {} })],
    ['a record with expiresAt as text', JSON.stringify({ v: 1, skey: 'k', expiresAt: 'never', user: {} })],
    ['a record without user', JSON.stringify({ v: 1, skey: 'k', expiresAt: Date.now() + HOUR })],
    ['a record with a 5 MB skey', JSON.stringify({ v: 1, skey: 'k'.repeat(5 * 1024 * 1024), expiresAt: Date.now() + HOUR, user: {} })],
    ['a record with an skey of 1025 characters', JSON.stringify({ v: 1, skey: 'k'.repeat(1025), expiresAt: Date.now() + HOUR, user: {} })],
    ['a record with CR/LF in its skey', JSON.stringify({ v: 1, skey: 'k\r\nX-Injected: 1', expiresAt: Date.now() + HOUR, user: {} })],
    ['a record with a space in its skey', JSON.stringify({ v: 1, skey: 'k k', expiresAt: Date.now() + HOUR, user: {} })],
    ['a record with a non-ASCII skey', JSON.stringify({ v: 1, skey: 'kéy', expiresAt: Date.now() + HOUR, user: {} })],
  ])('%s in storage counts as no session and leads to one clean login', async (_, raw) => {
    fake.storage.set('auth_session', raw);
    const auth = makeAuth(fake);

    expect(auth.getSession()).toBeNull();
    await expect(auth.request({ url: '/api/me' })).resolves.toMatchObject({ statusCode: 200 });
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.requests).toBe(2);
  });

  test('a stored skey of 1024 visible ASCII characters is used as it is, with no login', async () => {
    const skey = '!~'.repeat(512);
    storeSession(fake, skey);
    fake.issueSession(skey);
    const auth = makeAuth(fake);

    await expect(auth.request({ url: '/api/me' })).resolves.toMatchObject({ statusCode: 200 });
    expect(fake.stats.logins).toBe(0);
    expect(fake.sent.map((r) => r.skey)).toEqual([skey]);
  });

  test('a getStorageSync that throws counts as no session', async () => {
    fake.wx.getStorageSync = () => {
      throw new Error('getStorageSync:fail data damaged');
    };
    const auth = makeAuth(fake);

    expect(auth.getSession()).toBeNull();
    await expect(auth.ensureSession()).resolves.toMatchObject({ skey: 'skey-1' });
  });

  test('storage reads happen once: later requests use the session held in memory', async () => {
    const reads = jest.spyOn(fake.wx, 'getStorageSync');
    const auth = makeAuth(fake);
    for (let i = 0; i < 5; i++) await auth.request({ url: `/api/${i}` });

    expect(reads).toHaveBeenCalledTimes(1);
  });

  test('a storage write that throws (quota) does not break login: the session lives on in memory', async () => {
    fake.behaviour.storageWriteThrows = true;
    const auth = makeAuth(fake);
    const results = await Promise.all([auth.request({ url: '/api/a' }), auth.request({ url: '/api/b' })]);
    await auth.request({ url: '/api/c' });

    expect(results.map((r) => r.statusCode)).toEqual([200, 200]);
    expect(fake.stats.storageWrites).toBe(1);
    expect(fake.stats.logins).toBe(1);
    expect(auth.getSession()!.skey).toBe('skey-1');
    expect(fake.storage.size).toBe(0);
  });
});
