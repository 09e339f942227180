/**
 * What only the SQL stores have: migrations and the schema check at start, MySQL's charset check,
 * several instances on one database, the per-user session cap, sealed secrets at rest, and a
 * database that goes away and comes back. The behaviour every store shares is in stores.test.ts.
 */
import { Migrator, sql } from 'kysely';
import { openDatabase, parseDatabaseUrl, type OpenDatabase } from '../../server/database';
import { loadConfig, type Config } from '../../server/config';
import { DatabaseUnreachableError, openCheckedDatabase } from '../../server/stores/from-config';
import { lockUser } from '../../server/stores/sql/support';
import { TABLES } from '../../server/stores/sql/schema';
import { CharsetError, migrateToLatest, migrations, MIGRATION_LOCK_TABLE, MIGRATION_TABLE, SchemaMismatchError, schemaStatus } from '../../server/stores/sql/migrations';
import { touchIntervalMs, type Stores } from '../../server/stores/types';
import { freePort } from '../../tools/free-port';
import { describeWithDatabase, freshUser, openMigrated, sessionOf, sqliteUrl, sqlStoresOn, STORE_IDLE_MS } from './helpers-databases';
import { fakeClock, until, type FakeClock } from './helpers';

const IDLE = STORE_IDLE_MS;
const APPID = 'wx00000000simulated';
/** Every migration of this code, in the order they apply. */
const MIGRATIONS = ['2026-12-07-01-users-identities-sessions', '2026-12-07-02-platform-accounts', '2026-12-07-03-blocking-and-audit', '2026-12-07-04-push-events', '2026-12-07-05-sessions-without-expiry-index'];


const configFor = (url: string, env: Record<string, string> = {}): Config => loadConfig({ WX_MODE: 'simulated', DATABASE_URL: url, ...env });

/**
 * The cases that hold on every SQL database; `url()` gives a database of its own to each test.
 * Several instances on one SQLite file are processes (better-sqlite3 waits for a lock by
 * blocking its thread, so two connections in one process would wait on each other).
 */
