import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import type { LoginResponse } from '../../typings/api';
import { callSimulator, createSimulator } from '../../server/wechat/simulator';
import { logSink, testConfig } from './helpers';

const SECRET = '5ec12e75ec12e75ec12e75ec12e75ec1';

/** The server as users run it: listening, asking its own simulator over loopback HTTP. */
describe('a listening server in simulated mode', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig({ wechat: { ...testConfig().wechat, timeoutMs: 300 } }), log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  const post = (path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });

  it('logs in with a minted code through the simulator over HTTP', async () => {
    const { code } = (await (await post('/dev/codes', { user: 'zoe' })).json()) as { code: string };
    const response = await post('/auth/login', { code });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const { skey } = (await response.json()) as LoginResponse;
    expect((await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${skey}` } })).status).toBe(200);
  });

  it('answers every kind of request with cache-control: no-store, successes, errors and the simulated WeChat alike', async () => {
    const { code } = (await (await post('/dev/codes', {})).json()) as { code: string };
    const { skey } = (await (await post('/auth/login', { code })).json()) as LoginResponse;
    const { wechat } = testConfig();
    const answers = {
      'a read': await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${skey}` } }),
      'a HEAD': await fetch(`${base}/healthz`, { method: 'HEAD' }),
      'a 401': await fetch(`${base}/api/profile`),
      'a 400 from validation': await post('/auth/login', { code: '' }),
      'a 400 from the JSON parser': await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":' }),
      'a 404': await fetch(`${base}/nowhere`),
      'a 404 for a missing avatar': await fetch(`${base}/avatars/${'0'.repeat(32)}.png`),
      'a 415': await fetch(`${base}/dev/codes`, { method: 'POST' }),
      'the simulated WeChat': await fetch(`${base}/sns/jscode2session?appid=${wechat.appId}&secret=nope&js_code=x&grant_type=authorization_code`),
    };
    const statuses = Object.fromEntries(Object.entries(answers).map(([what, response]) => [what, response.status]));
    expect(statuses).toEqual({
      'a read': 200,
      'a HEAD': 200,
      'a 401': 401,
      'a 400 from validation': 400,
      'a 400 from the JSON parser': 400,
      'a 404': 404,
      'a 404 for a missing avatar': 404,
      'a 415': 415,
      'the simulated WeChat': 200,
    });
    const policies = Object.fromEntries(Object.entries(answers).map(([what, response]) => [what, response.headers.get('cache-control')]));
    expect(policies).toEqual(Object.fromEntries(Object.keys(answers).map((what) => [what, 'no-store'])));
  });

  it('answers the real jscode2session shapes: no errcode on success, errcode and errmsg on failure', async () => {
    const { wechat } = testConfig();
    const wrongSecret = await fetch(`${base}/sns/jscode2session?appid=${wechat.appId}&secret=nope&js_code=x&grant_type=authorization_code`);
    expect(wrongSecret.status).toBe(200); // WeChat's own convention, only on the simulated WeChat route
    expect(await wrongSecret.json()).toEqual({ errcode: 40125, errmsg: expect.stringMatching(/^invalid appsecret, rid: /) });
  });

  it('answers 504 WECHAT_TIMEOUT when WeChat is slower than the timeout, then recovers', async () => {
    await post('/dev/faults', { delayMs: 1000 });
    const { code } = (await (await post('/dev/codes')).json()) as { code: string };
    const slow = await post('/auth/login', { code });
    expect(slow.status).toBe(504);
    expect(((await slow.json()) as { error: { code: string } }).error.code).toBe('WECHAT_TIMEOUT');
    const { code: next } = (await (await post('/dev/codes')).json()) as { code: string };
    expect((await post('/auth/login', { code: next })).status).toBe(200);
  });

  it('accepts a dev route with a JSON content type and no body, and refuses one without the content type with 415', async () => {
    expect((await fetch(`${base}/dev/codes`, { method: 'POST', headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const bare = await fetch(`${base}/dev/codes`, { method: 'POST' });
    expect(bare.status).toBe(415);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('real mode', () => {
  it('registers neither the simulator nor any development route', async () => {
    const app = await buildApp({ config: testConfig({}, { WX_APPID: 'wx0123456789abcdef', WX_SECRET: SECRET }), log: false });
    for (const [method, url] of [
      ['POST', '/dev/codes'],
      ['POST', '/dev/faults'],
      ['POST', '/dev/sessions/expire'],
      ['POST', '/dev/user-data'],
      ['POST', '/dev/wechat-events'],
      ['GET', '/sns/jscode2session?appid=x'],
    ] as const) {
      const response = await app.inject({ method, url, payload: method === 'POST' ? {} : undefined });
      expect(response.statusCode).toBe(404);
    }
    await app.close();
  });

  it('sends the configured appid and secret to WeChat and hides both from the client', async () => {
    const seen: string[] = [];
    const app = await buildApp({
      config: testConfig({}, { WX_APPID: 'wx0123456789abcdef', WX_SECRET: SECRET }),
      log: false,
      wechatTransport: async (url) => {
        seen.push(url);
        return { status: 200, body: '{"errcode":40029,"errmsg":"invalid code, rid: 1"}' };
      },
    });
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { code: 'c0de' } });
    expect(seen).toEqual([`https://api.weixin.qq.com/sns/jscode2session?appid=wx0123456789abcdef&secret=${SECRET}&js_code=c0de&grant_type=authorization_code`]);
    expect(response.statusCode).toBe(401);
    expect(response.body).not.toContain(SECRET);
    expect(response.body).not.toMatch(/rid: 1/);
    await app.close();
  });

  it('answers a WeChat that rejects the app secret (40125) with a plain 502, never WeChat’s errcode or message', async () => {
    const sink = logSink();
    const app = await buildApp({
      config: testConfig({}, { WX_APPID: 'wx0123456789abcdef', WX_SECRET: SECRET }),
      log: sink.stream,
      wechatTransport: async () => ({ status: 200, body: '{"errcode":40125,"errmsg":"invalid appsecret, rid: 6565"}' }),
    });
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { code: 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6' } });
    expect(response.statusCode).toBe(502);
    expect(response.json()).toEqual({ error: { code: 'WECHAT_UNAVAILABLE', message: 'WeChat refused the exchange' } });
    await app.close();
    // The operator is told, in the log, without the secret.
    expect(sink.text()).toMatch(/jscode2session errcode 40125: invalid appsecret/);
    expect(sink.text()).not.toContain(SECRET);
  });
});


describe('the simulated WeChat called in-process (the benchmark measures logins this way beside logins over HTTP)', () => {
  it('logs in, refuses a replayed code, and binds a phone number, answering as over HTTP', async () => {
    const config = testConfig();
    const simulator = createSimulator({ appId: config.wechat.appId, secret: config.wechat.secret, now: Date.now });
    const app = await buildApp({ config, simulator, wechatTransport: callSimulator(simulator), log: false });
    try {
      const code = simulator.mintCode('ina');
      const first = await app.inject({ method: 'POST', url: '/auth/login', payload: { code } });
      expect(first.statusCode).toBe(200);
      const replay = await app.inject({ method: 'POST', url: '/auth/login', payload: { code } });
      expect(replay.statusCode).toBe(401);
      expect(replay.json()).toMatchObject({ error: { code: 'INVALID_CODE' } });
      const { skey } = first.json<LoginResponse>();
      const bound = await app.inject({ method: 'POST', url: '/auth/phone', headers: { authorization: `Bearer ${skey}` }, payload: { code: simulator.mintPhoneCode('ina', '13800138000') } });
      expect(bound.statusCode).toBe(200);
      expect(bound.json()).toMatchObject({ user: { phone: '138****8000' } });
    } finally {
      await app.close();
    }
  });

  it('answers 404 for a path or method WeChat does not have, and 400 for a body that is not JSON', async () => {
    const simulator = createSimulator({ appId: 'wx1', secret: 's', now: Date.now });
    const call = callSimulator(simulator);
    const deadline = { expired: false, onExpiry: () => undefined };
    expect((await call('http://127.0.0.1/sns/nothing', deadline)).status).toBe(404);
    expect((await call('http://127.0.0.1/cgi-bin/stable_token', deadline)).status).toBe(404);
    expect((await call('http://127.0.0.1/cgi-bin/stable_token', deadline, { body: '{' })).status).toBe(400);
  });
});
