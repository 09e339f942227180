/**
 * Deleting an account (POST /api/account/delete) and exporting it (GET /api/account/export) on the
 * reference server, over HTTP, on every store the server can run on: memory, SQLite, PostgreSQL,
 * MariaDB, and sessions in Redis with users in SQL. After a deletion every table and every Redis
 * key is read back, and nothing in them may name the user.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import { sql, type Kysely } from 'kysely';
import { buildApp } from '../../server/app';
import { configuredAvatarFiles } from '../../server/avatars';
import { createAccountLifecycle } from '../../server/core/account-lifecycle';
import { freePort } from '../../tools/free-port';
import type { Config } from '../../server/config';
import { openDatabase, parseDatabaseUrl, type OpenDatabase } from '../../server/database';
import { limitKeysOf } from '../../server/limits';
import { hashSkey } from '../../server/session';
import { createMemoryStores } from '../../server/stores/memory';
import { storesFromConfig } from '../../server/stores/from-config';
import type { Stores } from '../../server/stores/types';
import type { Transport } from '../../server/wechat/client';
import { callSimulator, createSimulator, type Simulator } from '../../server/wechat/simulator';
import type { AccountDeleteResponse, AccountExport, AvatarUploadResponse, BindRequiredResponse, LoginResponse } from '../../typings/api';
import { hashPassword } from '../../server/passwords';
import { SMALL_PNG } from '../support/images';
import { describeWithDatabase, emptyTables, openMigrated, sqliteUrl } from './helpers-databases';
import { bearer, describeWithRedis, fakeClock, testConfig, type FakeClock } from './helpers';

const HOUR = 3600_000;
const PHONE = '13800138000';
const UNIONID = 'unionid-of-the-leaver-0001';
const NICKNAME = '要走的人🐱';

/** Where a variant keeps its data, and how a test reads all of it back. */
interface Variant {
  /** The configuration's stores: the database and Redis this variant runs on. */
  config(): Promise<Partial<Config>>;
  /**
   * Every row of every table and every Redis key with its value, one text line each; null for the
   * memory stores, which have no such listing (their cases ask the stores instead).
   */
  everything(): Promise<string[] | null>;
  /** How many rows each table holds and how many keys Redis holds, by kind. */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/** Text a JSON row can hold: the drivers answer bigints as strings, numbers or BigInt. */
const json = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

/** Every table of the database, found by introspection (not a list of ours: a table added later is read too). */
async function tablesOf(db: Kysely<unknown>): Promise<string[]> {
  return (await db.introspection.getTables()).map((table) => table.name).sort();
}

async function sqlRows(db: Kysely<unknown>): Promise<string[]> {
  const lines: string[] = [];
  for (const table of await tablesOf(db)) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    for (const row of rows) lines.push(`${table}: ${json(row)}`);
  }
  return lines;
}

async function sqlCounts(db: Kysely<unknown>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of await tablesOf(db)) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
    counts[table] = Number(rows[0].n);
  }
  return counts;
}

/** Every key of the Redis server (SCAN, all of them, whatever their prefix), with its value. */
async function redisKeys(client: Redis): Promise<string[]> {
  const lines: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await client.type(key);
      const value =
        type === 'hash' ? await client.hgetall(key) : type === 'zset' ? await client.zrange(key, 0, -1, 'WITHSCORES') : type === 'string' ? await client.get(key) : type === 'set' ? await client.smembers(key) : type === 'list' ? await client.lrange(key, 0, -1) : type;
      lines.push(`${key} (${type}): ${json(value)}`);
    }
  } while (cursor !== '0');
  return lines;
}

const keyKind = (line: string) => line.replace(/^[^:]*:([a-z-]+):.*$/s, '$1');

