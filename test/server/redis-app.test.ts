import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import type { LoginResponse } from '../../typings/api';
import { bearer, describeWithRedis, testConfig } from './helpers';

/** Two server instances on one Redis, as behind a load balancer. */
describeWithRedis('two instances sharing Redis', (redis) => {
  let a: FastifyInstance;
  let b: FastifyInstance;
  beforeAll(async () => {
    const config = testConfig({ redisUrl: redis().url, loginRateLimit: 3 });
    a = await buildApp({ config, log: false });
    b = await buildApp({ config, log: false });
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
