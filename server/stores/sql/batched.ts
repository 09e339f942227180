/**
 * Appends that arrive together committed together, on the embedded database. SQLite has one
 * writer, and a commit of its own per audit entry or WeChat event cost about as much as the rest
 * of the statement (the WAL frames of the table and its indexes, and under load a wait for the
 * connection). Items asked for in one turn of the event loop (up to BATCH) are written in one
 * transaction, and each caller is answered with its own item's result once it commits (a record:
 * after the group commit's sync, see group-commit.ts). PostgreSQL and MySQL write concurrently on
 * a pool of connections, where holding one connection for a batch would only queue the items:
 * there each item is written as it comes.
 */
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { Database } from './schema';
import { transact, type Db, type Guard } from './support';

/** Items per transaction at most: a burst is written in several, each answered as it commits. */
const BATCH = 256;

interface Waiting<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * `write` (one item, on `on`) as a function of one item that batches on SQLite. A statement that
 * fails fails its whole batch (rolled back, every caller answered with the error), so `write`
 * should be one that fails only when the database does (an insert without a key to collide on, or
 * one that ignores a collision).
 */
export function batchedOnSqlite<T, R>(db: Kysely<Database>, kind: DatabaseKind, guard: Guard, write: (item: T, on: Db) => Promise<R>): (item: T) => Promise<R> {
  if (kind !== 'sqlite') return (item) => guard(() => write(item, db));
  let queue: Waiting<T, R>[] = [];
  const flush = () => {
    const batch = queue.slice(0, BATCH);
    queue = queue.slice(BATCH);
    if (queue.length > 0) setImmediate(flush);
    guard(() =>
      transact(db, kind, async (trx) => {
        const results: R[] = [];
        for (const { item } of batch) results.push(await write(item, trx));
        return results;
      }),
    ).then(
      (results) => batch.forEach((waiting, i) => waiting.resolve(results[i])),
      (error: unknown) => batch.forEach((waiting) => waiting.reject(error)),
    );
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (queue.length === 1) setImmediate(flush);
    });
}
