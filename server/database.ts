/**
 * The system of record's connection: DATABASE_URL parsed, and a Kysely instance on the matching
 * driver (better-sqlite3 for the embedded file, pg for PostgreSQL, mysql2 for MySQL/MariaDB),
 * set up so that what is written stays written and text stays as typed:
 * - SQLite: WAL at synchronous NORMAL, every acknowledged commit surviving kill -9, and the
 *   records (not sessions and rate-limit hits) a power cut too by default: they are acknowledged
 *   after a shared fsync of the WAL (stores/sql/group-commit.ts); foreign keys on, a busy timeout
 *   instead of SQLITE_BUSY.
 * - MySQL: every connection speaks utf8mb4 (the server's default charset may be latin1 or 3-byte
 *   utf8) in strict mode, so a value that does not fit is an error, never a silent truncation.
 * - PostgreSQL and MySQL: a statement without an answer within the command timeout ends, and its
 *   connection is free again (see each below).
 * - PostgreSQL: the stores' fixed queries run as named prepared statements (named-statements.ts).
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, MysqlDialect, PostgresDialect, type MysqlPool, type MysqlPoolConnection } from 'kysely';
import { createPool as createMysqlPool, type Pool as Mysql2Pool, type PoolConnection as Mysql2PoolConnection } from 'mysql2';
import { Pool as PgPool } from 'pg';
import { namingStatements, StatementNames, useStatementNames } from './named-statements';
import { embeddedKysely } from './stores/sql/embedded';
import type { Database } from './stores/sql/schema';
import { withoutUrlPassword } from './url-password';

export type DatabaseKind = 'sqlite' | 'postgres' | 'mysql';

/** DATABASE_URL, understood. */
export type DatabaseLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres' | 'mysql'; url: string };

/**
 * `sqlite:PATH` (relative to the working folder, or `sqlite:///absolute/path`), `postgres://` or
 * `postgresql://`, `mysql://` or `mariadb://`. Null when the URL is none of these.
 */
export function parseDatabaseUrl(raw: string): DatabaseLocation | null {
  if (raw.startsWith('sqlite:')) {
    let file = raw.slice('sqlite:'.length);
    if (file.startsWith('//')) file = file.slice(2);
    if (file === '' || file.includes('\0') || file.startsWith(':memory:')) return null;
    return { kind: 'sqlite', file: path.resolve(file) };
  }
  if (/^postgres(ql)?:\/\/[^/]/.test(raw)) return { kind: 'postgres', url: raw };
  if (/^(mysql|mariadb):\/\/[^/]/.test(raw)) return { kind: 'mysql', url: raw.replace(/^mariadb:/, 'mysql:') };
  return null;
}

/** Where the database is, for messages: the file, or the host and port and database name, never a password. */
export function describeLocation(location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return `SQLite at ${location.file}`;
  const url = new URL(location.url);
  const port = url.port || (location.kind === 'postgres' ? '5432' : '3306');
  return `${location.kind === 'postgres' ? 'PostgreSQL' : 'MySQL'} at ${url.hostname}:${port}${url.pathname}`;
}

/** A message with the URL's password cut out, whatever the driver put in it. */
export function withoutPassword(message: string, location: DatabaseLocation): string {
  if (location.kind === 'sqlite') return message;
  return withoutUrlPassword(message, location.url);
}

export interface DatabaseOptions {
  /** Connections per instance (PostgreSQL, MySQL). */
  poolSize?: number;
  /** A connection attempt or a statement without an answer after this long fails. */
  commandTimeoutMs?: number;
  /** SQLite: 'full' (the default) syncs each record before it is acknowledged, so that it also survives a power cut; 'normal' does not (see group-commit.ts). */
  sqliteSynchronous?: 'full' | 'normal';
  /** Told about connection trouble on idle connections (the pools reconnect by themselves). */
  onError?: (error: Error) => void;
  /** PostgreSQL: the stores' fixed queries run as named prepared statements (named-statements.ts); off behind a pooler that cannot keep them. On by default. */
  preparedStatements?: boolean;
}

export interface OpenDatabase {
  db: Kysely<Database>;
  kind: DatabaseKind;
  location: DatabaseLocation;
}

/**
 * The embedded database's folder is created private (0700): it holds the users' phone numbers.
 * A folder that exists is left as its owner set it.
 */
function ensurePrivateFolder(file: string): void {
  const folder = path.dirname(file);
  if (existsSync(folder)) return;
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  chmodSync(folder, 0o700);
}

