/**
 * What every store does for blocking, the operator's searches and the audit trail, on memory,
 * SQLite, PostgreSQL and MariaDB, and with sessions in Redis beside users in SQLite (as the server
 * composes them with REDIS_URL).
 */
import { createMemoryAuditStore } from '../../server/stores/memory-audit';
import type { AuditEntry, SessionRecord, Stores, UserRecord } from '../../server/stores/types';
import { eachStore, storesForEachTest, STORE_IDLE_MS as IDLE, type OpenStores } from './helpers-databases';
import type { FakeClock } from './helpers';

const LIFETIME = 10 * 60_000;

function blockingAndAuditContract(open: OpenStores) {
  let clock: FakeClock;
  let stores: Stores;
  storesForEachTest(open, (opened) => ({ stores, clock } = opened));

  const newUser = async (id: string, nickname = '') => {
    clock.advance(1);
    const { user } = await stores.users.findOrCreate({ openid: `o-${id}` }, (): UserRecord => ({ id, openid: `o-${id}`, nickname: '', avatarUrl: '', createdAt: clock.now() }));
    if (nickname !== '') await stores.users.update(id, { nickname });
    return user;
  };
  const session = (hash: string, userId: string): SessionRecord => {
    const at = clock.now();
    return { skeyHash: hash, userId, sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==', createdAt: at, lastSeenAt: at, expiresAt: at + LIFETIME };
  };
  const entry = (userId: string | null, at: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
    at,
    userId,
    actor: 'user',
    action: 'login',
    outcome: 'ok',
    clientNetwork: '203.0.113.0/24',
    detail: null,
    ...overrides,
  });

  describe('blocking', () => {
    it('keeps a block with its time and reason on the user, for get, touch and findOrCreate alike, until it is lifted', async () => {
      await newUser('u1');
      await stores.sessions.create(session('h1', 'u1'));
      const blocked = await stores.users.block('u1', { at: 1234, reason: 'spam reports' });
      expect(blocked?.blocked).toEqual({ at: 1234, reason: 'spam reports' });
      expect((await stores.users.get('u1'))?.blocked).toEqual({ at: 1234, reason: 'spam reports' });
      expect((await stores.sessions.touch('h1'))?.user.blocked).toEqual({ at: 1234, reason: 'spam reports' });
      expect((await stores.users.findOrCreate({ openid: 'o-u1' }, () => fail('must find the user'))).user.blocked).toEqual({ at: 1234, reason: 'spam reports' });

      // A second block replaces the first.
      expect((await stores.users.block('u1', { at: 2000, reason: 'again' }))?.blocked).toEqual({ at: 2000, reason: 'again' });
      const lifted = await stores.users.unblock('u1');
      expect(lifted?.id).toBe('u1');
      expect(lifted?.blocked).toBeUndefined();
      expect((await stores.users.get('u1'))?.blocked).toBeUndefined();
      expect((await stores.sessions.touch('h1'))?.user.blocked).toBeUndefined();
    });

    it('answers null when blocking or unblocking a user that does not exist, and creates nobody', async () => {
      expect(await stores.users.block('ghost', { at: 1, reason: 'x' })).toBeNull();
      expect(await stores.users.unblock('ghost')).toBeNull();
      expect(await stores.users.get('ghost')).toBeNull();
    });

    it('keeps a block through a profile update and a phone binding', async () => {
      await newUser('u1');
      await stores.users.block('u1', { at: 5, reason: 'r' });
      expect((await stores.users.update('u1', { nickname: '小明' }))?.after.blocked).toEqual({ at: 5, reason: 'r' });
      const bound = await stores.users.bindPhone('u1', { countryCode: '86', number: '13800138000' });
      expect(bound?.ok && bound.user.blocked).toEqual({ at: 5, reason: 'r' });
    });
  });

  describe('live sessions of a user', () => {
    it('counts only the live ones, and none once they are all ended', async () => {
      await newUser('u1');
      await newUser('u2');
      await stores.sessions.create(session('a1', 'u1'));
      clock.advance(IDLE / 2);
      await stores.sessions.create(session('a2', 'u1'));
      await stores.sessions.create(session('b1', 'u2'));
      expect(await stores.sessions.countOf('u1')).toBe(2);
      // a1 goes idle; a2 is still within its idle timeout.
      clock.advance(IDLE / 2);
      expect(await stores.sessions.countOf('u1')).toBe(1);
      expect(await stores.sessions.deleteAllOf('u1')).toBe(1);
      expect(await stores.sessions.countOf('u1')).toBe(0);
      expect(await stores.sessions.countOf('u2')).toBe(1);
      expect(await stores.sessions.countOf('nobody')).toBe(0);
    });
  });

  describe('operator searches', () => {
    it('finds the holder of a phone number by country code and number exactly, and nobody for another', async () => {
      await newUser('u1');
      await newUser('u2');
      await stores.users.bindPhone('u2', { countryCode: '86', number: '13800138000' });
      expect((await stores.users.findByPhone({ countryCode: '86', number: '13800138000' }))?.id).toBe('u2');
      expect(await stores.users.findByPhone({ countryCode: '852', number: '13800138000' })).toBeNull();
      expect(await stores.users.findByPhone({ countryCode: '86', number: '1380013800' })).toBeNull();
    });

    it('finds nicknames containing a text, case-sensitively, oldest first, at most the limit, taking % and _ literally', async () => {
      await newUser('u1', '小明同学');
      await newUser('u2', 'Ming');
      await newUser('u3', '大明');
      await newUser('u4', 'ming_100%');
      await newUser('u5', '明明');
      expect((await stores.users.searchByNickname('明', 10)).map((u) => u.id)).toEqual(['u1', 'u3', 'u5']);
      expect((await stores.users.searchByNickname('明', 2)).map((u) => u.id)).toEqual(['u1', 'u3']);
      expect((await stores.users.searchByNickname('ming', 10)).map((u) => u.id)).toEqual(['u4']);
      expect((await stores.users.searchByNickname('%', 10)).map((u) => u.id)).toEqual(['u4']);
      expect((await stores.users.searchByNickname('g_', 10)).map((u) => u.id)).toEqual(['u4']);
      expect(await stores.users.searchByNickname('nobody', 10)).toEqual([]);
    });
  });

  describe('audit trail', () => {
    it('lists one user’s entries newest first, bounded, with their detail, and no one else’s', async () => {
      for (let i = 0; i < 5; i++) await stores.audit.record(entry('u1', 1000 + i, { detail: { n: i } }));
      await stores.audit.record(entry('u2', 2000));
      await stores.audit.record(entry(null, 3000, { outcome: 'refused', detail: { reason: 'RATE_LIMITED' } }));
      await stores.audit.record(entry('u1', 1500, { actor: 'operator', action: 'blocked', clientNetwork: null, detail: { reason: 'spam', sessionsEnded: 2, fields: ['a', 'b'], flag: true } }));
      const listed = await stores.audit.listOf('u1', 3);
      expect(listed).toEqual([
        entry('u1', 1500, { actor: 'operator', action: 'blocked', clientNetwork: null, detail: { reason: 'spam', sessionsEnded: 2, fields: ['a', 'b'], flag: true } }),
        entry('u1', 1004, { detail: { n: 4 } }),
        entry('u1', 1003, { detail: { n: 3 } }),
      ]);
      expect((await stores.audit.listOf('u1', 100)).length).toBe(6);
      expect(await stores.audit.listOf('u2', 100)).toEqual([entry('u2', 2000)]);
      expect(await stores.audit.listOf('nobody', 100)).toEqual([]);
    });

    it('anonymises a deleted user’s entries: kept as what happened and when, under one new id, without network or detail; others untouched', async () => {
      await stores.audit.record(entry('u1', 1000, { detail: { fields: ['nickname'] } }));
      await stores.audit.record(entry('u1', 1001, { actor: 'operator', action: 'blocked', clientNetwork: null, detail: { reason: 'named someone' } }));
      await stores.audit.record(entry('u2', 1002));
      expect(await stores.audit.anonymise('u1')).toBe(2);
      expect(await stores.audit.listOf('u1', 100)).toEqual([]);
      expect(await stores.audit.listOf('u2', 100)).toEqual([entry('u2', 1002)]);
      expect(await stores.audit.anonymise('u1')).toBe(0);
      // The purge of everything shows what the anonymised entries had become.
      expect(await stores.audit.purge(1002)).toBe(2);
      expect(await stores.audit.listOf('u2', 100)).toEqual([entry('u2', 1002)]);
    });

    it('purges the entries older than the cut-off, of every user and of none, and keeps the rest', async () => {
      await stores.audit.record(entry('u1', 100));
      await stores.audit.record(entry(null, 150));
      await stores.audit.record(entry('u1', 200));
      await stores.audit.record(entry('u2', 300));
      expect(await stores.audit.purge(200)).toBe(2);
      expect((await stores.audit.listOf('u1', 100)).map((e) => e.at)).toEqual([200]);
      expect(await stores.audit.purge(200)).toBe(0);
      expect(await stores.audit.purge(10_000)).toBe(2);
      expect(await stores.audit.listOf('u2', 100)).toEqual([]);
    });
  });
}

eachStore('stores', blockingAndAuditContract);

describe('memory audit store', () => {
  it('keeps at most its limit of audit entries, dropping the oldest', async () => {
    const audit = createMemoryAuditStore(3);
    for (let i = 0; i < 5; i++) await audit.record({ at: i, userId: 'u', actor: 'user', action: 'login', outcome: 'ok', clientNetwork: null, detail: null });
    expect((await audit.listOf('u', 10)).map((e) => e.at)).toEqual([4, 3, 2]);
  });
});
