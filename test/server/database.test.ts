/**
 * server/database.ts: what is said about DATABASE_URL's database never carries its password, and
 * the embedded database prepares each statement once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase, parseDatabaseUrl, withoutPassword, type OpenDatabase } from '../../server/database';

describe('withoutPassword', () => {
  it('cuts the password out of a message, as written in the URL and percent-decoded', () => {
    const location = parseDatabaseUrl('postgres://wx:pa%2Fss@db.internal:5432/wx')!;
    expect(withoutPassword('auth failed with pa%2Fss and pa/ss', location)).toBe('auth failed with [redacted] and [redacted]');
  });

  it('still cuts out a password whose percent signs are not valid escapes, instead of throwing URIError', () => {
    // Such a URL passes the config check; the error to report may even be the driver's own URIError.
    const location = parseDatabaseUrl('mysql://wx:50%off@db.internal:3306/wx')!;
    expect(withoutPassword('cannot connect as wx with 50%off', location)).toBe('cannot connect as wx with [redacted]');
  });

  it('leaves a message alone when the URL has no password, and for SQLite', () => {
    expect(withoutPassword('ECONNREFUSED', parseDatabaseUrl('postgres://wx@db.internal/wx')!)).toBe('ECONNREFUSED');
    expect(withoutPassword('SQLITE_BUSY', parseDatabaseUrl('sqlite:data/x.db')!)).toBe('SQLITE_BUSY');
  });
});

describe('the embedded database', () => {
  let dir: string;
  let opened: OpenDatabase;
  let prepare: jest.SpyInstance;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-db-'));
    opened = openDatabase(parseDatabaseUrl(`sqlite:${dir}/x.db`)!);
    prepare = jest.spyOn(SqliteDatabase.prototype, 'prepare');
  });

  afterEach(async () => {
    prepare.mockRestore();
    await opened.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const answer = (n: number) => sql<{ n: number }>`select ${n} as n`.execute(opened.db).then(({ rows }) => rows[0].n);

  it('prepares a statement once and runs it again with other parameters, answering each call its own', async () => {
    expect([await answer(1), await answer(2), await answer(3)]).toEqual([1, 2, 3]);
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it('keeps at most 256 statements: past that the oldest is dropped and prepared again when it returns', async () => {
    const distinct = (i: number) => sql.raw(`select ${i} as n`).execute(opened.db);
    for (let i = 0; i < 257; i++) await distinct(i);
    expect(prepare).toHaveBeenCalledTimes(257);
    await distinct(256);
    expect(prepare).toHaveBeenCalledTimes(257);
    await distinct(0);
    expect(prepare).toHaveBeenCalledTimes(258);
  });
});
