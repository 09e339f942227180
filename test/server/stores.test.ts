import { createMemoryStores } from '../../server/stores/memory';
import { createRedisStoresOn, RedisUnreachableError } from '../../server/stores/redis';
import { DEFAULT_MAX_SESSIONS_PER_USER, touchIntervalMs, type SessionRecord, type Stores, type UserRecord } from '../../server/stores/types';
import fc from 'fast-check';
import Redis from 'ioredis';
import { SessionIndex } from '../../server/stores/session-index';
import { SlidingWindows } from '../../server/stores/sliding-window';
import { freePort } from '../../tools/free-port';
import { eachStore, STORE_IDLE_MS as IDLE, type OpenStores } from './helpers-databases';
import { describeWithRedis, fakeClock, redisStores, startRedis, type FakeClock } from './helpers';

const LIFETIME = 10 * 60_000;
const SEAL_KEY = Buffer.alloc(32, 1);

/** The one behaviour every store implementation must have. */
function storeContract(open: OpenStores) {
  let clock: FakeClock;
  let stores: Stores;
  beforeEach(async () => {
    clock = fakeClock();
    ({ stores } = await open(clock));
    // The user the sessions below belong to: a session is of use only with its user.
    await stores.users.findOrCreate({ openid: 'o-u1' }, () => user('u1', 'o-u1'));
  });
  afterEach(async () => {
    await stores.close();
  });

  const session = (hash: string, userId = 'u1'): SessionRecord => {
    const at = clock.now();
    return { skeyHash: hash, userId, sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==', createdAt: at, lastSeenAt: at, expiresAt: at + LIFETIME };
  };
  const user = (id: string, openid: string): UserRecord => ({ id, openid, nickname: '', avatarUrl: '', createdAt: clock.now() });

  describe('sessions', () => {
    it('returns a created session with every field intact and its user, session_key apart', async () => {
      const { sessionKey, ...live } = session('a'.repeat(64));
      await stores.sessions.create({ ...live, sessionKey });
      const found = await stores.sessions.touch('a'.repeat(64));
      expect(found?.session).toEqual(live);
      expect(found?.user).toEqual(user('u1', 'o-u1'));
      expect(await stores.sessions.sessionKey('a'.repeat(64))).toBe(sessionKey);
      expect(await stores.sessions.sessionKey('b'.repeat(64))).toBeNull();
    });

    it('replaces a session created again under the same hash: the second is found, counted once, and its user’s alone', async () => {
      await stores.users.findOrCreate({ openid: 'o-u2' }, () => user('u2', 'o-u2'));
      await stores.sessions.create(session('a'.repeat(64)));
      clock.advance(1);
      const again = { ...session('a'.repeat(64), 'u2'), sessionKey: 'c2Vjb25kIHNlc3Npb25rZXk=' };
      expect(await stores.sessions.create(again)).toBe(0);
      const found = await stores.sessions.touch('a'.repeat(64));
      expect(found?.session).toEqual({ skeyHash: again.skeyHash, userId: 'u2', createdAt: again.createdAt, lastSeenAt: again.lastSeenAt, expiresAt: again.expiresAt });
      expect(found?.user.id).toBe('u2');
      expect(await stores.sessions.sessionKey('a'.repeat(64))).toBe('c2Vjb25kIHNlc3Npb25rZXk=');
      expect(await stores.sessions.deleteAllOf('u1')).toBe(0);
      expect(await stores.sessions.deleteAllOf('u2')).toBe(1);
    });

    it('returns null for a session whose user does not exist', async () => {
      await stores.sessions.create(session('h1', 'nobody'));
      expect(await stores.sessions.touch('h1')).toBeNull();
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

  describe('sessions per user', () => {
    const CAP = DEFAULT_MAX_SESSIONS_PER_USER;
    /** Creates one login of `userId` a millisecond after the previous one (so that their age is plain); what it revoked. */
    const logIn = async (hash: string, userId = 'u1') => {
      clock.advance(1);
      return stores.sessions.create(session(hash, userId));
    };
    const liveOf = async (hashes: string[]) => {
      const live: string[] = [];
      for (const hash of hashes) if (await stores.sessions.touch(hash)) live.push(hash);
      return live;
    };
    const hashes = (n: number, from = 0, tag = 'h') => Array.from({ length: n }, (_, i) => `${tag}${from + i}`);

    it('has a default cap of 10 live sessions per user', () => {
      expect(CAP).toBe(10);
    });

    it('lets a user hold the cap of sessions, and revokes exactly the oldest on the next login', async () => {
      for (const hash of hashes(CAP)) expect(await logIn(hash)).toBe(0);
      expect(await liveOf(hashes(CAP))).toEqual(hashes(CAP));
      expect(await logIn('h10')).toBe(1);
      expect(await liveOf(hashes(CAP + 1))).toEqual(hashes(CAP, 1));
      expect(await stores.sessions.sessionKey('h0')).toBeNull();
      // And the next login the next oldest.
      expect(await logIn('h11')).toBe(1);
      expect(await liveOf(hashes(CAP + 2))).toEqual(hashes(CAP, 2));
    });

    it('counts each user apart: another user’s logins revoke nothing of this one', async () => {
      await stores.users.findOrCreate({ openid: 'o-u2' }, () => user('u2', 'o-u2'));
      for (const hash of hashes(CAP)) await logIn(hash);
      for (const hash of hashes(CAP + 5, 0, 'other')) await logIn(hash, 'u2');
      expect(await liveOf(hashes(CAP))).toEqual(hashes(CAP));
      expect(await liveOf(hashes(CAP + 5, 0, 'other'))).toEqual(hashes(CAP, 5, 'other'));
    });

    it('never leaves more than the cap when one user logs in many times at once', async () => {
      const all = hashes(3 * CAP);
      const revoked = await Promise.all(all.map((hash) => stores.sessions.create(session(hash))));
      expect(revoked.reduce((sum, n) => sum + n, 0)).toBe(2 * CAP);
      expect(await liveOf(all)).toHaveLength(CAP);
      // The index agrees with what is live: one more login revokes exactly one.
      expect(await logIn('late')).toBe(1);
      expect(await liveOf([...all, 'late'])).toHaveLength(CAP);
    });

    it('counts only live sessions: idle or expired ones are pruned from the index, not revoked in place of a live one', async () => {
      for (const hash of hashes(CAP)) await logIn(hash);
      clock.advance(IDLE);
      for (const hash of hashes(CAP, 100)) expect(await logIn(hash)).toBe(0);
      expect(await liveOf(hashes(CAP, 100))).toEqual(hashes(CAP, 100));
      expect(await logIn('h200')).toBe(1);
      expect(await liveOf([...hashes(CAP, 100), 'h200'])).toEqual([...hashes(CAP - 1, 101), 'h200']);
    });

    it('frees a slot when a session is logged out', async () => {
      for (const hash of hashes(CAP)) await logIn(hash);
      expect(await stores.sessions.delete('h3')).toBe(true);
      expect(await logIn('a')).toBe(0);
      expect(await logIn('b')).toBe(1);
      expect(await liveOf(['h0', 'h1', 'h2', 'h3', 'h4'])).toEqual(['h1', 'h2', 'h4']);
    });

    it('takes its cap from the options: with 1, each login ends the one before', async () => {
      const { stores: single } = await open(clock, { maxSessionsPerUser: 1 });
      try {
        await single.users.findOrCreate({ openid: 'o-u1' }, () => user('u1', 'o-u1'));
        expect(await single.sessions.create(session('first'))).toBe(0);
        clock.advance(1);
        expect(await single.sessions.create(session('second'))).toBe(1);
        expect(await single.sessions.touch('first')).toBeNull();
        expect(await single.sessions.touch('second')).not.toBeNull();
      } finally {
        await single.close();
      }
    });

    it('ends every live session of one user with deleteAllOf, says how many, and leaves other users alone', async () => {
      await stores.users.findOrCreate({ openid: 'o-u2' }, () => user('u2', 'o-u2'));
      await logIn('dead');
      clock.advance(IDLE);
      for (const hash of hashes(4)) await logIn(hash);
      for (const hash of hashes(2, 0, 'other')) await logIn(hash, 'u2');
      expect(await stores.sessions.deleteAllOf('u1')).toBe(4);
      expect(await liveOf([...hashes(4), 'dead'])).toEqual([]);
      for (const hash of hashes(4)) expect(await stores.sessions.sessionKey(hash)).toBeNull();
      expect(await liveOf(hashes(2, 0, 'other'))).toEqual(hashes(2, 0, 'other'));
      expect(await stores.sessions.deleteAllOf('u1')).toBe(0);
      expect(await stores.sessions.deleteAllOf('nobody')).toBe(0);
      // The user logs in again afresh: a full cap, nothing revoked.
      for (const hash of hashes(CAP, 10)) expect(await logIn(hash)).toBe(0);
      expect(await liveOf(hashes(CAP, 10))).toEqual(hashes(CAP, 10));
    });

    it('counts and ends only live sessions: one idle for the whole timeout and one past its lifetime though just used are neither counted nor left behind', async () => {
      await logIn('idle');
      clock.advance(IDLE / 2);
      await logIn('live');
      // Used within the idle timeout, but its lifetime ends before the idle one would.
      expect(await stores.sessions.create({ ...session('worn'), expiresAt: clock.now() + IDLE / 4 })).toBe(0);
      clock.advance(IDLE / 2);
      expect(await stores.sessions.countOf('u1')).toBe(1);
      expect(await stores.sessions.deleteAllOf('u1')).toBe(1);
      for (const hash of ['idle', 'live', 'worn']) expect(await stores.sessions.sessionKey(hash)).toBeNull();
      expect(await stores.sessions.countOf('u1')).toBe(0);
    });

    it('prunes at login a session past its lifetime though just used, instead of revoking a live one for it', async () => {
      for (const hash of hashes(CAP - 1)) await logIn(hash);
      expect(await stores.sessions.create({ ...session('worn'), expiresAt: clock.now() + IDLE / 4 })).toBe(0);
      clock.advance(IDLE / 2);
      expect(await logIn('next')).toBe(0);
      expect(await liveOf([...hashes(CAP - 1), 'worn', 'next'])).toEqual([...hashes(CAP - 1), 'next']);
    });

    it('ends every session of a user with deleteAllOf even while the user logs in at the same time: none left but those created after', async () => {
      for (const hash of hashes(CAP)) await logIn(hash);
      const [ended] = await Promise.all([stores.sessions.deleteAllOf('u1'), stores.sessions.create(session('racing'))]);
      const live = await liveOf([...hashes(CAP), 'racing']);
      // Either the login came first (it revoked the oldest, then was ended with the other 9) or last (it lives).
      expect(ended).toBe(CAP);
      expect([[], ['racing']]).toContainEqual(live);
    });

    it('starts every user afresh after deleteAll', async () => {
      for (const hash of hashes(CAP)) await logIn(hash);
      expect(await stores.sessions.deleteAll()).toBe(CAP);
      for (const hash of hashes(CAP, 20)) expect(await logIn(hash)).toBe(0);
      expect(await stores.sessions.deleteAllOf('u1')).toBe(CAP);
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
      expect(updated?.after).toMatchObject({ nickname: '小明 👨‍👩‍👧 ✨', avatarUrl: 'https://example.com/a.png', openid: 'o1' });
      expect(updated?.before).toMatchObject({ nickname: '小明 👨‍👩‍👧 ✨', avatarUrl: '' });
      expect(await stores.users.get('id1')).toEqual(updated?.after);
    });

    it('keeps every nickname byte for byte: 4-byte emoji, ZWJ sequences, flags, CJK Extension B, combining marks, NFD', async () => {
      const nicknames = ['爱丽丝🐱', '👨‍👩‍👧‍👦', '🇨🇳🇯🇵', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', '𠀀𠀁𪜀', 'e\u0301a\u0308', '👍🏽', '\u{1F9D1}\u200D\u{1F4BB}'];
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      for (const nickname of nicknames) {
        await stores.users.update('id1', { nickname });
        const stored = (await stores.users.get('id1'))!.nickname;
        expect(Buffer.from(stored, 'utf8').toString('hex')).toBe(Buffer.from(nickname, 'utf8').toString('hex'));
      }
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

  describe('account export and deletion', () => {
    const phone = { countryCode: '86', number: '13800138000' };

    it('lists a user’s identities in the order they were linked, with when: openid, unionid, phone (written out in full)', async () => {
      await stores.users.findOrCreate({ openid: 'o1' }, () => user('id1', 'o1'));
      const created = clock.now();
      clock.advance(1000);
      await stores.users.findOrCreate({ openid: 'o1', unionid: 'u1' }, () => user('id2', 'o1'));
      clock.advance(1000);
      await stores.users.bindPhone('id1', phone);
      expect(await stores.users.identitiesOf('id1')).toEqual([
        { kind: 'wechat', value: 'o1', createdAt: created },
        { kind: 'unionid', value: 'u1', createdAt: created + 1000 },
        { kind: 'phone', value: '+86 13800138000', createdAt: created + 2000 },
      ]);
      // A new number replaces the old one; binding the same one again changes nothing.
      clock.advance(1000);
      await stores.users.bindPhone('id1', { countryCode: '852', number: '51234567' });
      await stores.users.bindPhone('id1', { countryCode: '852', number: '51234567' });
      expect((await stores.users.identitiesOf('id1')).filter((identity) => identity.kind === 'phone')).toEqual([{ kind: 'phone', value: '+852 51234567', createdAt: created + 3000 }]);
      expect(await stores.users.identitiesOf('nobody')).toEqual([]);
    });

    it('lists a user’s live sessions oldest first, without their session_key, and none of another user’s or dead ones', async () => {
      await stores.users.findOrCreate({ openid: 'o-u2' }, () => user('u2', 'o-u2'));
      // Whole hashes: a CHAR(64) column would pad a short one.
      const [dead, old, other, recent] = ['d', 'o', 'x', 'n'].map((c) => c.repeat(64));
      await stores.sessions.create(session(dead));
      clock.advance(IDLE / 2);
      await stores.sessions.create(session(old));
      await stores.sessions.create(session(other, 'u2'));
      clock.advance(IDLE / 2);
      await stores.sessions.create(session(recent));
      const listed = await stores.sessions.listOf('u1');
      expect(listed.map((s) => s.skeyHash)).toEqual([old, recent]);
      expect(listed[0]).toEqual({ skeyHash: old, userId: 'u1', createdAt: clock.now() - IDLE / 2, lastSeenAt: clock.now() - IDLE / 2, expiresAt: clock.now() - IDLE / 2 + LIFETIME });
      expect(JSON.stringify(listed)).not.toContain('tiihtNczf5v6AKRyjwEUhQ==');
      expect(await stores.sessions.listOf('nobody')).toEqual([]);
    });

    it('deletes a user with every identity, so that no session of theirs authenticates: the openid, unionid and number are free, and the next login of that openid makes a new user', async () => {
      await stores.users.findOrCreate({ openid: 'o1', unionid: 'u1' }, () => user('id1', 'o1'));
      await stores.users.findOrCreate({ openid: 'o2' }, () => user('id2', 'o2'));
      await stores.users.bindPhone('id1', phone);
      await stores.users.update('id1', { nickname: '走了' });
      await stores.sessions.create(session('h1', 'id1'));
      await stores.sessions.create(session('h2', 'id2'));

      expect(await stores.users.delete('id1')).toEqual({ ...user('id1', 'o1'), unionid: 'u1', nickname: '走了', phone });
      expect(await stores.users.get('id1')).toBeNull();
      expect(await stores.users.identitiesOf('id1')).toEqual([]);
      expect(await stores.sessions.touch('h1')).toBeNull();
      expect(await stores.users.delete('id1')).toBeNull();
      // The other user is untouched.
      expect((await stores.sessions.touch('h2'))?.user.id).toBe('id2');
      expect(await stores.users.bindPhone('id2', phone)).toMatchObject({ ok: true });
      expect((await stores.users.findOrCreate({ openid: 'o9', unionid: 'u1' }, () => user('id3', 'o9'))).created).toBe(true);
      expect(await stores.users.findOrCreate({ openid: 'o1' }, () => user('id4', 'o1'))).toEqual({ user: user('id4', 'o1'), created: true });
    });

    it('erases what was collected about a bound platform account’s user but keeps the user and the account: identities, phone, nickname and avatar go, the WeChat user and number are free', async () => {
      const created = await stores.accounts.create({ name: 'E7', displayName: '李四', roles: ['staff'], passwordHash: 'scrypt$not-checked-here' });
      if (!created.ok) throw new Error('account not created');
      const id = created.account.userId;
      await stores.bindTickets.issue({ ticketHash: 't'.repeat(64), openid: 'o-bound', unionid: 'u-bound', sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==', expiresAt: clock.now() + LIFETIME });
      expect(await stores.bindTickets.redeem('t'.repeat(64), id)).toMatchObject({ ok: true });
      await stores.users.bindPhone(id, phone);
      await stores.users.update(id, { nickname: '李四', avatarUrl: 'https://thirdwx.qlogo.cn/mmopen/a/132' });
      expect((await stores.users.identitiesOf(id)).map((identity) => identity.kind)).toEqual(['wechat', 'unionid', 'phone']);

      expect(await stores.users.eraseCollectedData(id)).toMatchObject({ id, openid: 'o-bound', unionid: 'u-bound', phone, nickname: '李四', account: { name: 'E7' } });
      const kept = await stores.users.get(id);
      expect(kept).toMatchObject({ id, openid: '', nickname: '', avatarUrl: '', account: { name: 'E7', displayName: '李四', disabled: false } });
      expect(kept?.unionid).toBeUndefined();
      expect(kept?.phone).toBeUndefined();
      expect(await stores.users.identitiesOf(id)).toEqual([]);
      expect(await stores.accounts.byName('E7')).toMatchObject({ userId: id, roles: ['staff'] });
      expect(await stores.users.find({ openid: 'o-bound', unionid: 'u-bound' })).toBeNull();
      expect(await stores.users.bindPhone('u1', phone)).toMatchObject({ ok: true });
      expect(await stores.users.eraseCollectedData('nobody')).toBeNull();
    });

    it('resets a rate-limit key: its full quota is back, other keys keep their hits', async () => {
      for (const key of ['phone:id1', 'phone:id2']) for (let i = 0; i < 2; i++) await stores.limits.take(key, 2, 60_000);
      await stores.limits.reset('phone:id1');
      await stores.limits.reset('never-taken');
      expect(await stores.limits.take('phone:id1', 2, 60_000)).toEqual({ allowed: true });
      expect(await stores.limits.take('phone:id1', 2, 60_000)).toEqual({ allowed: true });
      expect((await stores.limits.take('phone:id2', 2, 60_000)).allowed).toBe(false);
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

  describe('sliding-window rate limits', () => {
    const W = 60_000;

    it('accepts the limit, refuses the next and says when the oldest hit leaves the window', async () => {
      for (let i = 0; i < 3; i++) {
        expect(await stores.limits.take('a', 3, W)).toEqual({ allowed: true });
        clock.advance(1000);
      }
      expect(await stores.limits.take('a', 3, W)).toEqual({ allowed: false, retryAfterMs: W - 3000 });
      expect(await stores.limits.take('b', 3, W)).toEqual({ allowed: true });
      clock.advance(W - 3000);
      expect(await stores.limits.take('a', 3, W)).toEqual({ allowed: true });
    });

    it('counts keys longer than any column apart, even when they differ only past their 255th character, and keeps each one’s count', async () => {
      const long = (tail: string) => `phone:${'ключ🔑'.repeat(100)}${tail}`;
      expect(await stores.limits.take(long('a'), 1, W)).toEqual({ allowed: true });
      expect(await stores.limits.take(long('b'), 1, W)).toEqual({ allowed: true });
      expect((await stores.limits.take(long('a'), 1, W)).allowed).toBe(false);
      expect((await stores.limits.take(long('b'), 1, W)).allowed).toBe(false);
      // A key that looks like a stored hash is a key like any other.
      expect(await stores.limits.take('#sha256:0', 1, W)).toEqual({ allowed: true });
      expect((await stores.limits.take('#sha256:0', 1, W)).allowed).toBe(false);
    });

    it('lets no burst through at a window boundary, as a fixed window would', async () => {
      clock.advance(W - (clock.now() % W) - 100); // just before a fixed window would start over
      for (let i = 0; i < 5; i++) expect((await stores.limits.take('edge', 5, W)).allowed).toBe(true);
      clock.advance(200); // a fixed window has just reset here
      expect((await stores.limits.take('edge', 5, W)).allowed).toBe(false);
      clock.advance(W - 200);
      expect((await stores.limits.take('edge', 5, W)).allowed).toBe(true);
    });

    it('does not count refused hits: a client hammering away is let in again as soon as the window allows', async () => {
      expect((await stores.limits.take('h', 1, W)).allowed).toBe(true);
      for (let i = 0; i < 20; i++) {
        clock.advance(W / 40);
        expect((await stores.limits.take('h', 1, W)).allowed).toBe(false);
      }
      clock.advance(W / 2);
      expect((await stores.limits.take('h', 1, W)).allowed).toBe(true);
    });

    it('forgets every hit of a key on reset, in every window it was counted in, and only that key', async () => {
      for (let i = 0; i < 3; i++) await stores.limits.take('reset-me', 3, W);
      await stores.limits.take('reset-me', 10, 2 * W);
      for (let i = 0; i < 3; i++) await stores.limits.take('kept', 3, W);
      await stores.limits.reset('reset-me');
      await stores.limits.reset('never-seen');
      for (let i = 0; i < 3; i++) expect(await stores.limits.take('reset-me', 3, W)).toEqual({ allowed: true });
      expect((await stores.limits.take('reset-me', 3, W)).allowed).toBe(false);
      expect((await stores.limits.take('kept', 3, W)).allowed).toBe(false);
    });

    it('gives back the newest hit of a key on refund: one more place, the oldest hit still deciding when the next frees, and only that key', async () => {
      for (let i = 0; i < 3; i++) {
        await stores.limits.take('refund-me', 3, W);
        await stores.limits.take('kept', 3, W);
        clock.advance(1000);
      }
      await stores.limits.refund('refund-me');
      expect(await stores.limits.take('refund-me', 3, W)).toEqual({ allowed: true });
      // The hit at 0 s decides: had the oldest been given back, the hit at 1 s would.
      expect(await stores.limits.take('refund-me', 3, W)).toEqual({ allowed: false, retryAfterMs: W - 3000 });
      expect((await stores.limits.take('kept', 3, W)).allowed).toBe(false);
    });

    it('does nothing on a refund of a key never taken: it gets no credit', async () => {
      await stores.limits.refund('never-seen');
      await stores.limits.refund('never-seen');
      expect(await stores.limits.take('never-seen', 1, W)).toEqual({ allowed: true });
      expect((await stores.limits.take('never-seen', 1, W)).allowed).toBe(false);
    });

    it('never gives back more than was taken: 2 hits, 5 refunds, and the limit of 3 still holds', async () => {
      for (let i = 0; i < 2; i++) await stores.limits.take('over-refunded', 3, W);
      for (let i = 0; i < 5; i++) await stores.limits.refund('over-refunded');
      for (let i = 0; i < 3; i++) expect(await stores.limits.take('over-refunded', 3, W)).toEqual({ allowed: true });
      expect((await stores.limits.take('over-refunded', 3, W)).allowed).toBe(false);
    });

    it('refunds and resets keys longer than any column, each apart from a key alike in its first 255 characters', async () => {
      const long = (tail: string) => `bind-client:${'地址🔑'.repeat(100)}${tail}`;
      for (const tail of ['a', 'b', 'c']) expect(await stores.limits.take(long(tail), 1, W)).toEqual({ allowed: true });
      await stores.limits.refund(long('a'));
      await stores.limits.reset(long('b'));
      expect(await stores.limits.take(long('a'), 1, W)).toEqual({ allowed: true });
      expect(await stores.limits.take(long('b'), 1, W)).toEqual({ allowed: true });
      for (const tail of ['a', 'b', 'c']) expect((await stores.limits.take(long(tail), 1, W)).allowed).toBe(false);
    });

    it('decides as if each refunded hit had never been taken (random hit times and refunds)', async () => {
      const limit = 3;
      const window = 1000;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ gap: fc.integer({ min: 0, max: 400 }), refund: fc.boolean() }), { minLength: 1, maxLength: 40 }), async (steps) => {
          const key = `r${Math.random()}`;
          const accepted: number[] = [];
          for (const { gap, refund } of steps) {
            clock.advance(gap);
            const at = clock.now();
            if (refund) {
              await stores.limits.refund(key);
              accepted.pop();
              continue;
            }
            const inWindow = accepted.filter((t) => at - t < window);
            const decision = await stores.limits.take(key, limit, window);
            if (inWindow.length < limit) {
              expect(decision).toEqual({ allowed: true });
              accepted.push(at);
            } else {
              expect(decision).toEqual({ allowed: false, retryAfterMs: inWindow[0] + window - at });
            }
          }
        }),
        { numRuns: 25 },
      );
    });

    it('never accepts more than the limit in any window, and refuses only when the window is full (random hit times)', async () => {
      const limit = 4;
      const window = 1000;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 40 }), async (gaps) => {
          const key = `p${Math.random()}`;
          const accepted: number[] = [];
          for (const gap of gaps) {
            clock.advance(gap);
            const at = clock.now();
            const decision = await stores.limits.take(key, limit, window);
            const inWindow = accepted.filter((t) => at - t < window).length;
            if (decision.allowed) {
              expect(inWindow).toBeLessThan(limit);
              accepted.push(at);
            } else {
              expect(inWindow).toBe(limit);
              expect(decision.retryAfterMs).toBe(accepted.filter((t) => at - t < window)[0] + window - at);
            }
          }
        }),
        { numRuns: 25 },
      );
    });
  });
}

eachStore('stores', storeContract);

describe('memory stores', () => {
  it('keeps no dead session in its per-user index: touch, logout, pruning at login and deleteAllOf all remove theirs', async () => {
    const clock = fakeClock();
    const index = new SessionIndex();
    const stores = createMemoryStores({ now: clock.now, sessionIdleMs: IDLE }, index);
    const at = () => clock.now();
    const create = (hash: string, userId: string) => stores.sessions.create({ skeyHash: hash, userId, sessionKey: 'k', createdAt: at(), lastSeenAt: at(), expiresAt: at() + LIFETIME });
    for (let i = 0; i < 5; i++) await create(`a${i}`, 'a');
    for (let i = 0; i < 3; i++) await create(`b${i}`, 'b');
    await create('c0', 'c');
    expect(index.size()).toEqual({ users: 3, sessions: 9 });

    await stores.sessions.delete('c0');
    expect(index.size()).toEqual({ users: 2, sessions: 8 });
    clock.advance(IDLE);
    // A touch that finds its session dead forgets it in the index too.
    expect(stores.sessions.touch('b0')).toBeNull();
    expect(index.size()).toEqual({ users: 2, sessions: 7 });
    // A login prunes its user's dead entries: the 4 left of a go, the new one stays.
    await create('a5', 'a');
    expect(index.size()).toEqual({ users: 2, sessions: 3 });
    expect(await stores.sessions.deleteAllOf('b')).toBe(0);
    expect(index.size()).toEqual({ users: 1, sessions: 1 });
  });

  it('keeps a user’s index at the cap however many times the user logs in (#22: one user held 198,349 sessions)', async () => {
    const clock = fakeClock();
    const index = new SessionIndex();
    const stores = createMemoryStores({ now: clock.now, sessionIdleMs: IDLE }, index);
    for (let i = 0; i < 5000; i++) {
      clock.advance(1);
      await stores.sessions.create({ skeyHash: `h${i}`, userId: 'flood', sessionKey: 'k', createdAt: clock.now(), lastSeenAt: clock.now(), expiresAt: clock.now() + LIFETIME });
    }
    expect(index.size()).toEqual({ users: 1, sessions: DEFAULT_MAX_SESSIONS_PER_USER });
    expect(await stores.sessions.deleteAll()).toBe(DEFAULT_MAX_SESSIONS_PER_USER);
  });
});

describe('per-user session index (memory)', () => {
  it('keeps each user’s hashes oldest first through the one-hash and many-hash forms, and holds nothing for a user without sessions', () => {
    const index = new SessionIndex();
    index.add('u', 'a');
    index.add('u', 'a');
    expect(index.of('u')).toEqual(['a']);
    index.add('u', 'b');
    index.add('u', 'c');
    expect(index.of('u')).toEqual(['a', 'b', 'c']);
    index.remove('u', 'b');
    index.remove('u', 'a');
    expect(index.of('u')).toEqual(['c']);
    index.add('u', 'd');
    expect(index.of('u')).toEqual(['c', 'd']);
    index.add('v', 'x');
    expect(index.size()).toEqual({ users: 2, sessions: 3 });
    index.remove('u', 'c');
    index.remove('u', 'd');
    index.remove('v', 'nope');
    expect(index.of('u')).toEqual([]);
    expect(index.size()).toEqual({ users: 1, sessions: 1 });
  });
});

describe('in-memory sliding windows', () => {
  it('forget keys idle for a whole window as new hits arrive, so a stream of fresh addresses holds only one window of keys', () => {
    const clock = fakeClock();
    const windows = new SlidingWindows(clock.now);
    let peak = 0;
    for (let i = 0; i < 20_000; i++) {
      clock.advance(1);
      windows.take(`10.0.${i >> 8}.${i & 255}`, 5, 100);
      peak = Math.max(peak, windows.size());
    }
    // One key per ms, window 100 ms: about 100 live keys, never the 20 000 seen.
    expect(peak).toBeLessThanOrEqual(102);
  });

  it('hold at most maxKeys, forgetting the least recently used first', () => {
    const clock = fakeClock();
    const windows = new SlidingWindows(clock.now, 100);
    for (let i = 0; i < 1000; i++) windows.take(`k${i}`, 1, 60_000);
    expect(windows.size()).toBeLessThanOrEqual(101);
    // The most recent keys are still limited; the oldest were forgotten.
    expect(windows.take('k999', 1, 60_000).allowed).toBe(false);
    expect(windows.take('k0', 1, 60_000).allowed).toBe(true);
  });
});

describeWithRedis('redis stores', (redis) => {
  let suite = 0;
  // Users in memory (eachStore has them in SQLite). A fresh key prefix per test keeps tests independent on the one server.
  storeContract(async (clock, options) => ({
    stores: await redisStores({ url: redis().url, prefix: `t${suite++}:`, now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY, ...options }),
    database: null,
    another: null,
  }));

  it('answers 503 STORE_UNAVAILABLE, not a bare error (500), when a script’s reply is out of step with its reader, on touch as on login', async () => {
    const clock = fakeClock(Date.now());
    const client = new Redis(redis().url);
    const stores = createRedisStoresOn(client, { prefix: 'drift:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY, userDatabase: createMemoryStores({ now: clock.now, sessionIdleMs: IDLE }) }, async () => void (await client.quit()));
    try {
      // The scripts as another release might write them: positional replies its readers refuse.
      client.defineCommand('touchSession', { numberOfKeys: 1, lua: "return {'skeyHash', 'h1'}" });
      client.defineCommand('createSession', { numberOfKeys: 2, lua: "return {'revoked', 0}" });
      await expect(stores.sessions.touch('h1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503, cause: expect.objectContaining({ message: 'TOUCH_SESSION did not answer a JSON object' }) });
      await expect(stores.sessions.create({ skeyHash: 'h1', userId: 'u1', sessionKey: 'k', createdAt: clock.now(), lastSeenAt: clock.now(), expiresAt: clock.now() + LIFETIME })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        status: 503,
      });
    } finally {
      await stores.close();
    }
  });

  it('keeps each user’s index a sorted set of live sessions only, with a TTL to the last lifetime; touch, logout, login and deleteAllOf prune it', async () => {
    const clock = fakeClock(Date.now());
    const stores = await redisStores({ url: redis().url, prefix: 'index:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
    const client = new Redis(redis().url);
    const create = (hash: string, userId: string) =>
      stores.sessions.create({ skeyHash: hash, userId, sessionKey: 'k', createdAt: clock.now(), lastSeenAt: clock.now(), expiresAt: clock.now() + LIFETIME });
    const indexOf = (userId: string) => client.zrange(`index:sessions-of:${userId}`, 0, -1);
    try {
      await stores.users.findOrCreate({ openid: 'o-a' }, () => ({ id: 'a', openid: 'o-a', nickname: '', avatarUrl: '', createdAt: clock.now() }));
      for (let i = 0; i < 5; i++) {
        clock.advance(1);
        await create(`a${i}`, 'a');
      }
      expect(await indexOf('a')).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
      const ttl = await client.pttl('index:sessions-of:a');
      expect(ttl).toBeGreaterThan(IDLE);
      expect(ttl).toBeLessThanOrEqual(LIFETIME);

      await stores.sessions.delete('a1');
      expect(await indexOf('a')).toEqual(['a0', 'a2', 'a3', 'a4']);
      clock.advance(IDLE);
      // A touch that finds its session dead deletes its index entry with it.
      expect(await stores.sessions.touch('a2')).toBeNull();
      expect(await indexOf('a')).toEqual(['a0', 'a3', 'a4']);
      // A login prunes the user's dead entries, and their hashes.
      await create('a5', 'a');
      expect(await indexOf('a')).toEqual(['a5']);
      expect(await client.exists('index:session:a0', 'index:session:a3', 'index:session:a4')).toBe(0);

      await create('b0', 'b');
      expect(await stores.sessions.deleteAllOf('b')).toBe(1);
      expect(await client.exists('index:sessions-of:b', 'index:session:b0')).toBe(0);
      // deleteAll takes the indexes with the sessions.
      expect(await stores.sessions.deleteAll()).toBe(1);
      expect(await client.keys('index:session*')).toEqual([]);
    } finally {
      await client.quit();
      await stores.close();
    }
  });

  it('keeps the per-user cap across instances sharing one Redis: concurrent logins on two stores leave exactly the cap', async () => {
    const clock = fakeClock(Date.now());
    // Two instances: one Redis, one database of users.
    const options = { url: redis().url, prefix: 'two:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY, userDatabase: createMemoryStores({ now: clock.now, sessionIdleMs: IDLE }) };
    const [one, two] = await Promise.all([redisStores(options), redisStores(options)]);
    try {
      await one.users.findOrCreate({ openid: 'o-u' }, () => ({ id: 'u', openid: 'o-u', nickname: '', avatarUrl: '', createdAt: clock.now() }));
      const hashes = Array.from({ length: 40 }, (_, i) => `h${i}`);
      const revoked = await Promise.all(
        hashes.map((hash, i) => (i % 2 ? one : two).sessions.create({ skeyHash: hash, userId: 'u', sessionKey: 'k', createdAt: clock.now(), lastSeenAt: clock.now(), expiresAt: clock.now() + LIFETIME })),
      );
      expect(revoked.reduce((sum, n) => sum + n, 0)).toBe(40 - DEFAULT_MAX_SESSIONS_PER_USER);
      let live = 0;
      for (const hash of hashes) if (await two.sessions.touch(hash)) live++;
      expect(live).toBe(DEFAULT_MAX_SESSIONS_PER_USER);
      expect(await one.sessions.deleteAllOf('u')).toBe(DEFAULT_MAX_SESSIONS_PER_USER);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('answers 503 STORE_UNAVAILABLE once Redis is gone, instead of hanging', async () => {
    const clock = fakeClock();
    const own = await startRedis();
    const stores = await redisStores({ url: own.url, now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
    await own.stop();
    await expect(stores.sessions.touch('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
    await stores.close();
  });

  it('refuses to start when Redis cannot be reached, naming REDIS_URL’s host and port and the cause, never the password', async () => {
    const port = await freePort();
    const refusal = redisStores({ url: `redis://:pa55word@127.0.0.1:${port}`, now: Date.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
    await expect(refusal).rejects.toThrow(`cannot connect to Redis at REDIS_URL (127.0.0.1:${port}): connect ECONNREFUSED 127.0.0.1:${port}`);
    await expect(refusal).rejects.toThrow(expect.objectContaining({ message: expect.not.stringContaining('pa55word') }));
  });

  it('says why Redis could not be reached even when REDIS_URL’s password holds a % that is no escape, without printing it', () => {
    // decodeURIComponent throws on "50%off": the refusal used to be that URIError, its cause lost.
    const refusal = new RedisUnreachableError('redis://:50%off@127.0.0.1:6390', new Error('handshake with 50%off failed'));
    expect(refusal.message).toBe('cannot connect to Redis at REDIS_URL (127.0.0.1:6390): handshake with [redacted] failed');
  });

  it('refuses to start when Redis refuses the password (or wants one), saying so without printing it', async () => {
    const own = await startRedis(['--requirepass', 'right-pa55']);
    const where = new URL(own.url).host;
    try {
      const wrong = redisStores({ url: own.url.replace('redis://', 'redis://:wrong-pa55@'), now: Date.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
      await expect(wrong).rejects.toThrow(new RegExp(`^cannot connect to Redis at REDIS_URL \\(${where}\\): WRONGPASS`));
      await expect(wrong).rejects.toThrow(expect.objectContaining({ message: expect.not.stringContaining('wrong-pa55') }));
      await expect(redisStores({ url: own.url, now: Date.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY })).rejects.toThrow(
        `cannot connect to Redis at REDIS_URL (${where}): NOAUTH Authentication required.`,
      );
      const right = await redisStores({ url: own.url.replace('redis://', 'redis://:right-pa55@'), now: Date.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
      await expect(right.ping()).resolves.toBeUndefined();
      await right.close();
    } finally {
      await own.stop();
    }
  });

  it('stores session_key sealed: the raw value never appears in Redis, and a rotated key reads as no session_key', async () => {
    const clock = fakeClock(Date.now());
    const plain = 'tiihtNczf5v6AKRyjwEUhQ==';
    const stores = await redisStores({ url: redis().url, prefix: 'seal:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
    const record = { skeyHash: 'a'.repeat(64), userId: 'u', sessionKey: plain, createdAt: clock.now(), lastSeenAt: clock.now(), expiresAt: clock.now() + LIFETIME };
    await stores.users.findOrCreate({ openid: 'o-u' }, () => ({ id: 'u', openid: 'o-u', nickname: '', avatarUrl: '', createdAt: clock.now() }));
    await stores.sessions.create(record);
    await stores.sessions.create({ ...record, skeyHash: 'b'.repeat(64) });
    const client = new Redis(redis().url);
    const raw = await client.hget(`seal:session:${'a'.repeat(64)}`, 'sessionKey');
    const dump = JSON.stringify(await client.hgetall(`seal:session:${'a'.repeat(64)}`));
    expect(raw).toMatch(/^v2\./);
    // Every field fits in 64 bytes: Redis keeps the session in its compact encoding.
    expect(await client.object('ENCODING', `seal:session:${'a'.repeat(64)}`)).toBe('listpack');
    expect(dump).not.toContain(plain);
    expect(dump).not.toContain(Buffer.from(plain, 'base64').toString('hex'));
    expect(await stores.sessions.sessionKey('a'.repeat(64))).toBe(plain);

    // Copied onto another session, the sealed value does not open: it is bound to its own session.
    await client.hset(`seal:session:${'b'.repeat(64)}`, 'sessionKey', raw!);
    expect(await stores.sessions.sessionKey('b'.repeat(64))).toBeNull();

    const rotated = await redisStores({ url: redis().url, prefix: 'seal:', now: clock.now, sessionIdleMs: IDLE, sealKey: Buffer.alloc(32, 2), userDatabase: { ...stores, close: async () => undefined } });
    expect(await rotated.sessions.sessionKey('a'.repeat(64))).toBeNull();
    expect(await rotated.sessions.touch('a'.repeat(64))).not.toBeNull();
    await client.quit();
    await rotated.close();
    await stores.close();
  });

  it('stores the access token sealed: a dump of Redis holds no usable token, a copied or rotated-key value reads as absent, deleteIf still compares the token', async () => {
    const clock = fakeClock(Date.now());
    const token = '87_Zk3xq-AccessTokenAsWeChatIssuesIt-0123456789';
    const credential = { value: token, refreshAt: clock.now() + 60_000, expiresAt: clock.now() + 120_000 };
    const stores = await redisStores({ url: redis().url, prefix: 'cred-seal:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
    const client = new Redis(redis().url);
    try {
      await stores.credentials.set('access_token:wxA', credential);
      const keys = await client.keys('cred-seal:*');
      const dump = JSON.stringify(await Promise.all(keys.map((key) => client.hgetall(key))));
      expect(dump).not.toContain(token);
      const sealed = await client.hget('cred-seal:credential:access_token:wxA', 'value');
      expect(sealed).toMatch(/^v1\./);
      expect(await stores.credentials.get('access_token:wxA')).toEqual(credential);

      // Bound to its name: copied onto another credential it does not open.
      await client.hset('cred-seal:credential:access_token:wxB', { ...credential, value: sealed! });
      expect(await stores.credentials.get('access_token:wxB')).toBeNull();
      // Another key (rotated) cannot read it either: the manager would fetch a fresh token.
      const rotated = await redisStores({ url: redis().url, prefix: 'cred-seal:', now: clock.now, sessionIdleMs: IDLE, sealKey: Buffer.alloc(32, 2) });
      expect(await rotated.credentials.get('access_token:wxA')).toBeNull();
      await rotated.close();

      expect(await stores.credentials.deleteIf('access_token:wxA', 'some-other-token')).toBe(false);
      expect(await stores.credentials.get('access_token:wxA')).toEqual(credential);
      expect(await stores.credentials.deleteIf('access_token:wxA', token)).toBe(true);
      expect(await stores.credentials.get('access_token:wxA')).toBeNull();
    } finally {
      await client.quit();
      await stores.close();
    }
  });

  it('gives every rate-limit key a Redis TTL of its window, so Redis forgets idle clients by itself', async () => {
    const stores = await redisStores({ url: redis().url, prefix: 'rl:', now: Date.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
    await stores.limits.take('login:10.0.0.1', 5, 30_000);
    const client = new Redis(redis().url);
    const ttl = await client.pttl('rl:rate:login:10.0.0.1');
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    await client.quit();
    await stores.close();
  });

  it('answers 503 STORE_UNAVAILABLE within the command timeout while redis-server is paused (SIGSTOP), and serves again after SIGCONT', async () => {
    const own = await startRedis();
    const stores = await redisStores({ url: own.url, now: Date.now, sessionIdleMs: IDLE, commandTimeoutMs: 300, sealKey: SEAL_KEY });
    try {
      own.pause();
      const started = Date.now();
      await expect(stores.sessions.touch('x')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
      await expect(stores.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      // Each call waited out the 300 ms given, not the 2 s default (4 s for the two): loose, as a
      // loaded machine runs timers late.
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(2 * 300 - 50);
      expect(took).toBeLessThan(2 * 2000);
      own.resume();
      await expect(stores.ping()).resolves.toBeUndefined();
      expect(await stores.sessions.touch('x')).toBeNull();
    } finally {
      own.resume();
      await stores.close();
      await own.stop();
    }
  }, 20_000);

  it('authenticates in one round trip, and records a use only once the last record is a touch interval old, TTL included', async () => {
    const clock = fakeClock(Date.now());
    const stores = await redisStores({ url: redis().url, prefix: 'touch:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
    const client = new Redis(redis().url);
    try {
      // The spy below sees every connection's commands: this one's connection handshake (INFO) is over first.
      await client.ping();
      await stores.users.findOrCreate({ openid: 'o-t' }, () => ({ id: 't', openid: 'o-t', nickname: 'T', avatarUrl: '', createdAt: clock.now() }));
      const created = clock.now();
      await stores.sessions.create({ skeyHash: 'h', userId: 't', sessionKey: 'k', createdAt: created, lastSeenAt: created, expiresAt: created + LIFETIME });
      const stored = async () => ({ lastSeenAt: Number(await client.hget('touch:session:h', 'lastSeenAt')), ttl: await client.pttl('touch:session:h') });

      // Once to load the script into Redis (EVALSHA finds it missing and falls back to EVAL), then counted.
      await stores.sessions.touch('h');
      const sent = jest.spyOn(Redis.prototype, 'sendCommand');
      clock.advance(touchIntervalMs(IDLE) - 1);
      const found = await stores.sessions.touch('h');
      expect(sent.mock.calls.map(([command]) => command.name)).toEqual(['evalsha']);
      sent.mockRestore();
      expect(found?.user.nickname).toBe('T');
      // Within the touch interval: the session is live, and nothing was written.
      expect(found?.session.lastSeenAt).toBe(created);
      const before = await stored();
      expect(before.lastSeenAt).toBe(created);
      expect(before.ttl).toBeLessThanOrEqual(IDLE);

      // Redis counts the TTL down in real time, the test's clock is fake: the key is given what a
      // session idle for most of the timeout would have left, so that a TTL set again by the use
      // below is told apart from the old one by more than the milliseconds the test takes.
      const left = 1000;
      await client.pexpire('touch:session:h', left);
      clock.advance(1);
      expect((await stores.sessions.touch('h'))?.session.lastSeenAt).toBe(clock.now());
      const after = await stored();
      expect(after.lastSeenAt).toBe(clock.now());
      // The TTL starts again from this use: longer than what was left of the old one.
      expect(after.ttl).toBeGreaterThan(left);
      expect(after.ttl).toBeLessThanOrEqual(IDLE);

      // The idle timeout counts from the last record: a session idle that long is gone, and deleted.
      clock.advance(IDLE);
      expect(await stores.sessions.touch('h')).toBeNull();
      expect(await client.exists('touch:session:h')).toBe(0);
    } finally {
      await client.quit();
      await stores.close();
    }
  });

  it('gives every session key a Redis TTL no longer than the idle timeout', async () => {
    const clock = fakeClock(Date.now());
    const stores = await redisStores({ url: redis().url, prefix: 'ttl:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
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
    const stores = await redisStores({ url: redis().url, prefix: 'lock-ttl:', now: clock.now, sessionIdleMs: IDLE, sealKey: SEAL_KEY });
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