/** A Kysely instance on DATABASE_URL's database. Nothing is connected yet for PostgreSQL and MySQL: the pools connect on first use. */
export function openDatabase(location: DatabaseLocation, { poolSize = 10, commandTimeoutMs = 2000, sqliteSynchronous = 'full', onError, preparedStatements = true }: DatabaseOptions = {}): OpenDatabase {
  if (location.kind === 'sqlite') {
    ensurePrivateFolder(location.file);
    const file = new SqliteDatabase(location.file, { timeout: Math.max(commandTimeoutMs, 5000) });
    file.pragma('journal_mode = WAL');
    file.pragma('foreign_keys = ON');
    return { db: embeddedKysely(file, location.file, sqliteSynchronous === 'full'), kind: 'sqlite', location };
  }
  if (location.kind === 'postgres') {
    const pool = new PgPool({
      connectionString: location.url,
      max: poolSize,
      connectionTimeoutMillis: commandTimeoutMs,
      // The server cancels what runs longer; the client gives up on what does not answer at all.
      statement_timeout: commandTimeoutMs,
      query_timeout: commandTimeoutMs + 500,
      keepAlive: true,
    });
    // A connection that breaks (the server stopped or restarted) emits 'error': on an idle one the
    // pool reports it, on one in use the client itself, and without a listener the process would
    // crash. The query in flight fails (503), and the pool drops the broken connection.
    pool.on('error', (error) => onError?.(error));
    pool.on('connect', (client) => client.on('error', (error) => onError?.(error)));
    const names = new StatementNames();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparedStatements ? namingStatements(pool, names) : pool }) });
    if (preparedStatements) useStatementNames(db, names);
    return { db, kind: 'postgres', location };
  }
  const pool = createMysqlPool({
    uri: location.url,
    connectionLimit: poolSize,
    connectTimeout: commandTimeoutMs,
    // The handshake already asks for utf8mb4; onCreateConnection says it again with SET NAMES.
    charset: 'UTF8MB4_BIN',
    supportBigNumbers: true,
    bigNumberStrings: false,
    enableKeepAlive: true,
  });
  pool.on('connection', (connection) => connection.on('error', (error: Error) => onError?.(error)));
  return {
    db: new Kysely<Database>({
      dialect: new MysqlDialect({
        pool: closingOnTimeout(pool, commandTimeoutMs),
        onCreateConnection: async (connection) => {
          // A row lock waited for gives up with the command timeout too (InnoDB's default is 50 s).
          await connection.executeQuery(
            CompiledQuery.raw(
              "set names utf8mb4 collate utf8mb4_bin, time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION', " +
                `innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(commandTimeoutMs / 1000))}`,
            ),
          );
        },
      }),
    }),
    kind: 'mysql',
    location,
  };
}

/**
 * MySQL has no statement timeout of its own that covers everything (PostgreSQL has
 * statement_timeout, and pg's query_timeout for a server that answers nothing at all), and
 * mysql2's per-query `timeout` only answers the caller: the connection stays busy with the
 * statement, and the pool hands it out again behind it. So a statement without an answer within
 * `timeoutMs` closes its connection: the pool drops it and opens a fresh one when needed, and
 * the server rolls back whatever the connection's transaction had done. Without this, statements
 * stuck behind a lock (or on a server that stopped answering) held every connection of the pool,
 * and requests that needed none of those locks failed too.
 */
function closingOnTimeout(pool: Mysql2Pool, timeoutMs: number): MysqlPool {
  // One wrapper per connection: Kysely's driver recognises a connection it has set up by identity.
  const wrappers = new WeakMap<Mysql2PoolConnection, MysqlPoolConnection>();
  const wrap = (connection: Mysql2PoolConnection): MysqlPoolConnection => ({
    query(text: string, parameters: unknown[], callback?: (error: unknown, result: never) => void) {
      if (!callback) throw new Error('streaming queries are not used with MySQL');
      let answered = false;
      const timer = setTimeout(() => {
        answered = true;
        connection.destroy();
        callback(Object.assign(new Error(`MySQL did not answer within ${timeoutMs} ms: connection closed`), { code: 'ETIMEDOUT' }), undefined as never);
      }, timeoutMs);
      connection.query(text, parameters, (error: unknown, result: unknown) => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        callback(error, result as never);
      });
    },
    release: () => connection.release(),
  }) as MysqlPoolConnection;
  return {
    getConnection(callback) {
      pool.getConnection((error, connection) => {
        if (error || !connection) return callback(error, undefined as never);
        let wrapper = wrappers.get(connection);
        if (!wrapper) wrappers.set(connection, (wrapper = wrap(connection)));
        callback(null, wrapper);
      });
    },
    end: (callback) => pool.end(callback),
  };
}
