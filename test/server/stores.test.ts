import { createMemoryStores } from '../../server/stores/memory';
import { createRedisStores } from '../../server/stores/redis';
import type { SessionRecord, Stores, UserRecord } from '../../server/stores/types';
import Redis from 'ioredis';
import { describeWithRedis, fakeClock, startRedis, type FakeClock } from './helpers';

const IDLE = 60_000;
const LIFETIME = 10 * 60_000;

type Factory = (clock: FakeClock) => Promise<Stores>;

/** The one behaviour every store implementation must have. */
function storeContract(factory: () => Factory) {
  let clock: FakeClock;
  let stores: Stores;
  beforeEach(async () => {
    clock = fakeClock();
    stores = await factory()(clock);
  });
  afterEach(async () => {
    await stores.close();
  });

  const session = (hash: string, userId = 'u1'): SessionRecord => {
    const at = clock.now();
    return { skeyHash: hash, userId, sessionKey: 'k', createdAt: at, lastSeenAt: at, expiresAt: at + LIFETIME };
  };
  const user = (id: string, openid: string): UserRecord => ({ id, openid, nickname: '', avatarUrl: '', createdAt: clock.now() });

  describe('sessions', () => {
    it('returns a created session with every field intact', async () => {
      await stores.sessions.create(session('a'.repeat(64)));
      expect(await stores.sessions.touch('a'.repeat(64))).toEqual(session('a'.repeat(64)));
    });

    it('returns null for an unknown hash', async () => {
      expect(await stores.sessions.touch('f'.repeat(64))).toBeNull();
    });

    it('keeps a session alive while it is used within the idle timeout', async () => {
      await stores.sessions.create(session('h1'));
      for (let i = 0; i < 5; i++) {
        clock.advance(IDLE - 1);
        expect(await stores.sessions.touch('h1')).not.toBeNull();
      }
    });

    it('forgets a session idle for the whole idle timeout', async () => {
      await stores.sessions.create(session('h1'));
      clock.advance(IDLE);
      expect(await stores.sessions.touch('h1')).toBeNull();
      clock.advance(-IDLE);
      expect(await stores.sessions.touch('h1')).toBeNull();
    });

    it('forgets a session at its absolute lifetime even when used all along', async () => {
      await stores.sessions.create(session('h1'));
      for (let t = 0; t < LIFETIME - IDLE / 2; t += IDLE / 2) {
        clock.advance(IDLE / 2);
        expect(await stores.sessions.touch('h1')).not.toBeNull();
      }
      clock.advance(IDLE / 2);
      expect(await stores.sessions.touch('h1')).toBeNull();
    });

    it('deletes one session and leaves the user’s other sessions alone', async () => {
      await stores.sessions.create(session('phone'));
      await stores.sessions.create(session('tablet'));
      expect(await stores.sessions.delete('phone')).toBe(true);
      expect(await stores.sessions.delete('phone')).toBe(false);
      expect(await stores.sessions.touch('phone')).toBeNull();
      expect(await stores.sessions.touch('tablet')).not.toBeNull();
    });

    it('deletes all sessions and says how many', async () => {
      for (let i = 0; i < 7; i++) await stores.sessions.create(session(`h${i}`));
      expect(await stores.sessions.deleteAll()).toBe(7);
      expect(await stores.sessions.touch('h3')).toBeNull();
      expect(await stores.sessions.deleteAll()).toBe(0);
    });
  });

  describe('users', () => {
    it('creates a user for a new openid and finds the same one afterwards', async () => {
      const first = await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      const second = await stores.users.findOrCreate({ openid: 'o1' }, () => user('id2', 'o1'));
      expect(first).toEqual({ user: user('id1', 'o1'), created: true });
      expect(second).toEqual({ user: user('id1', 'o1'), created: false });
    });

    it('makes exactly one user when the same openid logs in concurrently', async () => {
      let n = 0;
      const results = await Promise.all(Array.from({ length: 10 }, () => stores.users.findOrCreate({ openid: 'o1' }, () => user(`id${n++}`, 'o1'))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    });

    it('updates only the given fields and keeps emoji intact', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      await stores.users.update('id1', { nickname: '小明 👨‍👩‍👧 ✨' });
      const updated = await stores.users.update('id1', { avatarUrl: 'https://example.com/a.png' });
      expect(updated).toMatchObject({ nickname: '小明 👨‍👩‍👧 ✨', avatarUrl: 'https://example.com/a.png', openid: 'o1' });
      expect(await stores.users.get('id1')).toEqual(updated);
    });

    it('does not create a user by updating an unknown id', async () => {
      expect(await stores.users.update('nobody', { nickname: 'x' })).toBeNull();
      expect(await stores.users.get('nobody')).toBeNull();
    });

    it('keeps the unionid of a new user and finds the user by it from another openid', async () => {
      const first = await stores.users.findOrCreate({ openid: 'o1', unionid: 'u1' }, () => user('id1', 'o1'));
      expect(first).toEqual({ user: { ...user('id1', 'o1'), unionid: 'u1' }, created: true });
      // The same person from another app of the company: another openid, the same unionid.
      const other = await stores.users.findOrCreate({ openid: 'o2', unionid: 'u1' }, () => user('id2', 'o2'));
      expect(other).toEqual({ user: { ...user('id1', 'o1'), unionid: 'u1' }, created: false });
      // The openid is linked: found again even without the unionid.
      expect((await stores.users.findOrCreate({ openid: 'o2' }, () => user('id3', 'o2'))).user.id).toBe('id1');
    });

    it('prefers the unionid over the openid when they name different users', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      await stores.users.findOrCreate({ openid: 'o2', unionid: 'u2' }, () => user('id2', 'o2'));
      expect((await stores.users.findOrCreate({ openid: 'o1', unionid: 'u2' }, () => user('id3', 'o1'))).user.id).toBe('id2');
      // The openid's own user is still there, found without the unionid.
      expect((await stores.users.findOrCreate({ openid: 'o1' }, () => user('id4', 'o1'))).user.id).toBe('id1');
    });

    it('adds a unionid that WeChat starts sending to the user found by openid', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      const found = await stores.users.findOrCreate({ openid: 'o1', unionid: 'u1' }, () => user('id2', 'o1'));
      expect(found).toEqual({ user: { ...user('id1', 'o1'), unionid: 'u1' }, created: false });
      expect(await stores.users.get('id1')).toEqual({ ...user('id1', 'o1'), unionid: 'u1' });
      expect((await stores.users.findOrCreate({ openid: 'o9', unionid: 'u1' }, () => user('id3', 'o9'))).user.id).toBe('id1');
    });

    it('makes exactly one user when one person logs in concurrently from two openids with one unionid', async () => {
      let n = 0;
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => stores.users.findOrCreate({ openid: `o${i % 2}`, unionid: 'u1' }, () => user(`id${n++}`, `o${i % 2}`))),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
    });
  });

  describe('phone numbers', () => {
    const phone = (number: string, countryCode = '86') => ({ countryCode, number });

    it('binds a number and keeps it on the user', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      expect(await stores.users.bindPhone('id1', phone('13800138000'))).toEqual({ ok: true, user: { ...user('id1', 'o1'), phone: phone('13800138000') } });
      expect(await stores.users.get('id1')).toEqual({ ...user('id1', 'o1'), phone: phone('13800138000') });
    });

    it('refuses a number bound to another user, and changes nothing', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      await stores.users.findOrCreate({ openid: 'o2' }, () => user('id2', 'o2'));
      await stores.users.bindPhone('id1', phone('13800138000'));
      expect(await stores.users.bindPhone('id2', phone('13800138000'))).toEqual({ ok: false, reason: 'PHONE_IN_USE' });
      expect((await stores.users.get('id2'))?.phone).toBeUndefined();
      // The same digits in another country are another number.
      expect(await stores.users.bindPhone('id2', phone('13800138000', '852'))).toMatchObject({ ok: true });
    });

    it('binds the same number to the same user again, and releases the old number on a change', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      await stores.users.findOrCreate({ openid: 'o2' }, () => user('id2', 'o2'));
      await stores.users.bindPhone('id1', phone('13800138000'));
      expect(await stores.users.bindPhone('id1', phone('13800138000'))).toMatchObject({ ok: true });
      expect(await stores.users.bindPhone('id1', phone('13900139000'))).toMatchObject({ ok: true, user: { phone: phone('13900139000') } });
      expect(await stores.users.bindPhone('id2', phone('13800138000'))).toMatchObject({ ok: true });
      expect(await stores.users.bindPhone('id1', phone('13800138000'))).toEqual({ ok: false, reason: 'PHONE_IN_USE' });
    });

    it('lets exactly one of two users racing for one number have it', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      await stores.users.findOrCreate({ openid: 'o2' }, () => user('id2', 'o2'));
      const results = await Promise.all(['id1', 'id2', 'id1', 'id2'].map((id) => stores.users.bindPhone(id, phone('13800138000'))));
      const winners = new Set(results.flatMap((r) => (r?.ok ? [r.user.id] : [])));
      expect(winners.size).toBe(1);
    });

    it('answers null for an unknown user and binds nothing', async () => {
      expect(await stores.users.bindPhone('nobody', phone('13800138000'))).toBeNull();
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      expect(await stores.users.bindPhone('id1', phone('13800138000'))).toMatchObject({ ok: true });
    });
  });

  describe('credentials', () => {
    const credential = (value: string, life = 7200_000) => ({ value, refreshAt: clock.now() + life - 240_000, expiresAt: clock.now() + life });

    it('keeps a credential until its expiry, and no longer', async () => {
      const token = credential('t1');
      await stores.credentials.set('wx', token);
      expect(await stores.credentials.get('wx')).toEqual(token);
      expect(await stores.credentials.get('other')).toBeNull();
      clock.advance(7200_000);
      expect(await stores.credentials.get('wx')).toBeNull();
    });

    it('deletes a credential only while it still holds the given value', async () => {
      await stores.credentials.set('wx', credential('t1'));
      await stores.credentials.set('wx', credential('t2'));
      expect(await stores.credentials.deleteIf('wx', 't1')).toBe(false);
      expect(await stores.credentials.get('wx')).toMatchObject({ value: 't2' });
      expect(await stores.credentials.deleteIf('wx', 't2')).toBe(true);
      expect(await stores.credentials.get('wx')).toBeNull();
    });

    it('gives the lock to one holder at a time, and to the next once released', async () => {
      const [a, b] = await Promise.all([stores.credentials.lock('wx', 5000), stores.credentials.lock('wx', 5000)]);
      expect([a, b].filter(Boolean)).toHaveLength(1);
      expect(await stores.credentials.lock('other', 5000)).not.toBeNull();
      await (a ?? b)!();
      expect(await stores.credentials.lock('wx', 5000)).not.toBeNull();
    });
  });

  describe('rate counters', () => {
    it('counts hits per key within a window and starts again in the next one', async () => {
      clock.advance(60_000 - (clock.now() % 60_000)); // the start of a window
      expect(await stores.counters.hit('a', 60_000)).toBe(1);
      expect(await stores.counters.hit('a', 60_000)).toBe(2);
      expect(await stores.counters.hit('b', 60_000)).toBe(1);
      clock.advance(59_999);
      expect(await stores.counters.hit('a', 60_000)).toBe(3);
      clock.advance(1);
      expect(await stores.counters.hit('a', 60_000)).toBe(1);
    });
  });
}

