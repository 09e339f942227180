/**
 * SQL databases for the store suites: a fresh SQLite file, or a private PostgreSQL / MariaDB
 * (tools/databases.ts) shared by a suite. Suites needing a server are skipped with a printed reason
 * when it is not installed, unless REQUIRE_POSTGRES=1 / REQUIRE_MARIADB=1 (CI sets both).
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { openDatabase, parseDatabaseUrl, type DatabaseOptions, type OpenDatabase } from '../../server/database';
import { migrateToLatest } from '../../server/stores/sql/migrations';
import { mariadbAvailable, postgresAvailable, startMariadb, startPostgres, type DatabaseServer } from '../../tools/databases';

export type ServerKind = 'postgres' | 'mariadb';

const servers: Record<ServerKind, { available: boolean; required: boolean; start(): Promise<DatabaseServer>; install: string; variable: string }> = {
  postgres: { available: postgresAvailable, required: process.env.REQUIRE_POSTGRES === '1', start: startPostgres, install: 'postgresql', variable: 'REQUIRE_POSTGRES' },
  mariadb: { available: mariadbAvailable, required: process.env.REQUIRE_MARIADB === '1', start: startMariadb, install: 'mariadb-server', variable: 'REQUIRE_MARIADB' },
};

/** A DATABASE_URL for a fresh SQLite file in a temporary folder. */
export function sqliteUrl(): string {
  return `sqlite:${path.join(mkdtempSync(path.join(os.tmpdir(), 'wx-login-sqlite-')), 'test.db')}`;
}

/** Opens the database at `url`, migrated to the current schema; `options` override the pool's size, the command timeout, SQLite's synchronous. */
export async function openMigrated(url: string, onError?: (error: Error) => void, options: Pick<DatabaseOptions, 'poolSize' | 'commandTimeoutMs' | 'sqliteSynchronous'> = {}): Promise<OpenDatabase> {
  const location = parseDatabaseUrl(url);
  if (!location) throw new Error(`not a DATABASE_URL: ${url}`);
  const opened = openDatabase(location, { poolSize: 4, commandTimeoutMs: 2000, ...options, ...(onError ? { onError } : {}) });
  await migrateToLatest(opened.db, opened.kind);
  return opened;
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
