import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import type { Config } from '../../server/config';
import { DEVTOOLS_MOCK_CODE } from '../../server/wechat/simulator';
import { describeWithRedis, testConfig } from './helpers';

const LIMIT = 5;

/**
 * The login limiter over real HTTP from 127.0.0.1, with and without a trusted proxy in front.
 * Each login uses the DevTools mock code, which the simulator accepts every time: only the
 * limiter can refuse it.
 */
async function listening(overrides: Partial<Config>): Promise<{ app: FastifyInstance; login(headers?: Record<string, string>): Promise<number> }> {
  const app = await buildApp({ config: testConfig({ loginRateLimit: LIMIT, loginRateWindowMs: 60_000, ...overrides }), log: false });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    app,
    login: async (headers = {}) =>
      (await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ code: DEVTOOLS_MOCK_CODE }) })).status,
  };
}

const statuses = async (n: number, next: (i: number) => Promise<number>) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await next(i));
  return out;
};
const allowed = (list: number[]) => list.filter((s) => s === 200).length;

describe('the login limiter cannot be steered by the client', () => {
  let server: Awaited<ReturnType<typeof listening>> | undefined;
  afterEach(async () => {
    await server?.app.close();
    server = undefined;
  });

  it('without TRUST_PROXY, ignores X-Forwarded-For: 40 logins with 40 made-up addresses get 5 through', async () => {
    server = await listening({ trustProxy: false });
    const result = await statuses(40, (i) => server!.login({ 'x-forwarded-for': `198.51.100.${i}` }));
    expect(allowed(result)).toBe(LIMIT);
    expect(result.slice(LIMIT)).toEqual(Array(40 - LIMIT).fill(429));
  });

  it('with TRUST_PROXY=1, keys by the address the proxy appended, not the entries the client wrote before it', async () => {
    server = await listening({ trustProxy: 1 });
    // The client writes anything on the left; the proxy appends what it saw (203.0.113.7) on the right.
    const result = await statuses(40, (i) => server!.login({ 'x-forwarded-for': `10.${i}.0.1, 198.51.100.${i}, 203.0.113.7` }));
    expect(allowed(result)).toBe(LIMIT);
    // A different client behind the same proxy has its own budget.
    expect(await server.login({ 'x-forwarded-for': '203.0.113.8' })).toBe(200);
  });

  it('with TRUST_PROXY as a list of proxy addresses, walks back through trusted hops only', async () => {
    server = await listening({ trustProxy: ['127.0.0.1', '10.0.0.0/8'] });
    // 127.0.0.1 (the TCP peer) and 10.1.2.3 are trusted proxies: the client is 203.0.113.50.
    const result = await statuses(20, (i) => server!.login({ 'x-forwarded-for': `192.0.2.${i}, 203.0.113.50, 10.1.2.3` }));
    expect(allowed(result)).toBe(LIMIT);
    expect(await server.login({ 'x-forwarded-for': '203.0.113.51, 10.1.2.3' })).toBe(200);
  });

  it('keys IPv6 clients by their /64: rotating through one’s own addresses buys nothing', async () => {
    server = await listening({ trustProxy: 1 });
    const result = await statuses(20, (i) => server!.login({ 'x-forwarded-for': `2001:db8:aa:bb::${(i + 1).toString(16)}` }));
    expect(allowed(result)).toBe(LIMIT);
    // Another /64 is another client; an IPv4-mapped address counts as the IPv4 one.
    expect(await server.login({ 'x-forwarded-for': '2001:db8:aa:bc::1' })).toBe(200);
    expect(await statuses(LIMIT, () => server!.login({ 'x-forwarded-for': '203.0.113.9' }))).toEqual(Array(LIMIT).fill(200));
    expect(await server.login({ 'x-forwarded-for': '::ffff:203.0.113.9' })).toBe(429);
  });

  it('answers 429 RATE_LIMITED in the envelope with the seconds until a login is possible again', async () => {
    server = await listening({});
    await statuses(LIMIT, () => server!.login());
    const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    const refused = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: DEVTOOLS_MOCK_CODE }) });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) } });
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(55);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it('does not count health probes: 100 of them leave every login intact', async () => {
    server = await listening({});
    const base = `http://127.0.0.1:${(server.app.server.address() as { port: number }).port}`;
    for (let i = 0; i < 50; i++) {
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    }
    expect(await statuses(LIMIT, () => server!.login())).toEqual(Array(LIMIT).fill(200));
  });
});

describeWithRedis('the login limiter in Redis', (redis) => {
  it('keys by the trusted address across two instances: 5 logins in all through either, whatever the client writes', async () => {
    const config = { redisUrl: redis().url, trustProxy: 1 as const };
    const a = await listening(config);
    const b = await listening(config);
    try {
      const result = await statuses(20, (i) => (i % 2 ? a : b).login({ 'x-forwarded-for': `198.51.100.${i}, 203.0.113.77` }));
      expect(allowed(result)).toBe(LIMIT);
    } finally {
      await a.app.close();
      await b.app.close();
    }
  });
});
