/**
 * The embedded database's connection (server/stores/sql/embedded.ts): the group commit that syncs
 * records before they are acknowledged and nothing else, the checkpoints run by a worker thread,
 * and the prepared queries run on the connection directly only when no transaction is open.
 */
import type * as Fs from 'node:fs';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import type { OpenDatabase } from '../../server/database';
import { BACKSTOP_PAGES, CHECKPOINT_EVERY } from '../../server/stores/sql/checkpointer';
import { embeddedConnectionOf, embeddedKysely, type EmbeddedConnection } from '../../server/stores/sql/embedded';
import { migrateToLatest } from '../../server/stores/sql/migrations';
import { transact } from '../../server/stores/sql/support';
import { touchIntervalMs, type Stores } from '../../server/stores/types';
import { freshUser, openMigrated, sessionOf, sqliteUrl, sqlStoresOn, STORE_IDLE_MS } from './helpers-databases';
import { fakeClock } from './helpers';

// The module object group-commit.ts calls fsync on (a namespace import would be a copy).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof Fs;


/** Until `condition` holds, turning the event loop (the syncs run on the thread pool). */
async function until(condition: () => boolean): Promise<void> {
  for (let turns = 0; !condition(); turns++) {
    if (turns > 10_000) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** A promise's state, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('the embedded database', () => {
  let opened: OpenDatabase;
  let stores: Stores;
  let embedded: EmbeddedConnection;
  const clock = fakeClock();

  const open = async (synchronous: 'full' | 'normal' = 'full') => {
    opened = await openMigrated(sqliteUrl(), undefined, { sqliteSynchronous: synchronous });
    stores = sqlStoresOn(opened, clock);
    embedded = embeddedConnectionOf(opened.db)!;
  };
  afterEach(async () => {
    jest.restoreAllMocks();
    await stores.close();
  });

  describe('group commit', () => {
    /** fsync calls held until released, as a slow disk would hold them. */
    const holdSyncs = () => {
      const real = fs.fsync;
      const held: (() => void)[] = [];
      jest.spyOn(fs, 'fsync').mockImplementation(((descriptor: number, done: (error: NodeJS.ErrnoException | null) => void) => {
        held.push(() => real(descriptor, done));
      }) as typeof fs.fsync);
      return held;
    };

    it('acknowledges a record only after a sync of the WAL that began after its write, and a record written during a sync waits for the next one', async () => {
      await open();
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      const syncsBefore = embedded.commits.syncs;
      expect(syncsBefore).toBeGreaterThanOrEqual(1);
      const held = holdSyncs();

      const first = stores.users.update('id1', { nickname: '爱丽丝🐱' });
      await until(() => held.length === 1);
      expect(await settled(first)).toBe(false);
      // Written while the first sync runs: that sync may have begun before it.
      const second = stores.users.update('id1', { nickname: 'Bob' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(held).toHaveLength(1);
      held.shift()!();
      expect((await first)?.after.nickname).toBe('爱丽丝🐱');
      await until(() => held.length === 1);
      expect(await settled(second)).toBe(false);
      held.shift()!();
      expect((await second)?.after.nickname).toBe('Bob');
      expect(embedded.commits.syncs - syncsBefore).toBe(2);
    });

    it('never waits for a sync for a session, a rate-limit hit, a read or a recorded use, and does for a logout', async () => {
      await open();
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      const held = holdSyncs();
      expect((await stores.limits.take('login:10.0.0.1', 5, 60_000)).allowed).toBe(true);
      expect(await stores.sessions.create(sessionOf(clock, 'h1', 'id1'))).toBe(0);
      expect((await stores.sessions.touch('h1'))?.user.id).toBe('id1');
      expect((await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'unused', 'o1'))).created).toBe(false);
      // A read that records the session's use (once per touch interval) writes session data only.
      clock.advance(touchIntervalMs(STORE_IDLE_MS));
      expect((await stores.sessions.touch('h1'))?.session.lastSeenAt).toBe(clock.now());
      expect(held).toHaveLength(0);
      // A logout is not undone by a power cut: the session's deletion waits for its sync.
      const logout = stores.sessions.delete('h1');
      await until(() => held.length === 1);
      expect(await settled(logout)).toBe(false);
      held.shift()!();
      expect(await logout).toBe(true);
    });

    it('lets 200 concurrent records share a few syncs, every one of them acknowledged', async () => {
      await open();
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      const syncsBefore = embedded.commits.syncs;
      const entries = Array.from({ length: 200 }, (_, i) => stores.audit.record({ at: clock.now() + i, userId: 'id1', actor: 'user', action: 'login', outcome: 'ok', clientNetwork: null, detail: null }));
      await Promise.all(entries);
      const syncs = embedded.commits.syncs - syncsBefore;
      expect(syncs).toBeGreaterThanOrEqual(1);
      expect(syncs).toBeLessThanOrEqual(3);
      expect(await stores.audit.listOf('id1', 500)).toHaveLength(200);
    });

    it('answers 503 STORE_UNAVAILABLE when the sync fails, and syncs again for the next record', async () => {
      await open();
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      const real = fs.fsync;
      jest.spyOn(fs, 'fsync').mockImplementationOnce(((_descriptor: number, done: (error: NodeJS.ErrnoException | null) => void) => {
        done(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
      }) as typeof fs.fsync);
      await expect(stores.users.update('id1', { nickname: 'lost?' })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
      expect(fs.fsync).not.toBe(real);
      const syncsBefore = embedded.commits.syncs;
      expect((await stores.users.update('id1', { nickname: 'kept' }))?.after.nickname).toBe('kept');
      expect(embedded.commits.syncs - syncsBefore).toBe(1);
    });

    it('where SQLite is not in WAL mode, leaves every commit to SQLite at synchronous FULL and records still succeed', async () => {
      const file = sqliteUrl().slice('sqlite:'.length);
      const db = embeddedKysely(new SqliteDatabase(file), file, true);
      try {
        await migrateToLatest(db, 'sqlite');
        const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] as object)[0];
        expect(await pragma('journal_mode')).toBe('delete');
        expect(await pragma('synchronous')).toBe(2);
        const plain = sqlStoresOn({ db, kind: 'sqlite', location: { kind: 'sqlite', file } }, clock);
        await plain.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
        expect((await plain.users.update('id1', { nickname: 'kept' }))?.after.nickname).toBe('kept');
        expect(embeddedConnectionOf(db)!.commits.syncs).toBe(0);
      } finally {
        await db.destroy();
      }
    });

    it('at SQLITE_SYNCHRONOUS=normal acknowledges records without a sync', async () => {
      await open('normal');
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      await stores.users.update('id1', { nickname: 'n' });
      expect(embedded.commits.syncs).toBe(0);
    });
  });

  describe('checkpoints', () => {
    it('leaves checkpoints to a worker thread, the serving connection keeping a backstop at 64 MB of WAL', async () => {
      await open();
      const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(opened.db)).rows[0] as object)[0];
      expect(await pragma('wal_autocheckpoint')).toBe(BACKSTOP_PAGES);
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      expect(embedded.checkpointer.done).toBe(0);
      for (let i = 0; i < CHECKPOINT_EVERY; i++) await stores.sessions.create(sessionOf(clock, `h${i}`, 'id1'));
      await until(() => embedded.checkpointer.done >= 1);
      const result = await embedded.checkpointer.checkpoint();
      expect(result.busy).toBe(0);
      expect(result.log).toBeGreaterThan(0);
      expect(result.checkpointed).toBe(result.log);
    });
  });

  describe('appends arriving together', () => {
    /** Transactions begun on the connection from now on (statements are kept prepared: counted where they run). */
    const countTransactions = () => {
      const statementPrototype = Object.getPrototypeOf(new SqliteDatabase(':memory:').prepare('select 1')) as SqliteDatabase.Statement;
      const ran = jest.spyOn(statementPrototype, 'run');
      return () => ran.mock.contexts.filter((statement) => (statement as SqliteDatabase.Statement).source === 'begin immediate').length;
    };
    const entry = (i: number) => ({ at: 1000 + i, userId: 'id1', actor: 'user' as const, action: 'login' as const, outcome: 'ok' as const, clientNetwork: null, detail: { n: i } });

    it('commit as one transaction per turn of the event loop, 256 at most, each caller answered', async () => {
      await open();
      const transactions = countTransactions();
      await Promise.all(Array.from({ length: 100 }, (_, i) => stores.audit.record(entry(i))));
      expect(transactions()).toBe(1);
      await Promise.all(Array.from({ length: 300 }, (_, i) => stores.audit.record(entry(100 + i))));
      expect(transactions()).toBe(3);
      const listed = await stores.audit.listOf('id1', 1000);
      expect(listed).toHaveLength(400);
      expect(listed[0].detail).toEqual({ n: 399 });
    });

    it('answer each WeChat event with its own outcome: the same event twice in one batch is recorded once', async () => {
      await open();
      const event = (dedupeKey: string) => ({ dedupeKey, kind: 'user_authorization_revoke' as const, openid: 'o1', revoked: ['phone'], receivedAt: 1 });
      expect(await Promise.all([stores.pushEvents.record(event('a')), stores.pushEvents.record(event('b')), stores.pushEvents.record(event('a'))])).toEqual([true, true, false]);
      expect(await stores.pushEvents.record(event('b'))).toBe(false);
      expect(await stores.pushEvents.counts()).toEqual({ pending: 2, done: 0 });
    });

    it('fail together when their transaction fails: every caller gets 503 STORE_UNAVAILABLE and nothing of the batch is kept', async () => {
      await open();
      // A trigger that refuses the third entry, as a full disk would refuse a write.
      await sql`create trigger refuse_third before insert on audit_events when new.at = 1002 begin select raise(abort, 'disk full'); end`.execute(opened.db);
      const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => stores.audit.record(entry(i))));
      expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
      expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(await stores.audit.listOf('id1', 10)).toEqual([]);
      await stores.audit.record(entry(5));
      expect(await stores.audit.listOf('id1', 10)).toHaveLength(1);
    });
  });

  describe('prepared queries run directly', () => {
    it('wait for a transaction another operation holds open: they neither read its uncommitted rows nor are rolled back with it', async () => {
      await open();
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      let inside!: () => void;
      const opened_ = new Promise<void>((resolve) => (inside = resolve));
      let finish!: () => void;
      const held = new Promise<void>((resolve) => (finish = resolve));
      const rolledBack = transact(opened.db, 'sqlite', async (trx) => {
        await trx.insertInto('users').values({ id: 'uncommitted', nickname: '', avatar_url: '', created_at: 1, updated_at: 1 }).execute();
        inside();
        await held;
        throw new Error('rolled back');
      });
      await opened_;
      // A prepared read and a prepared write from outside, while the transaction is open.
      const read = stores.users.get('uncommitted');
      const write = stores.sessions.create(sessionOf(clock, 'outside', 'id1'));
      expect(await settled(read)).toBe(false);
      expect(await settled(write)).toBe(false);
      finish();
      await expect(rolledBack).rejects.toThrow('rolled back');
      expect(await read).toBeNull();
      expect(await write).toBe(0);
      expect((await stores.sessions.touch('outside'))?.user.id).toBe('id1');
    });
  });
});