function sqlCases(url: () => Promise<string>, { severalInstances }: { severalInstances: boolean }) {
  describe('schema', () => {
    it('migrates an empty database, and a second run applies nothing', async () => {
      const { db, kind } = openDatabase(parseDatabaseUrl(await url())!);
      try {
        expect(await schemaStatus(db, kind)).toEqual({ pending: MIGRATIONS, unknown: [] });
        expect(await migrateToLatest(db, kind)).toEqual(MIGRATIONS);
        expect(await migrateToLatest(db, kind)).toEqual([]);
        expect(await schemaStatus(db, kind)).toEqual({ pending: [], unknown: [] });
      } finally {
        await db.destroy();
      }
    });

    it('migrates a database of the release before platform accounts, keeping its users, who then find their accounts empty', async () => {
      const opened = openDatabase(parseDatabaseUrl(await url())!);
      try {
        const first = '2026-12-07-01-users-identities-sessions';
        const previous = new Migrator({
          db: opened.db,
          provider: { getMigrations: async () => ({ [first]: migrations(opened.kind)[first] }) },
          migrationTableName: MIGRATION_TABLE,
          migrationLockTableName: MIGRATION_LOCK_TABLE,
        });
        expect((await previous.migrateToLatest()).error).toBeUndefined();
        const clock = fakeClock();
        // A user as that release's first login wrote it (this release's user reads join accounts, which it had not).
        await opened.db.insertInto('users').values({ id: 'old-user', nickname: '', avatar_url: '', created_at: clock.now(), updated_at: clock.now() }).execute();
        await opened.db.insertInto('identities').values({ kind: 'wechat', value: `${APPID}:o-old`, user_id: 'old-user', created_at: clock.now() }).execute();
        const before = sqlStoresOn({ ...opened, db: opened.db }, clock);

        expect(await migrateToLatest(opened.db, opened.kind)).toEqual(MIGRATIONS.slice(1));
        expect((await before.users.get('old-user'))?.blocked).toBeUndefined();
        expect(await before.users.find({ openid: 'o-old' })).toMatchObject({ id: 'old-user', openid: 'o-old' });
        expect((await before.users.get('old-user'))?.account).toBeUndefined();
        expect(await before.accounts.list()).toEqual([]);
      } finally {
        await opened.db.destroy();
      }
    });

    it('refuses to start on a database behind the code, naming npm run migrate; DATABASE_MIGRATE=auto migrates it instead', async () => {
      const target = await url();
      const behind = openCheckedDatabase(configFor(target), parseDatabaseUrl(target)!, () => undefined);
      await expect(behind).rejects.toThrow(SchemaMismatchError);
      await expect(behind).rejects.toThrow(`is behind this release: ${MIGRATIONS.length} migration(s) pending (${MIGRATIONS.join(', ')}); run \`npm run migrate\` with the same DATABASE_URL`);
      const opened = await openCheckedDatabase(configFor(target, { DATABASE_MIGRATE: 'auto' }), parseDatabaseUrl(target)!, () => undefined);
      await opened.db.destroy();
      const checked = await openCheckedDatabase(configFor(target), parseDatabaseUrl(target)!, () => undefined);
      await checked.db.destroy();
    });

    it('refuses to start on a database migrated by a newer release, and auto does not touch it either', async () => {
      const target = await url();
      const opened = await openMigrated(target);
      await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, timestamp) values ('2099-01-01-from-the-future', '2099-01-01T00:00:00.000Z')`.execute(opened.db);
      await opened.db.destroy();
      for (const env of [{ DATABASE_MIGRATE: 'check' }, { DATABASE_MIGRATE: 'auto' }]) {
        await expect(openCheckedDatabase(configFor(target, env), parseDatabaseUrl(target)!, () => undefined)).rejects.toThrow(
          /has migrations this release does not know \(2099-01-01-from-the-future\): it was migrated by a newer release/,
        );
      }
    });
  });

  (severalInstances ? describe : describe.skip)('several instances on one database', () => {
    let a: Stores;
    let b: Stores;
    let clock: FakeClock;
    beforeEach(async () => {
      clock = fakeClock();
      const target = await url();
      a = sqlStoresOn(await openMigrated(target), clock);
      b = sqlStoresOn(await openMigrated(target), clock);
    });
    afterEach(async () => {
      await a.close();
      await b.close();
    });

    it('makes one user of 50 concurrent first logins of one WeChat user spread over two instances', async () => {
      let n = 0;
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).users.findOrCreate({ openid: 'o-race', unionid: 'u-race' }, freshUser(clock, `id${n++}`, 'o-race'))));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.user.id)).size).toBe(1);
      expect(results.every((r) => r.user.unionid === 'u-race' && r.user.openid === 'o-race')).toBe(true);
    }, 30_000);

    it('lets one of two instances bind a contested number: the other user gets PHONE_IN_USE', async () => {
      await a.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      await b.users.findOrCreate({ openid: 'o2' }, freshUser(clock, 'id2', 'o2'));
      const phone = { countryCode: '86', number: '13800138000' };
      const results = await Promise.all([a.users.bindPhone('id1', phone), b.users.bindPhone('id2', phone), a.users.bindPhone('id2', phone), b.users.bindPhone('id1', phone)]);
      const winners = new Set(results.flatMap((r) => (r?.ok ? [r.user.id] : [])));
      expect(winners.size).toBe(1);
      expect(results.filter((r) => r?.ok === false)).toHaveLength(2);
      expect(results.filter((r) => r?.ok === false).every((r) => r?.ok === false && r.reason === 'PHONE_IN_USE')).toBe(true);
    });

    it('never lets two instances take more than the limit between them', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).limits.take('login:10.0.0.1', 5, 60_000)));
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
    });

    it('gives the credential renewal lock to one instance at a time', async () => {
      const locks = await Promise.all([a.credentials.lock('wx', 5000), b.credentials.lock('wx', 5000), a.credentials.lock('wx', 5000)]);
      expect(locks.filter(Boolean)).toHaveLength(1);
      await locks.find(Boolean)!();
      expect(await b.credentials.lock('wx', 5000)).not.toBeNull();
    });
  });

  describe('sessions at rest', () => {
    let opened: OpenDatabase;
    let stores: Stores;
    let clock: FakeClock;
    beforeEach(async () => {
      clock = fakeClock();
      opened = await openMigrated(await url());
      stores = sqlStoresOn(opened, clock, { maxSessionsPerUser: 3 });
      await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
      await stores.users.findOrCreate({ openid: 'o2' }, freshUser(clock, 'id2', 'o2'));
    });
    afterEach(async () => {
      await stores.close();
    });

    it('keeps at most the cap of live sessions per user: a login beyond it ends that user’s oldest, and nobody else’s', async () => {
      await stores.sessions.create(sessionOf(clock, 'other', 'id2'));
      for (let i = 1; i <= 5; i++) {
        clock.advance(1000);
        await stores.sessions.create(sessionOf(clock, `s${i}`, 'id1'));
      }
      const live = await Promise.all(['s1', 's2', 's3', 's4', 's5', 'other'].map(async (hash) => (await stores.sessions.touch(hash)) !== null));
      expect(live).toEqual([false, false, true, true, true, true]);
      const { count } = await opened.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('count')).where('user_id', '=', 'id1').executeTakeFirstOrThrow();
      expect(Number(count)).toBe(3);
    });

    it('stores a bind ticket’s session_key sealed, bound to the ticket: the raw value is nowhere in bind_tickets, and the bind opens it', async () => {
      const created = await stores.accounts.create({ name: 'T1', displayName: '', roles: [], passwordHash: '$scrypt$x' });
      if (!created.ok) throw new Error('not created');
      await stores.bindTickets.issue({ ticketHash: 'c'.repeat(64), openid: 'o-t', sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==', expiresAt: clock.now() + 60_000 });
      const rows = await opened.db.selectFrom('bind_tickets').selectAll().execute();
      expect(rows).toEqual([{ ticket_hash: 'c'.repeat(64), wechat: `${APPID}:o-t`, unionid: null, session_key: expect.any(String), expires_at: expect.anything() }]);
      expect(JSON.stringify(rows)).not.toContain('tiihtNczf5v6AKRyjwEUhQ==');
      expect(await stores.bindTickets.redeem('c'.repeat(64), created.account.userId)).toMatchObject({ ok: true, sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==' });
    });

    it('stores session_key sealed: the raw value is nowhere in the table, and a copied value does not open', async () => {
      await stores.sessions.create(sessionOf(clock, 'a'.repeat(64), 'id1'));
      await stores.sessions.create(sessionOf(clock, 'b'.repeat(64), 'id1'));
      const rows = await opened.db.selectFrom('sessions').selectAll().execute();
      expect(JSON.stringify(rows)).not.toContain('tiihtNczf5v6AKRyjwEUhQ==');
      expect(await stores.sessions.sessionKey('a'.repeat(64))).toBe('tiihtNczf5v6AKRyjwEUhQ==');
      const sealed = rows.find((row) => row.skey_hash === 'a'.repeat(64))!.session_key;
      await opened.db.updateTable('sessions').set({ session_key: sealed }).where('skey_hash', '=', 'b'.repeat(64)).execute();
      expect(await stores.sessions.sessionKey('b'.repeat(64))).toBeNull();
    });

    it('writes a use only once the recorded one is a touch interval old', async () => {
      const created = clock.now();
      await stores.sessions.create(sessionOf(clock, 'h', 'id1'));
      const stored = async () => Number((await opened.db.selectFrom('sessions').select('last_seen_at').where('skey_hash', '=', 'h').executeTakeFirstOrThrow()).last_seen_at);
      clock.advance(touchIntervalMs(IDLE) - 1);
      expect((await stores.sessions.touch('h'))?.session.lastSeenAt).toBe(created);
      expect(await stored()).toBe(created);
      clock.advance(1);
      expect((await stores.sessions.touch('h'))?.session.lastSeenAt).toBe(clock.now());
      expect(await stored()).toBe(clock.now());
    });

    it('deletes a dead session when it is next presented', async () => {
      await stores.sessions.create(sessionOf(clock, 'h', 'id1'));
      clock.advance(IDLE);
      expect(await stores.sessions.touch('h')).toBeNull();
      expect(await opened.db.selectFrom('sessions').select('skey_hash').execute()).toEqual([]);
    });
  });

  describe('rate limits at rest', () => {
    const WINDOW = 60_000;
    it('moves a key’s expiry once per window rather than per hit, and sweeps the key only once its last hit is a window old', async () => {
      const clock = fakeClock();
      const opened = await openMigrated(await url());
      const stores = sqlStoresOn(opened, clock);
      const expiry = async (key: string) => (await opened.db.selectFrom('rate_limits').select('expires_at').where('key', '=', key).executeTakeFirst())?.expires_at;
      try {
        const first = clock.now();
        expect((await stores.limits.take('login:idle', 100, WINDOW)).allowed).toBe(true);
        expect(Number(await expiry('login:idle'))).toBe(first + 2 * WINDOW);
        clock.advance(WINDOW / 2);
        await stores.limits.take('login:idle', 100, WINDOW);
        expect(Number(await expiry('login:idle'))).toBe(first + 2 * WINDOW);
        clock.advance(WINDOW);
        const last = clock.now();
        await stores.limits.take('login:idle', 100, WINDOW);
        expect(Number(await expiry('login:idle'))).toBe(last + 2 * WINDOW);
        // A window after its last hit, the key has nothing left in the window: three hits of a limit of three pass.
        clock.advance(WINDOW);
        for (let i = 0; i < 3; i++) expect((await stores.limits.take('login:idle', 3, WINDOW)).allowed).toBe(true);
        expect((await stores.limits.take('login:idle', 3, WINDOW)).allowed).toBe(false);
        // Two windows on, a sweep (set off by the 1,000th hit of this store) deletes it; a key hit just before stays.
        clock.advance(2 * WINDOW);
        await stores.limits.take('login:busy', 10_000, WINDOW);
        for (let i = 0; i < 1000; i++) await stores.limits.take('login:busy', 10_000, WINDOW);
        await until(async () => (await expiry('login:idle')) === undefined, 'the idle key swept');
        expect(await expiry('login:busy')).toBeDefined();
      } finally {
        await stores.close();
      }
      // A thousand hits, each a committed transaction: seconds on MariaDB, which syncs every commit.
    }, 60_000);
  });
}

describe('sqlite', () => {
  sqlCases(async () => sqliteUrl(), { severalInstances: false });

  it('runs in WAL mode at synchronous NORMAL (records are synced by the group commit) with foreign keys on, in a private folder it creates', async () => {
    const url = sqliteUrl().replace(/test\.db$/, 'data/wx-login.db');
    const opened = await openMigrated(url);
    try {
      const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(opened.db)).rows[0] as object)[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(1);
      expect(await pragma('foreign_keys')).toBe(1);
      const { statSync } = await import('node:fs');
      const path = await import('node:path');
      expect(statSync(path.dirname(url.slice('sqlite:'.length))).mode & 0o777).toBe(0o700);
    } finally {
      await opened.db.destroy();
    }
  });
});

for (const kind of ['postgres', 'mariadb'] as const) {
  describeWithDatabase(kind, kind, (server) => {
    let databases = 0;
    sqlCases(async () => server().createDatabase(`case${databases++}`), { severalInstances: true });

    it('answers 503 STORE_UNAVAILABLE while the database is stopped, says so to the readiness probe, and serves again once it is back, without reopening', async () => {
      const clock = fakeClock();
      const opened = await openMigrated(await server().createDatabase('outage'), () => undefined);
      const stores = sqlStoresOn(opened, clock, { commandTimeoutMs: 1000 });
      try {
        await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
        await server().stop();
        await expect(stores.users.get('id1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
        await expect(stores.ping()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
        await server().start();
        await expect(stores.ping()).resolves.toBeUndefined();
        expect((await stores.users.get('id1'))?.id).toBe('id1');
      } finally {
        await server().start().catch(() => undefined);
        await stores.close();
      }
    }, 60_000);

    it('answers 503 STORE_UNAVAILABLE within the command timeout while the database hangs (SIGSTOP), and serves again after SIGCONT', async () => {
      const clock = fakeClock();
      const opened = await openMigrated(await server().createDatabase('hang'), () => undefined);
      const stores = sqlStoresOn(opened, clock, { commandTimeoutMs: 500 });
      try {
        await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
        server().pause();
        const started = Date.now();
        await expect(stores.users.get('id1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503 });
        // Within the 500 ms given (loose: a loaded machine runs timers late), not the default 2 s.
        expect(Date.now() - started).toBeLessThan(2000);
        server().resume();
        await expect(stores.ping()).resolves.toBeUndefined();
        expect((await stores.users.get('id1'))?.id).toBe('id1');
      } finally {
        server().resume();
        await stores.close();
      }
    }, 60_000);

    it('gives a connection back at the command timeout when its statement waits for a lock, so that requests needing no such lock are served', async () => {
      const clock = fakeClock();
      const url = await server().createDatabase('lockwait');
      // Two connections: the two waiting updates below take both.
      const opened = await openMigrated(url, () => undefined, { poolSize: 2, commandTimeoutMs: 500 });
      const stores = sqlStoresOn(opened, clock, { commandTimeoutMs: 500 });
      const other = await openMigrated(url);
      let release = () => {};
      try {
        await stores.users.findOrCreate({ openid: 'o1' }, freshUser(clock, 'id1', 'o1'));
        await stores.users.findOrCreate({ openid: 'o2' }, freshUser(clock, 'id2', 'o2'));
        // Another instance holds id1's row lock in a transaction that stays open.
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked = () => {};
        const isLocked = new Promise<void>((resolve) => (locked = resolve));
        const holding = other.db.transaction().execute(async (trx) => {
          await lockUser(other.kind, trx, 'id1');
          locked();
          await held;
        });
        await isLocked;
        const waiting = await Promise.allSettled([stores.users.update('id1', { nickname: 'late' }), stores.users.update('id1', { nickname: 'late' })]);
        expect(waiting.map((result) => result.status === 'rejected' && (result.reason as { code?: string }).code)).toEqual(['STORE_UNAVAILABLE', 'STORE_UNAVAILABLE']);
        // Both connections were the waiting updates'; another user's read is served all the same.
        expect((await stores.users.get('id2'))?.id).toBe('id2');
        release();
        await holding;
        expect((await stores.users.update('id1', { nickname: 'after' }))?.after.nickname).toBe('after');
        // What timed out was not done later: the nickname is the one written after.
        expect((await stores.users.get('id1'))?.nickname).toBe('after');
      } finally {
        release();
        await stores.close();
        await other.db.destroy();
      }
    }, 60_000);

    it('refuses to start when the database cannot be reached, saying where and why, never the password', async () => {
      const port = await freePort();
      const url = kind === 'postgres' ? `postgres://wx:pa55word@127.0.0.1:${port}/wx` : `mysql://wx:pa55word@127.0.0.1:${port}/wx`;
      const refusal = openCheckedDatabase(configFor(url), parseDatabaseUrl(url)!, () => undefined);
      await expect(refusal).rejects.toThrow(DatabaseUnreachableError);
      await expect(refusal).rejects.toThrow(new RegExp(`^cannot use the database at DATABASE_URL \\((PostgreSQL|MySQL) at 127\\.0\\.0\\.1:${port}/wx\\): .*ECONNREFUSED`));
      await expect(refusal).rejects.toThrow(expect.objectContaining({ message: expect.not.stringContaining('pa55word') }));
    });
  });
}

