/**
 * The push-event store (stores.pushEvents) and the user-store methods WeChat's account events use,
 * the same cases on memory, SQLite, PostgreSQL and MariaDB, and the SQL database as Redis-backed
 * stores' user database; on each but memory, two instances on one database.
 */
import { sql } from 'kysely';
import type { OpenDatabase } from '../../server/database';
import type { PushEventRecord, Stores, UserRecord } from '../../server/stores/types';
import { eachStore, type OpenStores } from './helpers-databases';
import { fakeClock, type FakeClock } from './helpers';

const LEASE = 30_000;

/** The rows of push_events as SQL sees them. */
const rowsOf = async (opened: OpenDatabase) =>
  (await sql<{ dedupe_key: string; openid: string; state: string }>`select dedupe_key, openid, state from push_events order by dedupe_key`.execute(opened.db)).rows;

function pushEventCases(open: OpenStores) {
  let clock: FakeClock;
  let stores: Stores;
  let database: OpenDatabase | null;
  beforeEach(async () => {
    clock = fakeClock();
    ({ stores, database } = await open(clock));
  });
  afterEach(() => stores.close());

  let n = 0;
  const event = (overrides: Partial<PushEventRecord> = {}): PushEventRecord => ({
    dedupeKey: `event:${String(++n).padStart(4, '0')}`,
    kind: 'user_authorization_revoke',
    openid: 'oUser00000000000000000000001',
    revoked: ['phone', 'profile'],
    receivedAt: clock.now(),
    ...overrides,
  });

  describe('push events', () => {
    it('records an event once: the same dedupe key again changes nothing', async () => {
      const first = event();
      expect(await stores.pushEvents.record(first)).toBe(true);
      expect(await stores.pushEvents.record({ ...first, receivedAt: clock.now() + 5000 })).toBe(false);
      expect(await stores.pushEvents.counts()).toEqual({ pending: 1, done: 0 });
    });

    it('hands a claimed event over with every field, and to nobody else while the claim lasts', async () => {
      const recorded = event({ kind: 'user_authorization_cancellation', revoked: [] });
      await stores.pushEvents.record(recorded);
      const claimed = await stores.pushEvents.claim(recorded.dedupeKey, LEASE);
      expect(claimed).toEqual({ ...recorded, claim: expect.stringMatching(/^[0-9a-f]{32}$/), attempts: 1 });
      expect(await stores.pushEvents.claim(recorded.dedupeKey, LEASE)).toBeNull();
      expect(await stores.pushEvents.due(10)).toEqual([]);
    });

    it('gives an event whose claim ran out (its worker died) to the next claim, which counts a second attempt', async () => {
      const recorded = event();
      await stores.pushEvents.record(recorded);
      const dead = await stores.pushEvents.claim(recorded.dedupeKey, LEASE);
      clock.advance(LEASE);
      expect(await stores.pushEvents.due(10)).toEqual([recorded.dedupeKey]);
      const next = await stores.pushEvents.claim(recorded.dedupeKey, LEASE);
      expect(next).toMatchObject({ attempts: 2 });
      // The dead worker's claim no longer finishes it; the live one does.
      expect(await stores.pushEvents.finish(recorded.dedupeKey, dead!.claim, 'acted')).toBe(false);
      expect(await stores.pushEvents.finish(recorded.dedupeKey, next!.claim, 'acted')).toBe(true);
    });

    it('lets one of 20 concurrent claims of an event have it', async () => {
      const recorded = event();
      await stores.pushEvents.record(recorded);
      const claims = await Promise.all(Array.from({ length: 20 }, () => stores.pushEvents.claim(recorded.dedupeKey, LEASE)));
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('finishes an event for good and forgets its openid: it is claimed by nobody again, and no longer due', async () => {
      const recorded = event();
      await stores.pushEvents.record(recorded);
      const claimed = await stores.pushEvents.claim(recorded.dedupeKey, LEASE);
      expect(await stores.pushEvents.finish(recorded.dedupeKey, claimed!.claim, 'acted')).toBe(true);
      clock.advance(LEASE);
      expect(await stores.pushEvents.claim(recorded.dedupeKey, LEASE)).toBeNull();
      expect(await stores.pushEvents.due(10)).toEqual([]);
      expect(await stores.pushEvents.counts()).toEqual({ pending: 0, done: 1 });
      expect(await stores.pushEvents.record(recorded)).toBe(false);
      if (database) expect(await rowsOf(database)).toEqual([{ dedupe_key: recorded.dedupeKey, openid: '', state: 'done' }]);
    });

    it('makes a released event due again at its retry time, not before', async () => {
      const recorded = event();
      await stores.pushEvents.record(recorded);
      const claimed = await stores.pushEvents.claim(recorded.dedupeKey, LEASE);
      await stores.pushEvents.release(recorded.dedupeKey, claimed!.claim, clock.now() + 4000);
      clock.advance(3999);
      expect(await stores.pushEvents.due(10)).toEqual([]);
      expect(await stores.pushEvents.claim(recorded.dedupeKey, LEASE)).toBeNull();
      clock.advance(1);
      expect(await stores.pushEvents.due(10)).toEqual([recorded.dedupeKey]);
      expect(await stores.pushEvents.claim(recorded.dedupeKey, LEASE)).toMatchObject({ attempts: 2 });
    });

    it('lists the due events oldest first, up to the limit, without those held or done', async () => {
      const [a, b, c, d] = [event(), event(), event(), event()];
      for (const recorded of [a, b, c, d]) {
        await stores.pushEvents.record(recorded);
        clock.advance(10);
      }
      await stores.pushEvents.claim(b.dedupeKey, LEASE);
      const done = await stores.pushEvents.claim(c.dedupeKey, LEASE);
      await stores.pushEvents.finish(c.dedupeKey, done!.claim, 'unknown-user');
      expect(await stores.pushEvents.due(10)).toEqual([a.dedupeKey, d.dedupeKey]);
      expect(await stores.pushEvents.due(1)).toEqual([a.dedupeKey]);
    });

    it('purges the done events finished before the given time, and never a pending one', async () => {
      const [old, recent, pending] = [event(), event(), event()];
      for (const recorded of [old, recent, pending]) await stores.pushEvents.record(recorded);
      const finish = async (recorded: PushEventRecord) => stores.pushEvents.finish(recorded.dedupeKey, (await stores.pushEvents.claim(recorded.dedupeKey, LEASE))!.claim, 'acted');
      await finish(old);
      clock.advance(60_000);
      await finish(recent);
      expect(await stores.pushEvents.purge(clock.now() - 30_000)).toBe(1);
      expect(await stores.pushEvents.counts()).toEqual({ pending: 1, done: 1 });
      // A purged key is new again: past the redelivery window, WeChat sends no copy of it.
      expect(await stores.pushEvents.record(old)).toBe(true);
    });
  });

  describe('the users of account events', () => {
    const fresh = (id: string, openid: string) => (): UserRecord => ({ id, openid, nickname: 'Ann', avatarUrl: '', createdAt: clock.now() });
    const phone = { countryCode: '86', number: '13800138000' };

    it('finds a user by the openid WeChat names, and nobody by an unknown one', async () => {
      await stores.users.findOrCreate({ openid: 'o-ann' }, fresh('u-ann', 'o-ann'));
      expect(await stores.users.findByOpenid('o-ann')).toMatchObject({ id: 'u-ann', openid: 'o-ann', nickname: 'Ann' });
      expect(await stores.users.findByOpenid('o-nobody')).toBeNull();
    });

    it('removes a phone number, which another user may then bind', async () => {
      await stores.users.findOrCreate({ openid: 'o-ann' }, fresh('u-ann', 'o-ann'));
      await stores.users.findOrCreate({ openid: 'o-bob' }, fresh('u-bob', 'o-bob'));
      await stores.users.bindPhone('u-ann', phone);
      const after = await stores.users.removePhone('u-ann');
      expect(after).toMatchObject({ id: 'u-ann', nickname: 'Ann' });
      expect(after?.phone).toBeUndefined();
      expect((await stores.users.get('u-ann'))?.phone).toBeUndefined();
      expect(await stores.users.removePhone('u-ann')).toMatchObject({ id: 'u-ann' });
      expect(await stores.users.bindPhone('u-bob', phone)).toMatchObject({ ok: true });
      expect(await stores.users.removePhone('u-nobody')).toBeNull();
    });
  });
}

/** 100 events, each claimed by both instances at once: every event has exactly one winner. */
async function twoInstancesClaimOnce(a: Stores, b: Stores, clock: FakeClock): Promise<void> {
  try {
    const keys = Array.from({ length: 100 }, (_, i) => `event:two-${i}`);
    for (const key of keys) await a.pushEvents.record({ dedupeKey: key, kind: 'user_info_modified', openid: `o${key}`, revoked: [], receivedAt: clock.now() });
    const claims = await Promise.all(keys.flatMap((key) => [a.pushEvents.claim(key, LEASE), b.pushEvents.claim(key, LEASE)]));
    const winners = claims.filter((claim) => claim !== null);
    expect(winners).toHaveLength(100);
    expect(new Set(winners.map((claim) => claim.dedupeKey)).size).toBe(100);
  } finally {
    await a.close();
    await b.close();
  }
}

eachStore('push-event store', (open, kind) => {
  pushEventCases(open);
  // Memory stores are one instance's own.
  if (kind !== 'memory') {
    it('lets one of two instances on one database claim each event', async () => {
      const clock = fakeClock();
      const { stores, another } = await open(clock);
      await twoInstancesClaimOnce(stores, await another!(), clock);
    }, 30_000);
  }
});
