/**
 * What the SQL stores share: the statements that differ by database (insert-unless-present,
 * upsert, row locks), transactions retried on conflicts, and the guard that turns a database
 * that is away or too slow into 503 STORE_UNAVAILABLE.
 */
import { sql, type InsertQueryBuilder, type InsertResult, type Kysely, type Transaction } from 'kysely';
import type { DatabaseKind } from '../../database';
import { ApiError } from '../../errors';
import { embeddedConnectionOf } from './embedded';
import type { GroupCommit } from './group-commit';
import type { Database } from './schema';

export type Db = Kysely<Database> | Transaction<Database>;

/**
 * An insert that does nothing when the row's key is taken (ON CONFLICT DO NOTHING, MySQL's
 * INSERT IGNORE): the caller learns from the count whether it was first. Waits for a concurrent
 * insert of the same key to commit or roll back first, in all three databases. (INSERT IGNORE
 * also turns a value too long for its column into a warning and a truncated value: what goes
 * through it must fit, see limits.ts.)
 */
export function unlessPresent<T extends keyof Database>(kind: DatabaseKind, query: InsertQueryBuilder<Database, T, InsertResult>): InsertQueryBuilder<Database, T, InsertResult> {
  return kind === 'mysql' ? query.ignore() : query.onConflict((conflict) => conflict.doNothing());
}

/** unlessPresent, run: whether the row was inserted. */
export async function insertUnlessPresent<T extends keyof Database>(kind: DatabaseKind, query: InsertQueryBuilder<Database, T, InsertResult>): Promise<boolean> {
  const [result] = await unlessPresent(kind, query).execute();
  return Number(result?.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Thrown inside a transaction to start it again: another writer got there first, and a fresh look will see what it did. */
export class Conflict extends Error {
  constructor(what: string) {
    super(`conflicting write: ${what}`);
    this.name = 'Conflict';
  }
}

/** Deadlocks and serialization failures: the database rolled the transaction back, and running it again is the cure. */
function retryable(error: unknown): boolean {
  if (error instanceof Conflict) return true;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  // PostgreSQL: serialization_failure, deadlock_detected. MySQL: ER_LOCK_DEADLOCK.
  return code === '40001' || code === '40P01' || errno === 1213;
}

const ATTEMPTS = 8;

/**
 * How a transaction's commit reaches the disk.
 * - `record`: users, identities, profiles, phone numbers: synced before the operation answers
 *   (on SQLite by the group commit, group-commit.ts, at SQLITE_SYNCHRONOUS=full, the default), so
 *   that neither kill -9 nor a power cut loses it.
 * - `ephemeral`: sessions and rate-limit hits, what Redis holds where there is one. On SQLite in
 *   the WAL without waiting for a sync. Nothing is lost when the server process dies (kill -9: the
 *   write is in the operating system's hands); a power cut or a crash of the operating system may
 *   undo the ephemeral commits since the last sync (the next record's sync or checkpoint covers
 *   them), never a record, and the file stays consistent. On PostgreSQL with synchronous_commit
 *   off: a crash of the database server itself may undo the last fraction of a second of them,
 *   never a record. The users concerned log in again, as after a restart of a Redis that
 *   snapshots. It spares a login its syncs, during which the rows it locked would wait. MySQL has
 *   no per-transaction setting: every commit is synced there.
 */
export type Durability = 'record' | 'ephemeral';

/** PostgreSQL's ephemeral transaction: its commit is acknowledged once in the server's WAL buffers, flushed within its wal_writer_delay. */
const BEGIN_EPHEMERAL = 'begin; set local synchronous_commit = off';

/**
 * `work` in a transaction, run again (a few times) when it conflicts with a concurrent one. On
 * SQLite the transaction takes the write lock at once (BEGIN IMMEDIATE): a transaction that read
 * first and wrote later would fail outright when another connection wrote in between, where
 * waiting for the lock (the busy timeout) is what is wanted. `durability`: see Durability.
 */
export async function transact<T>(db: Kysely<Database>, kind: DatabaseKind, work: (trx: Kysely<Database>) => Promise<T>, durability: Durability = 'record'): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (kind === 'mysql' || (kind === 'postgres' && durability === 'record')) return await db.transaction().execute(work);
      // BEGIN and the setting sent as one (a statement without parameters may hold several).
      if (kind === 'postgres') return await db.connection().execute((connection) => within(throughDriver(connection), BEGIN_EPHEMERAL, connection, work));
      const embedded = embeddedConnectionOf(db);
      const commits = durability === 'ephemeral' ? embedded?.commits : undefined;
      // The one connection is this transaction's until it ends: what it writes is all ephemeral.
      return await db.connection().execute(async (connection) => {
        // Held, so BEGIN and COMMIT may run on it directly (embedded.ts).
        const control: Control = embedded ? async (text) => embedded.runNow(text, [], true) : throughDriver(connection);
        if (commits) commits.ephemeral = true;
        try {
          return await within(control, 'begin immediate', connection, work);
        } finally {
          if (commits) commits.ephemeral = false;
        }
      });
    } catch (error) {
      if (attempt >= ATTEMPTS || !retryable(error)) throw error;
    }
  }
}

