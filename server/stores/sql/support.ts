/**
 * What the SQL stores share: the statements that differ by database (insert-unless-present,
 * upsert, row locks), transactions retried on conflicts, and the guard that turns a database
 * that is away or too slow into 503 STORE_UNAVAILABLE.
 */
import { sql, type InsertQueryBuilder, type InsertResult, type Kysely, type Transaction } from 'kysely';
import type { DatabaseKind } from '../../database';
import { ApiError } from '../../errors';
import type { Database } from './schema';

export type Db = Kysely<Database> | Transaction<Database>;

/**
 * An insert that does nothing when the row's key is taken (ON CONFLICT DO NOTHING, MySQL's
 * INSERT IGNORE): the caller learns from the count whether it was first. Waits for a concurrent
 * insert of the same key to commit or roll back first, in all three databases.
 */
export async function insertUnlessPresent<T extends keyof Database>(kind: DatabaseKind, query: InsertQueryBuilder<Database, T, InsertResult>): Promise<boolean> {
  const statement = kind === 'mysql' ? query.ignore() : query.onConflict((conflict) => conflict.doNothing());
  const [result] = await statement.execute();
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
 * `work` in a transaction, run again (a few times) when it conflicts with a concurrent one. On
 * SQLite the transaction takes the write lock at once (BEGIN IMMEDIATE): a transaction that read
 * first and wrote later would fail outright when another connection wrote in between, where
 * waiting for the lock (the busy timeout) is what is wanted.
 */
export async function transact<T>(db: Kysely<Database>, kind: DatabaseKind, work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (kind !== 'sqlite') return await db.transaction().execute(work);
      return await db.connection().execute(async (connection) => {
        await sql`begin immediate`.execute(connection);
        try {
          const result = await work(connection);
          await sql`commit`.execute(connection);
          return result;
        } catch (error) {
          await sql`rollback`.execute(connection);
          throw error;
        }
      });
    } catch (error) {
      if (attempt >= ATTEMPTS || !retryable(error)) throw error;
    }
  }
}

/** Errors the guard passes on unchanged: what the store itself decided, not a failure of the database. */
const passThrough = (error: unknown) => error instanceof ApiError;

export type Guard = <T>(operation: () => Promise<T>) => Promise<T>;

/**
 * Runs a store operation: any failure of the database (unreachable, restarted, a statement that
 * failed) is 503 STORE_UNAVAILABLE with the database's error as its cause (logged, never sent), and
 * an operation without an answer after `timeoutMs` is one too, instead of hanging the request.
 * The drivers' own timeouts end the statement itself (see database.ts).
 */
export function guardWith(timeoutMs: number | null): Guard {
  const unavailable = (error: unknown): never => {
    if (passThrough(error)) throw error;
    throw Object.assign(new ApiError('STORE_UNAVAILABLE', 'storage is unavailable, try again later'), { cause: error });
  };
  if (timeoutMs === null) {
    return async (operation) => {
      try {
        return await operation();
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
 * Whether the user exists, its row locked until the transaction ends: what changes one user's
 * rows (profile, phone, sessions) is done one transaction at a time per user, which also keeps
 * concurrent logins from deadlocking over the user's sessions. On PostgreSQL `FOR NO KEY UPDATE`,
 * which leaves foreign-key checks of concurrent inserts (a new identity of this user) unblocked.
 */
export async function lockUser(kind: DatabaseKind, trx: Db, id: string): Promise<boolean> {
  const query = trx.selectFrom('users').select('id').where('id', '=', id);
  const locked = kind === 'postgres' ? query.forNoKeyUpdate() : forUpdate(kind, query);
  return (await locked.executeTakeFirst()) !== undefined;
}

/** A bigint column as a number (pg hands bigints back as strings). */
export const millis = (value: number | string | bigint): number => Number(value);
