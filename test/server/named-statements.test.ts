/**
 * PostgreSQL's named prepared statements (server/named-statements.ts): the stores' prepared
 * queries are parsed once per connection and then only bound and run, as the server itself counts
 * it (pg_prepared_statements); what is built per call stays unnamed; a connection opened after the
 * server restarted prepares again; DATABASE_PREPARED_STATEMENTS=off names nothing.
 */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { openDatabase, parseDatabaseUrl, type OpenDatabase } from '../../server/database';
import { StatementNames } from '../../server/named-statements';
import { createSqlStores } from '../../server/stores/sql';
import { migrateToLatest } from '../../server/stores/sql/migrations';
import { selectUser } from '../../server/stores/sql/users';
import type { Stores, UserRecord } from '../../server/stores/types';
import { describeWithDatabase, openMigrated } from './helpers-databases';
import { fakeClock } from './helpers';

const APPID = 'wx00000000simulated';
const nameOf = (text: string) => `wx_${createHash('sha256').update(text).digest('hex').slice(0, 40)}`;

const storesOn = (opened: OpenDatabase): Stores => {
  const clock = fakeClock();
  return createSqlStores({ ...opened, now: clock.now, sessionIdleMs: 60_000, sealKey: Buffer.alloc(32, 1), appId: APPID, maxSessionsPerUser: 10, commandTimeoutMs: 2000 });
};
const alice = (): UserRecord => ({ id: 'id1', openid: 'o1', nickname: '爱丽丝🐱', avatarUrl: '', createdAt: 1 });

/** The statements the connection has prepared (a pool of one: the connection the stores use), with how often each ran. */
async function preparedOn(opened: OpenDatabase): Promise<{ name: string; statement: string; runs: number }[]> {
  const { rows } = await sql<{ name: string; statement: string; runs: string }>`select name, statement, generic_plans + custom_plans as runs from pg_prepared_statements order by name`.execute(opened.db);
  return rows.map((row) => ({ ...row, runs: Number(row.runs) }));
}

describe('StatementNames', () => {
  it('names a declared text after its sha256, the same on every declaration, and nothing undeclared', () => {
    const names = new StatementNames();
    names.declare('select 1 where $1');
    names.declare('select 1 where $1');
    names.declare('select 2 where $1');
    expect(names.nameOf('select 1 where $1')).toBe(nameOf('select 1 where $1'));
    expect(names.nameOf('select 2 where $1')).toBe(nameOf('select 2 where $1'));
    expect(names.nameOf('select 3 where $1')).toBeUndefined();
  });

  it('names at most 500 texts per database, so that what each connection keeps on the server stays bounded: the 501st runs unnamed', () => {
    const names = new StatementNames();
    for (let i = 0; i < 501; i++) names.declare(`select ${i}`);
    expect(names.nameOf('select 499')).toBe(nameOf('select 499'));
    expect(names.nameOf('select 500')).toBeUndefined();
  });
});

describeWithDatabase('postgres', 'named prepared statements on PostgreSQL', (server) => {
  let databases = 0;
  const database = () => server().createDatabase(`named${databases++}`);

  it('runs a prepared query as one named statement per connection: parsed once, then bound and run on every call', async () => {
    const opened = await openMigrated(await database(), undefined, { poolSize: 1 });
    const stores = storesOn(opened);
    try {
      await stores.users.findOrCreate({ openid: 'o1' }, alice);
      for (let i = 0; i < 5; i++) expect((await stores.users.get('id1'))?.nickname).toBe('爱丽丝🐱');
      const prepared = await preparedOn(opened);
      const lookup = selectUser(opened.db, 'id1').compile().sql;
      expect(prepared.filter((statement) => statement.statement === lookup)).toEqual([{ name: nameOf(lookup), statement: lookup, runs: 5 }]);
      // Every statement the connection holds is a prepared query's, under its text's name.
      expect(prepared.length).toBeGreaterThan(1);
      for (const statement of prepared) expect(statement.name).toBe(nameOf(statement.statement));
    } finally {
      await stores.close();
    }
  });

  it('leaves what is built per call unnamed: queries of other shapes add no statement to the connection', async () => {
    const opened = await openMigrated(await database(), undefined, { poolSize: 1 });
    const stores = storesOn(opened);
    try {
      await stores.users.findOrCreate({ openid: 'o1' }, alice);
      await stores.users.get('id1');
      const before = await preparedOn(opened);
      // Built with Kysely on each call, not prepared: the search (strpos), the identities list, a block.
      for (let i = 0; i < 3; i++) {
        expect(await stores.users.searchByNickname(`丽${i}`, 10)).toEqual([]);
        expect(await stores.users.identitiesOf('id1')).toHaveLength(1);
      }
      expect((await stores.users.block('id1', { at: 2, reason: 'spam' }))?.blocked).toEqual({ at: 2, reason: 'spam' });
      const after = await preparedOn(opened);
      expect(after.map((statement) => statement.name)).toEqual(before.map((statement) => statement.name));
      expect(after.some((statement) => statement.statement.includes('strpos'))).toBe(false);
    } finally {
      await stores.close();
    }
  });

  it('prepares again on the connection opened after the server restarted, and answers as before', async () => {
    const opened = await openMigrated(await database(), () => undefined, { poolSize: 1 });
    const stores = storesOn(opened);
    const lookup = selectUser(opened.db, 'id1').compile().sql;
    try {
      await stores.users.findOrCreate({ openid: 'o1' }, alice);
      await stores.users.get('id1');
      await stores.users.get('id1');
      expect((await preparedOn(opened)).find((statement) => statement.statement === lookup)?.runs).toBe(2);
      await server().stop();
      await expect(stores.users.get('id1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await server().start();
      await expect(stores.ping()).resolves.toBeUndefined();
      expect((await stores.users.get('id1'))?.nickname).toBe('爱丽丝🐱');
      // The new connection's own statement, run once: pg prepared it anew rather than assuming the old one.
      expect((await preparedOn(opened)).find((statement) => statement.statement === lookup)).toEqual({ name: nameOf(lookup), statement: lookup, runs: 1 });
    } finally {
      await server().start().catch(() => undefined);
      await stores.close();
    }
  }, 60_000);

  it('names nothing with prepared statements off (DATABASE_PREPARED_STATEMENTS=off, for a pooler that cannot keep them), and answers the same', async () => {
    const opened = openDatabase(parseDatabaseUrl(await database())!, { poolSize: 1, preparedStatements: false });
    await migrateToLatest(opened.db, opened.kind);
    const stores = storesOn(opened);
    try {
      await stores.users.findOrCreate({ openid: 'o1' }, alice);
      expect((await stores.users.get('id1'))?.nickname).toBe('爱丽丝🐱');
      expect(await stores.limits.take('login:10.0.0.1', 5, 60_000)).toEqual({ allowed: true });
      expect(await preparedOn(opened)).toEqual([]);
    } finally {
      await stores.close();
    }
  });
});
