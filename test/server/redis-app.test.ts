import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import type { LoginResponse } from '../../typings/api';
import { createMemoryStores } from '../../server/stores/memory';
import { bearer, describeWithRedis, fakeClock, login, redisStores, testApp, testConfig, type TestApp } from './helpers';

/** Two server instances on one Redis, as behind a load balancer. */
describeWithRedis('two instances sharing Redis', (redis) => {
  let a: FastifyInstance;
  let b: FastifyInstance;
  beforeAll(async () => {
    const config = testConfig({ redisUrl: redis().url, loginRateLimit: 3 });
    // One Redis and one database of users for both, as a deployment has (the server's own choice, from DATABASE_URL, is tested in redis-sql.test.ts).
    const shared = { url: redis().url, now: Date.now, sessionIdleMs: config.sessionIdleMs, sealKey: config.sessionKeySealKey, userDatabase: createMemoryStores({ now: Date.now, sessionIdleMs: config.sessionIdleMs }) };
    a = await buildApp({ config, stores: await redisStores(shared), log: false });
    b = await buildApp({ config, stores: await redisStores(shared), log: false });
    await a.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it('accepts on one instance the skey issued by the other, and a logout on either ends it', async () => {
    const code = (await a.inject({ method: 'POST', url: '/dev/codes', payload: { user: 'lb' } })).json<{ code: string }>().code;
    const { skey, user } = (await a.inject({ method: 'POST', url: '/auth/login', payload: { code } })).json<LoginResponse>();
    const onB = await b.inject({ url: '/api/profile', headers: bearer(skey) });
    expect(onB.statusCode).toBe(200);
    expect(onB.json().user.id).toBe(user.id);
    await b.inject({ method: 'POST', url: '/auth/logout', headers: bearer(skey) });
    expect((await a.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode).toBe(401);
  });

  it('counts login attempts across instances for the rate limit', async () => {
    const statuses: number[] = [];
    for (const app of [a, b, a, b]) statuses.push((await app.inject({ method: 'POST', url: '/auth/login', payload: { code: 'x' }, remoteAddress: '10.9.9.9' })).statusCode);
    expect(statuses.slice(3)).toEqual([429]);
  });
});

describeWithRedis('sessions per user on Redis', (redis) => {
  let t: TestApp;
  let run = 0;
  beforeEach(async () => {
    const clock = fakeClock(Date.now());
    const config = testConfig();
    const stores = await redisStores({ url: redis().url, prefix: `cap${run++}:`, now: clock.now, sessionIdleMs: config.sessionIdleMs, sealKey: config.sessionKeySealKey });
    // More logins than the default 20 a minute from one address.
    t = await testApp({ clock, stores, config: { loginRateLimit: 100 } });
  });
  afterEach(() => t.app.close());
  const statusOf = async (skeys: string[]) => {
    const statuses: number[] = [];
    for (const skey of skeys) statuses.push((await t.app.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode);
    return statuses;
  };

  it('revokes exactly the oldest skey on the 11th login of a user (401), the other 10 keep working', async () => {
    const skeys: string[] = [];
    for (let i = 0; i < 11; i++) {
      t.clock.advance(1);
      skeys.push((await login(t.app, 'alice')).skey);
    }
    expect(await statusOf(skeys)).toEqual([401, ...Array<number>(10).fill(200)]);
  });

  it('leaves exactly 10 working skeys after 25 concurrent logins of one user', async () => {
    // The user exists first: the logins below race for sessions, not for making the user.
    const first = await login(t.app, 'alice');
    const skeys = (await Promise.all(Array.from({ length: 24 }, () => login(t.app, 'alice')))).map((answer) => answer.skey);
    const statuses = await statusOf([first.skey, ...skeys]);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.filter((status) => status === 401)).toHaveLength(15);
  });
});
