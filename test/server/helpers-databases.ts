/**
 * SQL databases for the store suites: a fresh SQLite file, or a private PostgreSQL / MariaDB
 * (tools/databases.ts) shared by a suite. Suites needing a server are skipped with a printed reason
 * when it is not installed, unless REQUIRE_POSTGRES=1 / REQUIRE_MARIADB=1 (CI sets both). And
 * eachStore: one suite of cases on every store the server can run on.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import type { DatabaseOptions, OpenDatabase } from '../../server/database';
import { createMemoryStores } from '../../server/stores/memory';
import { createSqlStores } from '../../server/stores/sql';
import type { StoreOptions, Stores, UserRecord } from '../../server/stores/types';
import { mariadbAvailable, postgresAvailable, startMariadb, startPostgres, type DatabaseServer } from '../../tools/databases';
import { openMigrated as openMigratedDatabase } from '../../tools/open-migrated';
import { describeWithRedis, fakeClock, redisStores, type FakeClock } from './helpers';

export type ServerKind = 'postgres' | 'mariadb';

const servers: Record<ServerKind, { available: boolean; required: boolean; start(): Promise<DatabaseServer>; install: string; variable: string }> = {
  postgres: { available: postgresAvailable, required: process.env.REQUIRE_POSTGRES === '1', start: startPostgres, install: 'postgresql', variable: 'REQUIRE_POSTGRES' },
  mariadb: { available: mariadbAvailable, required: process.env.REQUIRE_MARIADB === '1', start: startMariadb, install: 'mariadb-server', variable: 'REQUIRE_MARIADB' },
};

/** A DATABASE_URL for a fresh SQLite file in a temporary folder. */
export function sqliteUrl(): string {
  return `sqlite:${path.join(mkdtempSync(path.join(os.tmpdir(), 'wx-login-sqlite-')), 'test.db')}`;
}

/** Opens the database at `url`, migrated to the current schema, with a test's small pool; `options` override the pool's size, the command timeout, SQLite's synchronous. */
export function openMigrated(url: string, onError?: (error: Error) => void, options: Pick<DatabaseOptions, 'poolSize' | 'commandTimeoutMs' | 'sqliteSynchronous'> = {}): Promise<OpenDatabase> {
  return openMigratedDatabase(url, { poolSize: 4, commandTimeoutMs: 2000, ...options, ...(onError ? { onError } : {}) });
}

/** Empties every table of ours (children first), so that tests sharing a server start alike. */
export async function emptyTables(opened: OpenDatabase): Promise<void> {
  for (const table of ['push_events', 'bind_tickets', 'accounts', 'sessions', 'identities', 'users', 'rate_limits', 'credentials', 'credential_locks', 'audit_events'] as const) {
    await sql`delete from ${sql.table(table)}`.execute(opened.db);
  }
}

/**
 * `describe` for suites on a private PostgreSQL or MariaDB: skipped with a printed reason when the
 * server is not installed, unless its REQUIRE_ variable is 1, where the suite fails instead.
 */
export function describeWithDatabase(kind: ServerKind, name: string, suite: (server: () => DatabaseServer) => void): void {
  const { available, required, start, install, variable } = servers[kind];
  if (!available && !required) {
    console.log(`Skipping "${name}": ${kind} is not installed (apt-get install ${install}; CI sets ${variable}=1).`);
    describe.skip(name, () => suite(() => ({}) as DatabaseServer));
    return;
  }
  describe(name, () => {
    let server: DatabaseServer | undefined;
    beforeAll(async () => {
      if (!available) throw new Error(`${variable}=1 but ${kind} is not installed`);
      server = await start();
    }, 60_000);
    afterAll(async () => {
      await server?.dispose();
    }, 30_000);
    // Nested, so that the suite's own afterAll hooks (closing pools) run before the server stops.
    describe(`with a private ${kind}`, () =>
      suite(() => {
        if (!server) throw new Error(`${kind} did not start`);
        return server;
      }),
    );
  });
}

/** The idle timeout of the stores eachStore opens. */
export const STORE_IDLE_MS = 60_000;
const SEAL_KEY = Buffer.alloc(32, 1);

/** The stores' own settings a case may change. */
export type StoreTuning = Pick<StoreOptions, 'maxSessionsPerUser'> & { commandTimeoutMs?: number };