describe('memory stores', () => {
  storeContract(() => async (clock) => createMemoryStores({ now: clock.now, sessionIdleMs: IDLE }));
});

describeWithRedis('redis stores', (redis) => {
  let suite = 0;
  // A fresh key prefix per test keeps tests independent on the one server.
  storeContract(() => (clock) => createRedisStores({ url: redis().url, prefix: `t${suite++}:`, now: clock.now, sessionIdleMs: IDLE }));

  it('answers 503 STORE_UNAVAILABLE once Redis is gone, instead of hanging', async () => {
    const clock = fakeClock();
    const own = await startRedis();
    const stores = await createRedisStores({ url: own.url, now: clock.now, sessionIdleMs: IDLE });
    await own.stop();
    await expect(stores.sessions.touch('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
    await stores.close();
  });

  it('refuses to start when Redis cannot be reached', async () => {
    await expect(createRedisStores({ url: 'redis://127.0.0.1:1', now: Date.now, sessionIdleMs: IDLE })).rejects.toThrow();
  });

  it('gives every session key a Redis TTL no longer than the idle timeout', async () => {
    const clock = fakeClock(Date.now());
    const stores = await createRedisStores({ url: redis().url, prefix: 'ttl:', now: clock.now, sessionIdleMs: IDLE });
    await stores.sessions.create({ skeyHash: 'h', userId: 'u', sessionKey: 'k', createdAt: clock.now(), lastSeenAt: clock.now(), expiresAt: clock.now() + LIFETIME });
    const client = new Redis(redis().url);
    const ttl = await client.pttl('ttl:session:h');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(IDLE);
    await client.quit();
    await stores.close();
  });

  it('frees a renewal lock whose holder never released it once its TTL has passed, and keeps a credential only until its expiry', async () => {
    const clock = fakeClock(Date.now());
    const stores = await createRedisStores({ url: redis().url, prefix: 'lock-ttl:', now: clock.now, sessionIdleMs: IDLE });
    // A holder that died: it took the lock and will never release it.
    expect(await stores.credentials.lock('wx', 50)).not.toBeNull();
    expect(await stores.credentials.lock('wx', 50)).toBeNull();
    const deadline = Date.now() + 2000;
    let next = null;
    while (!next && Date.now() < deadline) next = await stores.credentials.lock('wx', 50);
    expect(next).not.toBeNull();

    await stores.credentials.set('wx', { value: 't', refreshAt: clock.now() + 1000, expiresAt: clock.now() + 2000 });
    const client = new Redis(redis().url);
    const ttl = await client.pttl('lock-ttl:credential:wx');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2000);
    await client.quit();
    await stores.close();
  });
});
