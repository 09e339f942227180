/**
 * Group commit for the embedded database. The connection runs at SQLite's `synchronous = NORMAL`
 * in WAL mode: a commit writes its pages to the WAL file and returns, in the operating system's
 * hands (kill -9 loses nothing) but not yet on the disk. A write that must also survive a power
 * cut (a record: a user, a profile, a phone number, an audit entry, a WeChat event; see Durability
 * in support.ts) is acknowledged only after an fsync of the WAL file that began after its commit.
 * That fsync runs on libuv's thread pool, so the event loop serves other requests meanwhile, and
 * one fsync covers every commit made before it began: under load, records that commit while one
 * sync runs share the next one, instead of each blocking the one SQLite connection for a sync of
 * its own, as `synchronous = FULL` made them (about 5 ms each on a shared disk).
 *
 * Why this is as safe as FULL: SQLite at NORMAL syncs the WAL before each checkpoint and the
 * database file after it, and syncs a restarted WAL's header before reusing the file, so a frame
 * is either still in the WAL (where this fsync makes it durable) or checkpointed into a database
 * file that was synced before the WAL could be overwritten. The first sync also syncs the folder,
 * as SQLite does for a WAL file it created.
 *
 * Which writes are records is counted at the statement: every statement that changed a row while
 * no ephemeral transaction is open (sessions and rate-limit hits, which Redis would hold, commit
 * without waiting for a sync). The store guard compares the count before and after an operation
 * and waits for `durable()` when it moved.
 */
import path from 'node:path';
import { close, fsync, open } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { SqliteStatement } from 'kysely';

export class GroupCommit {
  /** Rows changed outside ephemeral transactions so far: the records written. */
  private written = 0;
  /** Of those, how many an fsync has covered. */
  private synced = 0;
  private syncing: Promise<void> | null = null;
  /**
   * Set by an ephemeral transaction for its duration. A change counts as ephemeral only while a
   * transaction is open too: a statement run between the flag and BEGIN is no part of it.
   */
  ephemeral = false;
  /** Set for the duration of one ephemeral statement run outside any transaction (embedded.ts runNow). */
  ephemeralStatement = false;
  /** fsyncs done, for tests and the benchmark. */
  syncs = 0;

  /** The WAL, kept open between syncs (SQLite keeps the file while a connection is open). */
  private descriptor: number | null = null;

  /**
   * `syncsRecords` false (SQLITE_SYNCHRONOUS=normal): records too are acknowledged before they are
   * synced. `inTransaction`: whether the connection has a transaction open.
   */
  constructor(
    private readonly walFile: string,
    private readonly syncsRecords: boolean,
    private readonly inTransaction: () => boolean,
  ) {}

  /** A statement changed `rows` rows. */
  wrote(rows: number): void {
    if (rows > 0 && !this.ephemeralStatement && !(this.ephemeral && this.inTransaction())) this.written++;
  }

  /** The connection is closing: SQLite checkpoints and syncs everything itself. */
  close(): void {
    if (this.descriptor !== null) close(this.descriptor, () => undefined);
    this.descriptor = null;
  }

  /** The records written so far: what an operation compares before and after. */
  get records(): number {
    return this.written;
  }

  /** Resolves when every record written before the call is on the disk; rejects when the sync fails. */
  async durable(): Promise<void> {
    if (!this.syncsRecords) return;
    const target = this.written;
    while (this.synced < target) {
      // A sync already running may have begun before the write: wait for it, then look again.
      if (this.syncing === null) this.syncing = this.sync();
      await this.syncing;
    }
  }

  private async sync(): Promise<void> {
    const covering = this.written;
    try {
      if (this.descriptor === null) {
        this.descriptor = await call<number>((done) => open(this.walFile, 'r', done));
        // As SQLite does for a WAL file it created: its name in the folder is synced once too.
        const folder = await call<number>((done) => open(path.dirname(this.walFile), 'r', done));
        try {
          await call((done) => fsync(folder, done));
        } finally {
          close(folder, () => undefined);
        }
      }
      const descriptor = this.descriptor;
      await call((done) => fsync(descriptor, done));
      this.syncs++;
      this.synced = Math.max(this.synced, covering);
    } finally {
      this.syncing = null;
    }
  }
}

/** A node:fs callback call as a promise (one trip to the thread pool, without FileHandle's bookkeeping). */
function call<T = void>(start: (done: (error: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error ? reject(error) : resolve(value as T))));
}

/**
 * `statement` as Kysely's SQLite driver uses it, telling `wrote` how many rows each run changed.
 * Read-only statements (selects, BEGIN, COMMIT) are left as they are.
 */
export function counting(statement: Statement, wrote: (rows: number) => void): SqliteStatement {
  if (statement.readonly) return statement as unknown as SqliteStatement;
  return {
    reader: statement.reader,
    all(parameters) {
      // A write that returns rows (RETURNING): one row back per row changed.
      const rows = statement.all(parameters as unknown[]);
      wrote(rows.length);
      return rows;
    },
    run(parameters) {
      const result = statement.run(parameters as unknown[]);
      wrote(result.changes);
      return result;
    },
    iterate: (parameters) => statement.iterate(parameters as unknown[]),
  };
}