function sqlVariant(url: () => Promise<string>, redisUrl?: () => string): () => Variant {
  return () => {
    let opened: OpenDatabase | undefined;
    let client: Redis | undefined;
    let location: string | undefined;
    const inspector = async () => {
      location ??= await url();
      opened ??= openDatabase(parseDatabaseUrl(location)!);
      if (redisUrl) client ??= new Redis(redisUrl());
      return { db: opened.db as unknown as Kysely<unknown>, client };
    };
    return {
      async config() {
        location ??= await url();
        return { database: parseDatabaseUrl(location), databaseMigrate: 'auto', ...(redisUrl ? { redisUrl: redisUrl() } : {}) };
      },
      async everything() {
        const { db, client } = await inspector();
        return [...(await sqlRows(db)), ...(client ? await redisKeys(client) : [])];
      },
      async counts() {
        const { db, client } = await inspector();
        const counts = await sqlCounts(db);
        if (client) for (const line of await redisKeys(client)) counts[`redis ${keyKind(line)}`] = (counts[`redis ${keyKind(line)}`] ?? 0) + 1;
        return counts;
      },
      async close() {
        await opened?.db.destroy();
        await client?.quit();
      },
    };
  };
}

const memoryVariant = (): Variant => ({
  config: async () => ({}),
  everything: async () => null,
  counts: async () => ({}),
  close: async () => undefined,
});