describeWithDatabase('mariadb', 'MySQL charsets', (server) => {
  it('creates every table in utf8mb4 on a server whose default is latin1', async () => {
    const opened = await openMigrated(await server().createDatabase('charsets'));
    try {
      const { rows } = await sql<{ name: string; collation: string }>`select table_name as name, table_collation as collation from information_schema.tables where table_schema = database() and table_name not like 'wxlogin_%' order by table_name`.execute(opened.db);
      expect(rows.map((row) => row.collation)).toEqual(Array(TABLES.length).fill('utf8mb4_bin'));
      const { rows: server_ } = await sql<{ charset: string }>`select @@character_set_database as charset`.execute(opened.db);
      expect(server_[0].charset).toBe('latin1');
    } finally {
      await opened.db.destroy();
    }
  });

  it('refuses to start on a table in 3-byte utf8, naming the statement that converts it; once converted it starts', async () => {
    const url = await server().createDatabase('utf8mb3');
    const opened = await openMigrated(url);
    await sql`alter table rate_limits convert to character set utf8mb3 collate utf8mb3_bin`.execute(opened.db);
    const start = () => openCheckedDatabase(configFor(url), parseDatabaseUrl(url)!, () => undefined);
    await expect(start()).rejects.toThrow(CharsetError);
    await expect(start()).rejects.toThrow(/rate_limits: utf8mb3.*ALTER TABLE `rate_limits` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;/);
    await sql.raw('ALTER TABLE `rate_limits` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin').execute(opened.db);
    await opened.db.destroy();
    const started = await start();
    await started.db.destroy();
  });

  it('speaks utf8mb4 on every connection, whatever the server default', async () => {
    const opened = await openMigrated(await server().createDatabase('connection'));
    try {
      const { rows } = await sql<{ client: string; connection: string; results: string }>`select @@character_set_client as client, @@character_set_connection as connection, @@character_set_results as results`.execute(opened.db);
      expect(rows[0]).toEqual({ client: 'utf8mb4', connection: 'utf8mb4', results: 'utf8mb4' });
    } finally {
      await opened.db.destroy();
    }
  });
});