/** A new user's record for findOrCreate, made on the test's clock. */
export const freshUser = (clock: FakeClock, id: string, openid: string) => (): UserRecord => ({ id, openid, nickname: '', avatarUrl: '', createdAt: clock.now() });

/** A session as a login stores it, made now on the test's clock, for ten minutes. */
export const sessionOf = (clock: FakeClock, hash: string, userId: string) => ({
  skeyHash: hash,
  userId,
  sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
  createdAt: clock.now(),
  lastSeenAt: clock.now(),
  expiresAt: clock.now() + 10 * 60_000,
});

/** SQL stores on `opened`, on the test's clock (closing them closes its pool). */
export function sqlStoresOn(opened: OpenDatabase, clock: FakeClock, tuning: StoreTuning = {}): Stores {
  return createSqlStores({ ...opened, now: clock.now, sessionIdleMs: STORE_IDLE_MS, sealKey: SEAL_KEY, appId: 'wx00000000simulated', commandTimeoutMs: 2000, ...tuning });
}

/**
 * Opens fresh stores on a fresh fake clock before each test of the suite and closes them after;
 * `take` hands both to the suite's own variables.
 */
export function storesForEachTest(open: OpenStores, take: (opened: { stores: Stores; clock: FakeClock }) => void): void {
  let stores: Stores | null = null;
  beforeEach(async () => {
    const clock = fakeClock();
    ({ stores } = await open(clock));
    take({ stores: stores!, clock });
  });
  afterEach(async () => {
    await stores?.close();
    stores = null;
  });
}

/** Stores eachStore opened for one test. */
export interface OpenedStores {
  stores: Stores;
  /** The SQL database under them; null for memory. */
  database: OpenDatabase | null;
  /** Another instance on the same data, as a second server given the same DATABASE_URL (and REDIS_URL); null for memory. */
  another: (() => Promise<Stores>) | null;
}

/** Opens fresh stores (empty, whatever earlier tests left) on the test's clock. */
export type OpenStores = (clock: FakeClock, tuning?: StoreTuning) => Promise<OpenedStores>;

export type StoreKind = 'memory' | 'sqlite' | ServerKind | 'redis';

/** SQL stores on the database at `url`, migrated (and emptied when a server shares it between tests). */
const sqlOpener =
  (url: () => string, shared: boolean): OpenStores =>
  async (clock, tuning) => {
    const at = url();
    const opened = await openMigrated(at);
    if (shared) await emptyTables(opened);
    return { stores: sqlStoresOn(opened, clock, tuning), database: opened, another: async () => sqlStoresOn(await openMigrated(at), clock, tuning) };
  };

/**
 * Runs `cases` once on every store the server can run on, each in a describe named after it and
 * `name`: memory (the test double), SQLite (a fresh file per test), PostgreSQL and MariaDB (one
 * private server per suite, its tables emptied before each test), and sessions in Redis beside
 * users in SQLite, as the server composes them with REDIS_URL and DATABASE_URL. `cases` opens its
 * stores with `open` in a hook; `kind` lets it add cases that hold for some stores only.
 */
export function eachStore(name: string, cases: (open: OpenStores, kind: StoreKind) => void): void {
  describe(`memory ${name}`, () =>
    cases(async (clock, tuning) => ({ stores: createMemoryStores({ now: clock.now, sessionIdleMs: STORE_IDLE_MS, ...tuning }), database: null, another: null }), 'memory'),
  );
  describe(`sqlite ${name}`, () => cases(sqlOpener(sqliteUrl, false), 'sqlite'));
  for (const kind of ['postgres', 'mariadb'] as const) {
    describeWithDatabase(kind, `${kind} ${name}`, (server) => cases(sqlOpener(() => server().url, true), kind));
  }
  describeWithRedis(`${name} with sessions in Redis and users in SQLite`, (redis) => {
    // A fresh key prefix per test keeps tests independent on the one server.
    let tests = 0;
    cases(async (clock, tuning) => {
      const options = { url: redis().url, prefix: `${++tests}:`, now: clock.now, sessionIdleMs: STORE_IDLE_MS, sealKey: SEAL_KEY, ...tuning };
      const url = sqliteUrl();
      const opened = await openMigrated(url);
      return {
        stores: await redisStores({ ...options, userDatabase: sqlStoresOn(opened, clock, tuning) }),
        database: opened,
        another: async () => redisStores({ ...options, userDatabase: sqlStoresOn(await openMigrated(url), clock, tuning) }),
      };
    }, 'redis');
  });
}