/** Sends a transaction's BEGIN, COMMIT or ROLLBACK. */
type Control = (text: string) => Promise<unknown>;
const throughDriver =
  (connection: Kysely<Database>): Control =>
  (text) =>
    sql.raw(text).execute(connection);

/** `work` between `begin` and COMMIT on `connection`, rolled back when it throws. */
async function within<T>(control: Control, begin: string, connection: Kysely<Database>, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  await control(begin);
  try {
    const result = await work(connection);
    await control('commit');
    return result;
  } catch (error) {
    await control('rollback');
    throw error;
  }
}

/**
 * Runs a sweep of dead rows (sessions, rate-limit hits) apart from the operation that set it off:
 * it answers nobody, so its failure (a lock conflict, the database away) must not fail a login,
 * and the next sweep does its work. On MySQL at READ COMMITTED: at REPEATABLE READ InnoDB locks
 * every row the delete scans, not only those it deletes, and logins inserting among them waited
 * for the sweep or deadlocked with it (the failed logins of an earlier benchmark run).
 */
export function sweepInBackground(db: Kysely<Database>, kind: DatabaseKind, work: (on: Db) => Promise<unknown>): void {
  const swept = kind === 'mysql' ? db.transaction().setIsolationLevel('read committed').execute(work) : work(db);
  swept.catch(() => undefined);
}

/** Errors the guard passes on unchanged: what the store itself decided, not a failure of the database. */
const passThrough = (error: unknown) => error instanceof ApiError;

export type Guard = <T>(operation: () => Promise<T>) => Promise<T>;

/**
 * Runs a store operation: any failure of the database (unreachable, restarted, a statement that
 * failed) is 503 STORE_UNAVAILABLE with the database's error as its cause (logged, never sent), and
 * an operation without an answer after `timeoutMs` is one too, instead of hanging the request.
 * The drivers' own timeouts end the statement itself (see database.ts). On the embedded database
 * (`commits`), an operation that wrote a record answers once the record is synced (group-commit.ts).
 */
export function guardWith(timeoutMs: number | null, commits?: GroupCommit): Guard {
  const unavailable = (error: unknown): never => {
    if (passThrough(error)) throw error;
    throw Object.assign(new ApiError('STORE_UNAVAILABLE', 'storage is unavailable, try again later'), { cause: error });
  };
  if (timeoutMs === null) {
    return async (operation) => {
      try {
        if (!commits) return await operation();
        const before = commits.records;
        const result = await operation();
        if (commits.records !== before) await commits.durable();
        return result;
      } catch (error) {
        return unavailable(error);
      }
    };
  }
  return (operation) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        try {
          unavailable(new Error(`the database did not answer within ${timeoutMs} ms`));
        } catch (error) {
          reject(error);
        }
      }, timeoutMs);
      operation().then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          try {
            unavailable(error);
          } catch (refusal) {
            reject(refusal);
          }
        },
      );
    });
}

/** `SELECT ... FOR UPDATE` where the database has row locks; SQLite has one writer at a time, so its transactions need none. */
export function forUpdate<Q extends { forUpdate(): Q }>(kind: DatabaseKind, query: Q): Q {
  return kind === 'sqlite' ? query : query.forUpdate();
}

/**
 * `query` (reading the user's row) with the user's row locked until the transaction ends: what
 * changes one user's rows (profile, phone, sessions) is done one transaction at a time per user,
 * which also keeps concurrent logins from deadlocking over the user's sessions. On PostgreSQL
 * `FOR NO KEY UPDATE` of the users row only, which leaves foreign-key checks of concurrent inserts
 * (a new identity of this user, a session) unblocked.
 */
export function lockingUser<Q extends { forUpdate(): Q; forNoKeyUpdate(of: 'users'): Q }>(kind: DatabaseKind, query: Q): Q {
  return kind === 'postgres' ? query.forNoKeyUpdate('users') : forUpdate(kind, query);
}

/** Whether the user exists, its row locked until the transaction ends (lockingUser). */
export async function lockUser(kind: DatabaseKind, trx: Db, id: string): Promise<boolean> {
  return (await lockingUser(kind, trx.selectFrom('users').select('id').where('id', '=', id)).executeTakeFirst()) !== undefined;
}

/** A bigint column as a number (pg hands bigints back as strings). */
export const millis = (value: number | string | bigint): number => Number(value);
