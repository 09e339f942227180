/**
 * What the embedded database (SQLite) keeps on disk: bytes per user and per session, measured as
 * the growth of the file, compacted (VACUUM, the WAL checkpointed into it) after each step; and the
 * rows and index entries one real login writes, counted in the file of a running server.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { createSqlStores } from '../server/stores/sql';
import { TABLES } from '../server/stores/sql/schema';
import { openMigrated } from '../tools/open-migrated';
import { loginSession } from './records';
import { startServer } from './harness';
import { BENCH_SERVER_ENV, login } from './server';

/** A private folder for one embedded database: its DATABASE_URL, and a way to remove it. */
export function sqliteFile(): { file: string; url: string; dispose(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-sqlite-'));
  const file = path.join(dir, 'wx-login.db');
  return { file, url: `sqlite:${file}`, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface SqliteDiskFigures {
  users: number;
  sessions: number;
  bytesPerUser: number;
  bytesPerSession: number;
}

/** Bytes on disk per user (with its identity row) and per session, over `n` of each written by the SQL stores as a login writes them. */
export async function sqliteBytesPerRecord(n = 10_000): Promise<SqliteDiskFigures> {
  const place = sqliteFile();
  const { db, kind } = await openMigrated(place.url).catch((error: unknown) => {
    place.dispose();
    throw error;
  });
  try {
    const stores = createSqlStores({ db, kind, now: Date.now, sessionIdleMs: 7 * 24 * 3600 * 1000, sealKey: randomBytes(32), appId: 'wxbench', commandTimeoutMs: 2000 });
    const compactedSize = async () => {
      await sql`vacuum`.execute(db);
      await sql`pragma wal_checkpoint(truncate)`.execute(db);
      return statSync(place.file).size;
    };
    const empty = await compactedSize();
    const at = Date.now();
    const userIds: string[] = [];
    for (let i = 0; i < n; i++) {
      const openid = `o${randomBytes(21).toString('base64url')}`;
      const { user } = await stores.users.findOrCreate({ openid }, () => ({ id: randomUUID(), openid, nickname: '', avatarUrl: '', createdAt: at }));
      userIds.push(user.id);
    }
    const withUsers = await compactedSize();
    for (let i = 0; i < n; i++) await stores.sessions.create(loginSession(userIds[i], at));
    const withSessions = await compactedSize();
    return { users: n, sessions: n, bytesPerUser: (withUsers - empty) / n, bytesPerSession: (withSessions - withUsers) / n };
  } finally {
    await db.destroy();
    place.dispose();
  }
}

export interface WrittenByLogin {
  table: string;
  /** Rows the login added to the table. */
  rows: number;
  /** B-trees each row of the table is written to: the table's own and each of its indexes. */
  btrees: number;
}

export interface LoginWriteFigures {
  first: WrittenByLogin[];
  again: WrittenByLogin[];
}

/** Rows and index entries a first login and a second login of the same user write to the embedded database of a real server (no Redis). */
export async function sqliteWritesPerLogin(): Promise<LoginWriteFigures> {
  const place = sqliteFile();
  const proc = await startServer({ ...BENCH_SERVER_ENV, DATABASE_URL: place.url, DATABASE_MIGRATE: 'auto' });
  const file = new SqliteDatabase(place.file, { readonly: true });
  try {
    const btrees = new Map(
      TABLES.map((table) => [table, 1 + (file.prepare(`select count(*) as n from sqlite_master where type = 'index' and tbl_name = ?`).get(table) as { n: number }).n]),
    );
    const counts = () => new Map(TABLES.map((table) => [table, (file.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n]));
    const written = (before: Map<string, number>, after: Map<string, number>): WrittenByLogin[] =>
      TABLES.map((table) => ({ table, rows: after.get(table)! - before.get(table)!, btrees: btrees.get(table)! })).filter((w) => w.rows !== 0);
    const empty = counts();
    await login(proc.url, 'bench-disk-user');
    const afterFirst = counts();
    await login(proc.url, 'bench-disk-user');
    const afterAgain = counts();
    return { first: written(empty, afterFirst), again: written(afterFirst, afterAgain) };
  } finally {
    file.close();
    await proc.stop();
    place.dispose();
  }
}
