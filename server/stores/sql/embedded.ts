/**
 * The embedded database's one connection (better-sqlite3), as the stores use it: statements
 * prepared once and kept, changes counted for the group commit (group-commit.ts) and the
 * checkpointer (checkpointer.ts), and the stores' prepared queries run on the connection
 * directly when nothing else can hold it.
 */
import type SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type QueryResult, type SqliteDatabase as KyselySqliteDatabase, type SqliteStatement } from 'kysely';
import { BACKSTOP_PAGES, Checkpointer } from './checkpointer';
import { counting, GroupCommit } from './group-commit';
import type { Database } from './schema';

/** How many distinct statements the embedded database keeps prepared: the queries of the stores are a few dozen. */
const KEPT_STATEMENTS = 256;

export interface EmbeddedConnection {
  commits: GroupCommit;
  checkpointer: Checkpointer;
  /**
   * Runs a statement at once, as Kysely's driver would, when `inside` (the caller holds the
   * connection: a transaction's own statement) or when no transaction is open on it; null
   * otherwise, and the caller queues for the connection through Kysely. better-sqlite3 runs a
   * statement to completion synchronously, so one run at such a moment cannot interleave with
   * anything, and skipping the driver's queue, promise and result plumbing saved about a third
   * of what a statement of the hot paths cost.
   */
  runNow<R>(text: string, parameters: readonly unknown[], inside: boolean, ephemeral?: boolean): QueryResult<R> | null;
}

const connections = new WeakMap<Kysely<Database>, EmbeddedConnection>();

/** The embedded connection behind `db`; undefined for PostgreSQL and MySQL. */
export function embeddedConnectionOf(db: Kysely<Database>): EmbeddedConnection | undefined {
  return connections.get(db);
}

/**
 * A Kysely instance on `file` (opened at `path`, in WAL mode, by database.ts). `syncsRecords`: see
 * GroupCommit. Kysely's SQLite driver asks for `prepare(sql)` on every query, and preparing the
 * authenticated request's lookup again each time cost about as much as running it: each text is
 * prepared once. A statement is reusable as soon as its call returns (better-sqlite3 runs `all`
 * and `run` to completion), and the stores never stream. Past KEPT_STATEMENTS distinct texts
 * (query shapes built from input, should one ever appear) the oldest is dropped.
 */
export function embeddedKysely(file: SqliteDatabase.Database, path: string, syncsRecords: boolean): Kysely<Database> {
  // Records are synced by the group commit, not by each commit; checkpoints by the checkpointer.
  // Both need the WAL: where SQLite could not enter WAL mode (a file system without shared
  // memory), every commit is synced by SQLite itself instead.
  const inWal = file.pragma('journal_mode', { simple: true }) === 'wal';
  if (!inWal) {
    file.pragma('synchronous = FULL');
    syncsRecords = false;
  } else file.pragma('synchronous = NORMAL');
  file.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  // A WAL grown by a burst is cut back to this once restarted (by default it keeps its largest size).
  file.pragma(`journal_size_limit = ${BACKSTOP_PAGES * 4096}`);
  const commits = new GroupCommit(`${path}-wal`, syncsRecords, () => file.inTransaction);
  const checkpointer = new Checkpointer(path);
  const wrote = (rows: number) => {
    commits.wrote(rows);
    if (rows > 0) checkpointer.wrote();
  };
  const statements = new Map<string, SqliteStatement>();
  const statement = (text: string) => {
    let kept = statements.get(text);
    if (kept === undefined) {
      kept = counting(file.prepare(text), wrote);
      if (statements.size >= KEPT_STATEMENTS) statements.delete(statements.keys().next().value!);
      statements.set(text, kept);
    }
    return kept;
  };
  const database: KyselySqliteDatabase = {
    close: () => {
      commits.close();
      file.close();
      checkpointer.close();
    },
    prepare: statement,
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  connections.set(db, {
    commits,
    checkpointer,
    runNow<R>(text: string, parameters: readonly unknown[], inside: boolean, ephemeral = false): QueryResult<R> | null {
      if (!inside && file.inTransaction) return null;
      const kept = statement(text);
      // An ephemeral statement of its own is not a record; inside a transaction, the transaction says.
      commits.ephemeralStatement = ephemeral && !file.inTransaction;
      try {
        // The result as Kysely's SQLite driver shapes it.
        if (kept.reader) return { rows: kept.all(parameters) as R[] };
        const { changes, lastInsertRowid } = kept.run(parameters);
        return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
      } finally {
        commits.ephemeralStatement = false;
      }
    },
  });
  return db;
}
