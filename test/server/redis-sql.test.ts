/**
 * REDIS_URL with DATABASE_URL, as a production deployment runs: sessions, rate limits and the
 * access token in Redis, users in the database, chosen by the server itself from its configuration.
 */
import SqliteDatabase from 'better-sqlite3';
import Redis from 'ioredis';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { parseDatabaseUrl, openDatabase } from '../../server/database';
import type { LoginResponse } from '../../typings/api';
import { sqliteUrl } from './helpers-databases';
import { bearer, describeWithRedis, injectInto, testConfig } from './helpers';

describeWithRedis('users in the database, sessions in Redis', (redis) => {
  let app: FastifyInstance;
  let url: string;
  beforeAll(async () => {
    url = sqliteUrl();
    const config = testConfig({ redisUrl: redis().url, database: parseDatabaseUrl(url), databaseMigrate: 'auto' });
    // The simulated WeChat called in-process, as testApp does.
    app = await buildApp({ config, log: false, wechatTransport: (wechatUrl, _deadline, request) => injectInto(app, wechatUrl, request) });
  });
  afterAll(() => app.close());

  const loginAs = async (user: string) => {
    const code = (await app.inject({ method: 'POST', url: '/dev/codes', payload: { user } })).json<{ code: string }>().code;
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { code } });
    if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
    return response.json<LoginResponse>();
  };

  it('keeps the user, profile and phone in the database and only sessions and limits in Redis', async () => {
    const { skey, user } = await loginAs('split');
    await app.inject({ method: 'PUT', url: '/api/profile', headers: bearer(skey), payload: { nickname: '分开🐱' } });
    const client = new Redis(redis().url);
    const { db } = openDatabase(parseDatabaseUrl(url)!);
    try {
      const keys = await client.keys('wxlogin:*');
      expect(keys.some((key) => /^wxlogin:(user|openid|unionid|phone):/.test(key))).toBe(false);
      expect(keys.some((key) => key.startsWith('wxlogin:session:'))).toBe(true);
      expect(JSON.stringify(await Promise.all(keys.filter((key) => key.startsWith('wxlogin:session:')).map((key) => client.hgetall(key))))).not.toContain('分开');
      expect(await db.selectFrom('users').select(['id', 'nickname']).execute()).toEqual([{ id: user.id, nickname: '分开🐱' }]);
      expect(await db.selectFrom('sessions').select('skey_hash').execute()).toEqual([]);
    } finally {
      await client.quit();
      await db.destroy();
    }
  });

  it('authenticates with one Redis command and one SQL statement (the user by primary key)', async () => {
    const { skey } = await loginAs('counted');
    // Warm: the touch script loaded into Redis, the statement prepared.
    await app.inject({ url: '/api/profile', headers: bearer(skey) });
    const commands = jest.spyOn(Redis.prototype, 'sendCommand');
    // Statements are prepared once and kept (server/database.ts): what runs is counted where it runs.
    const statementPrototype = Object.getPrototypeOf(new SqliteDatabase(':memory:').prepare('select 1')) as SqliteDatabase.Statement;
    const reads = jest.spyOn(statementPrototype, 'all');
    const writes = jest.spyOn(statementPrototype, 'run');
    try {
      const response = await app.inject({ url: '/api/profile', headers: bearer(skey) });
      expect(response.statusCode).toBe(200);
      expect(commands.mock.calls.map(([command]) => command.name)).toEqual(['evalsha']);
      const ran = [...reads.mock.contexts, ...writes.mock.contexts].map((statement) => (statement as SqliteDatabase.Statement).source);
      expect(ran).toEqual([expect.stringMatching(/^select .* from "users" left join "identities" .* where "users"\."id" = \?/)]);
    } finally {
      commands.mockRestore();
      reads.mockRestore();
      writes.mockRestore();
    }
  });
});