/** The cases every variant runs. */
function lifecycleCases(variant: () => Variant) {
  let v: Variant;
  let app: FastifyInstance;
  let base: string;
  let stores: Stores;
  let simulator: Simulator;
  let clock: FakeClock;
  let config: Config;
  /** jscode2session calls the server made. */
  let exchanges: number;
  /** Every session_key WeChat handed out: none may reach an answer. */
  let sessionKeys: string[];

  /** The app on the variant's stores; `extra` adds to its configuration. */
  const start = async (extra: Partial<Config> = {}) => {
    config = testConfig({ ...(await v.config()), ...extra });
    simulator = createSimulator({ appId: config.wechat.appId, secret: config.wechat.secret, now: clock.now });
    exchanges = 0;
    sessionKeys = [];
    const wechat = callSimulator(simulator);
    const transport: Transport = async (url, deadline, request) => {
      const answer = await wechat(url, deadline, request);
      if (url.includes('jscode2session')) {
        exchanges++;
        const { session_key } = JSON.parse(answer.body) as { session_key?: string };
        if (session_key) sessionKeys.push(session_key);
      }
      return answer;
    };
    stores = config.database
      ? await storesFromConfig(config, clock.now, { database: () => undefined, redis: () => undefined })
      : createMemoryStores({ now: clock.now, sessionIdleMs: config.sessionIdleMs });
    app = await buildApp({ config, now: clock.now, stores, simulator, wechatTransport: transport, log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  };
  beforeEach(async () => {
    v = variant();
    clock = fakeClock(Date.now());
    await start();
  });
  afterEach(async () => {
    await app.close();
    await v.close();
  });

  const call = async (method: string, url: string, skey?: string, body?: object) => {
    const response = await fetch(`${base}${url}`, {
      method,
      headers: { ...(skey ? bearer(skey) : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, text: await response.text() };
  };
  const login = async (user: string, unionid?: string) => {
    const { status, text } = await call('POST', '/auth/login', undefined, { code: simulator.mintCode(user, unionid) });
    if (status !== 200) throw new Error(`login failed: ${status} ${text}`);
    return JSON.parse(text) as LoginResponse;
  };
  const deleteWith = (skey: string, code: string) => call('POST', '/api/account/delete', skey, { code });

  /** A user with everything a user can leave behind: two sessions, a unionid, a phone, a nickname, an uploaded avatar, rate-limit entries. */
  const fullUser = async (name: string, first?: LoginResponse) => {
    first ??= await login(name, UNIONID);
    clock.advance(1000);
    const second = await login(name);
    expect((await call('POST', '/auth/phone', first.skey, { code: simulator.mintPhoneCode(name, PHONE) })).status).toBe(200);
    expect((await call('PUT', '/api/profile', first.skey, { nickname: NICKNAME })).status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob([SMALL_PNG], { type: 'image/png' }), 'avatar.png');
    const upload = await fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(first.skey), body: form });
    expect(upload.status).toBe(200);
    const { avatarUrl } = (await upload.json()) as AvatarUploadResponse;
    return { id: first.user.id, openid: simulator.openidFor(name), skeys: [first.skey, second.skey], avatarUrl, avatarFile: path.join(config.uploadDir, avatarUrl.split('/').pop()!) };
  };

  it('deletes the user and everything about them: no row or key names them, the avatar file is gone, the old skeys are 401, and the next login is a new, empty account', async () => {
    const other = await login('stays');
    const leaver = await fullUser('leaver');
    expect(existsSync(leaver.avatarFile)).toBe(true);
    const before = await v.everything();
    // The listing sees the user before: a check that nothing names them afterwards can fail.
    if (before) for (const value of [leaver.id, leaver.openid, UNIONID, PHONE, hashSkey(leaver.skeys[0])]) expect(before.some((line) => line.includes(value))).toBe(true);

    const deleted = await deleteWith(leaver.skeys[1], simulator.mintCode('leaver'));
    expect(deleted).toEqual({ status: 200, text: JSON.stringify({ deleted: true, kept: 'nothing' } satisfies AccountDeleteResponse) });

    const after = await v.everything();
    if (after) {
      const naming = [leaver.id, leaver.openid, UNIONID, PHONE, NICKNAME, ...leaver.skeys, ...leaver.skeys.map(hashSkey), path.basename(leaver.avatarFile)];
      expect(after.filter((line) => naming.some((value) => line.includes(value)))).toEqual([]);
      // The other user's rows are all there.
      expect(after.some((line) => line.includes(other.user.id))).toBe(true);
    }
    expect(await stores.users.get(leaver.id)).toBeNull();
    expect(await stores.users.identitiesOf(leaver.id)).toEqual([]);
    expect(await stores.sessions.listOf(leaver.id)).toEqual([]);
    // No hit is left under any per-user key: a limit of one passes on each.
    for (const key of limitKeysOf(leaver.id)) expect(await stores.limits.take(key, 1, HOUR)).toEqual({ allowed: true });

    expect(existsSync(leaver.avatarFile)).toBe(false);
    expect(readdirSync(config.uploadDir).filter((name) => !name.startsWith('.'))).toEqual([]);
    expect((await fetch(leaver.avatarUrl)).status).toBe(404);

    for (const skey of leaver.skeys) {
      for (const [method, url] of [['GET', '/auth/session'], ['GET', '/api/profile'], ['GET', '/api/account/export'], ['GET', '/api/orders'], ['POST', '/auth/logout']]) {
        expect({ url, ...(await call(method, url, skey)) }).toEqual({ url, status: 401, text: JSON.stringify({ error: { code: 'SESSION_EXPIRED', message: 'the session is missing or expired, log in again' } }) });
      }
      expect((await deleteWith(skey, simulator.mintCode('leaver'))).status).toBe(401);
    }
    expect((await call('GET', '/auth/session', other.skey)).status).toBe(200);

    const again = await login('leaver', UNIONID);
    expect(again.isNewUser).toBe(true);
    expect(again.user).toMatchObject({ nickname: '', avatarUrl: '', phone: null });
    expect(again.user.id).not.toBe(leaver.id);
    // The number is free again: another user may bind it.
    expect((await call('POST', '/auth/phone', other.skey, { code: simulator.mintPhoneCode('stays', PHONE) })).status).toBe(200);
  });

  it('keeps a bound user’s platform account in bind mode: the binding, phone, profile, avatar and sessions go, the account stays unbound, and the next login asks to bind', async () => {
    await app.close();
    await start({ accountMode: 'bind' });
    const created = await stores.accounts.create({ name: 'E1024', displayName: '张三', roles: ['staff'], passwordHash: await hashPassword('correct horse', { logN: 12, r: 8, p: 1 }) });
    if (!created.ok) throw new Error('account not created');
    const asked = JSON.parse((await call('POST', '/auth/login', undefined, { code: simulator.mintCode('staffer', UNIONID) })).text) as BindRequiredResponse;
    const bound = await call('POST', '/auth/bind', undefined, { bindTicket: asked.bindTicket, account: 'E1024', password: 'correct horse' });
    expect(bound.status).toBe(200);
    const leaver = await fullUser('staffer', JSON.parse(bound.text) as LoginResponse);
    expect(leaver.id).toBe(created.account.userId);
    const exported = JSON.parse((await call('GET', '/api/account/export', leaver.skeys[0])).text) as AccountExport;
    expect(exported.account).toEqual({ name: 'E1024', displayName: '张三' });
    expect(exported.identities.map((identity) => identity.kind)).toEqual(['wechat', 'unionid', 'phone', 'account']);
    expect(exported.user.roles).toEqual(['staff']);

    expect(await deleteWith(leaver.skeys[0], simulator.mintCode('staffer'))).toEqual({ status: 200, text: JSON.stringify({ deleted: true, kept: 'platform-account' }) });

    const after = await v.everything();
    if (after) {
      const naming = [leaver.openid, UNIONID, PHONE, NICKNAME, ...leaver.skeys, ...leaver.skeys.map(hashSkey), path.basename(leaver.avatarFile)];
      expect(after.filter((line) => naming.some((value) => line.includes(value)))).toEqual([]);
      // The account's own rows stay: the user row and the account row.
      expect(after.filter((line) => line.includes(leaver.id)).map((line) => line.split(':')[0]).sort()).toEqual(['accounts', 'users']);
    }
    expect(await stores.users.get(leaver.id)).toMatchObject({ id: leaver.id, openid: '', nickname: '', avatarUrl: '', account: { name: 'E1024', disabled: false } });
    expect(await stores.users.identitiesOf(leaver.id)).toEqual([]);
    expect(await stores.accounts.byName('E1024')).toMatchObject({ userId: leaver.id, roles: ['staff'] });
    expect(existsSync(leaver.avatarFile)).toBe(false);
    for (const skey of leaver.skeys) expect((await call('GET', '/auth/session', skey)).status).toBe(401);
    const next = JSON.parse((await call('POST', '/auth/login', undefined, { code: simulator.mintCode('staffer', UNIONID) })).text) as BindRequiredResponse;
    expect(next.bindRequired).toBe(true);
    // The account can be bound again, by the same person or another.
    expect((await call('POST', '/auth/bind', undefined, { bindTicket: next.bindTicket, account: 'E1024', password: 'correct horse' })).status).toBe(200);
    // A bind rehashes the password at the server's scrypt cost: seconds on a loaded machine.
  }, 60_000);

  it('refuses a wrong code, another WeChat user’s code and a used code with 401 INVALID_CODE, and deletes nothing', async () => {
    await login('bystander');
    const leaver = await fullUser('careful');
    const intruder = await login('intruder');
    const rows = async () => {
      const counts = await v.counts();
      // The attempts themselves are counted (the deletion limit): every other row stays as it was.
      delete counts.rate_limits;
      delete counts['redis rate'];
      return { counts, user: await stores.users.get(leaver.id), identities: await stores.users.identitiesOf(leaver.id), sessions: (await stores.sessions.listOf(leaver.id)).length };
    };
    // A code the user already logged in with.
    const used = simulator.mintCode('careful');
    expect((await call('POST', '/auth/login', undefined, { code: used })).status).toBe(200);
    const before = await rows();
    expect(before.sessions).toBe(3);
    expect(before.identities).toHaveLength(3);

    for (const code of ['not-a-code', simulator.mintCode('intruder'), used]) {
      expect(await deleteWith(leaver.skeys[0], code)).toEqual({ status: 401, text: expect.stringContaining('"code":"INVALID_CODE"') });
    }
    // And the intruder's own session with the leaver's code: the code is not the session's user.
    expect((await deleteWith(intruder.skey, simulator.mintCode('careful'))).status).toBe(401);

    expect(await rows()).toEqual(before);
    if ((await v.everything()) !== null) expect(Object.keys(before.counts)).toEqual(expect.arrayContaining(['users', 'identities', 'sessions']));
    expect(existsSync(leaver.avatarFile)).toBe(true);
    expect((await call('GET', '/api/profile', leaver.skeys[0])).status).toBe(200);
    expect((await call('GET', '/api/profile', intruder.skey)).status).toBe(200);
  });

  it('exports the openid, unionid, phone in full, profile and live sessions with the current one marked, and no session_key, skey or skey hash', async () => {
    const leaver = await fullUser('curious');
    clock.advance(5000);
    const { status, text } = await call('GET', '/api/account/export', leaver.skeys[1]);
    expect(status).toBe(200);
    const exported = JSON.parse(text) as AccountExport;
    expect(exported).toEqual({
      exportedAt: clock.now(),
      user: { id: leaver.id, nickname: NICKNAME, avatarUrl: leaver.avatarUrl, createdAt: expect.any(Number), roles: ['member'] },
      identities: [
        { kind: 'wechat', value: leaver.openid, createdAt: expect.any(Number) },
        { kind: 'unionid', value: UNIONID, createdAt: expect.any(Number) },
        { kind: 'phone', value: `+86 ${PHONE}`, createdAt: expect.any(Number) },
      ],
      account: null,
      sessions: [
        { createdAt: clock.now() - 6000, lastSeenAt: expect.any(Number), expiresAt: clock.now() - 6000 + config.sessionLifetimeMs, current: false },
        { createdAt: clock.now() - 5000, lastSeenAt: expect.any(Number), expiresAt: clock.now() - 5000 + config.sessionLifetimeMs, current: true },
      ],
      audit: expect.any(Array),
    });
    // The user's own trail, oldest first, without the detail an operator's entry may carry.
    expect(exported.audit.filter((entry) => entry.action === 'login')).toHaveLength(2);
    expect(exported.audit.map((entry) => entry.at)).toEqual([...exported.audit.map((entry) => entry.at)].sort((a, b) => a - b));
    for (const entry of exported.audit) expect(Object.keys(entry).sort()).toEqual(['action', 'actor', 'at', 'clientNetwork', 'outcome']);
    expect(sessionKeys.length).toBeGreaterThanOrEqual(2);
    for (const secret of [...sessionKeys, ...leaver.skeys, ...leaver.skeys.map(hashSkey)]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/session_?key|skey|password/i);
    // Read only: nothing was deleted or changed by it.
    expect((await call('GET', '/api/account/export', leaver.skeys[0])).status).toBe(200);
  });

  it('limits deletion attempts to 5 an hour per user, each a WeChat exchange: the 6th is 429 with Retry-After and asks WeChat nothing', async () => {
    const { skey } = await login('hammer');
    const before = exchanges;
    for (let i = 0; i < 5; i++) expect((await deleteWith(skey, simulator.mintCode('someone else'))).status).toBe(401);
    expect(exchanges - before).toBe(5);
    const refused = await fetch(`${base}/api/account/delete`, { method: 'POST', headers: { ...bearer(skey), 'content-type': 'application/json' }, body: JSON.stringify({ code: simulator.mintCode('hammer') }) });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
    expect((await refused.json()) as unknown).toEqual({ error: { code: 'RATE_LIMITED', message: 'too many account deletion attempts, try again later' } });
    expect(exchanges - before).toBe(5);
    expect((await call('GET', '/auth/session', skey)).status).toBe(200);
    // Another user is not affected; the hour over, the user may try again.
    const other = await login('patient');
    expect((await deleteWith(other.skey, simulator.mintCode('patient'))).status).toBe(200);
    clock.advance(HOUR);
    expect((await deleteWith(skey, simulator.mintCode('hammer'))).status).toBe(200);
  });
}

describe('account deletion and export on memory stores', () => {
  lifecycleCases(memoryVariant);

  // Once is enough for what does not depend on the store.
  it('refuses a body without a code, or with a code that is not a string of 1 to 128 characters, with 400 before anything else', async () => {
    const clock = fakeClock();
    const config = testConfig();
    const simulator = createSimulator({ appId: config.wechat.appId, secret: config.wechat.secret, now: clock.now });
    const app = await buildApp({ config, now: clock.now, simulator, wechatTransport: callSimulator(simulator), log: false });
    try {
      const { skey } = (await app.inject({ method: 'POST', url: '/auth/login', payload: { code: simulator.mintCode('x') } })).json<LoginResponse>();
      for (const payload of [{}, { code: '' }, { code: 'x'.repeat(129) }, { code: 42 }, { code: 'ok', extra: 1 }]) {
        const response = await app.inject({ method: 'POST', url: '/api/account/delete', headers: bearer(skey), payload });
        expect({ payload, status: response.statusCode, code: response.json<{ error: { code: string } }>().error.code }).toEqual({ payload, status: 400, code: 'BAD_REQUEST' });
      }
      const wrongMethod = await app.inject({ method: 'GET', url: '/api/account/delete', headers: bearer(skey) });
      expect(wrongMethod.statusCode).toBe(405);
      expect(wrongMethod.headers.allow).toBe('POST');
      expect((await app.inject({ method: 'DELETE', url: '/api/account/export', headers: bearer(skey) })).statusCode).toBe(405);
      expect((await app.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('account deletion by an operator, in a process of its own', () => {
  it('deletes the uploaded avatar of the server the configuration describes, and only that user’s', async () => {
    const clock = fakeClock();
    const config = testConfig({ port: await freePort(), host: '127.0.0.1' });
    const simulator = createSimulator({ appId: config.wechat.appId, secret: config.wechat.secret, now: clock.now });
    const stores = createMemoryStores({ now: clock.now, sessionIdleMs: config.sessionIdleMs });
    const app = await buildApp({ config, now: clock.now, stores, simulator, wechatTransport: callSimulator(simulator), log: false });
    try {
      const base = await app.listen({ host: config.host, port: config.port });
      const avatarOf = async (user: string) => {
        const { skey, user: { id } } = (await app.inject({ method: 'POST', url: '/auth/login', payload: { code: simulator.mintCode(user) } })).json<LoginResponse>();
        const form = new FormData();
        form.append('file', new Blob([SMALL_PNG], { type: 'image/png' }), 'avatar.png');
        const { avatarUrl } = (await (await fetch(`${base}/api/avatar`, { method: 'POST', headers: bearer(skey), body: form })).json()) as AvatarUploadResponse;
        return { id, file: path.join(config.uploadDir, avatarUrl.split('/').pop()!) };
      };
      const leaving = await avatarOf('leaving');
      const staying = await avatarOf('staying');

      // What `npm run admin delete` builds: the lifecycle on the same stores, the files from the configuration.
      const failures: string[] = [];
      const operator = createAccountLifecycle({ stores, now: clock.now, files: configuredAvatarFiles(config, (name) => void failures.push(name)) });
      expect(await operator.deleteAccount(leaving.id, { by: 'operator' })).toEqual({ deleted: true, kept: 'nothing', sessionsEnded: 1 });
      expect([existsSync(leaving.file), existsSync(staying.file), failures]).toEqual([false, true, []]);
    } finally {
      await app.close();
    }
  });
});

describe('account deletion and export on SQLite', () => {
  lifecycleCases(sqlVariant(async () => sqliteUrl()));
});

for (const kind of ['postgres', 'mariadb'] as const) {
  describeWithDatabase(kind, `account deletion and export on ${kind}`, (server) => {
    lifecycleCases(
      sqlVariant(async () => {
        // One server for the suite: each test starts from empty tables.
        const opened = await openMigrated(server().url);
        try {
          await emptyTables(opened);
        } finally {
          await opened.db.destroy();
        }
        return server().url;
      }),
    );
  });
}

describeWithRedis('account deletion and export with sessions in Redis and users in SQLite', (redis) => {
  lifecycleCases(sqlVariant(async () => sqliteUrl(), () => redis().url));
});
