/** The express adapter in a host app of its own, over real HTTP: the same routes and envelope as the reference server. */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import Redis from 'ioredis';
import { createSimulatedWeChat, type SimulatedWeChat } from '../../server/core/simulator';
import { expressWxLogin, type ExpressWxLoginOptions } from '../../server/express';
import type { LoginResponse } from '../../typings/api';
import { createMemoryStores } from '../../server/stores/memory';
import { describeWithRedis, fakeClock } from './helpers';

interface Host {
  base: string;
  wechat: SimulatedWeChat;
  logged: string[];
  close(): Promise<void>;
}

/** The smallest host app of the issue, plus a host route that throws and the host's own error middleware. */
async function hostApp(options: Partial<ExpressWxLoginOptions> = {}): Promise<Host> {
  const wechat = createSimulatedWeChat(options.now ? { now: options.now } : {});
  const logged: string[] = [];
  const record = (level: string) => (fields: Record<string, unknown>, message: string) => void logged.push(`${level} ${message} ${JSON.stringify(fields)}`);
  const app = express();
  const { router, requireSession } = expressWxLogin({ wechat, logger: { warn: record('warn'), error: record('error') }, ...options });
  app.use(router);
  app.get('/mine', requireSession, (req, res) => res.json({ id: req.wxUser.id }));
  app.use(express.json());
  app.post('/echo', (req, res) => res.json({ echoed: req.body }));
  app.get('/boom', () => {
    throw new Error('the host broke');
  });
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => void res.status(500).json({ hostError: error.message }));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    wechat,
    logged,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const bearer = (skey: string) => ({ authorization: `Bearer ${skey}` });

async function call(host: Host, path: string, init: { method?: string; headers?: Record<string, string>; body?: string; json?: unknown } = {}) {
  const headers = { ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers };
  const response = await fetch(`${host.base}${path}`, { method: init.method ?? 'GET', headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

async function logIn(host: Host, user = 'express-user'): Promise<LoginResponse> {
  const response = await call(host, '/auth/login', { method: 'POST', json: { code: host.wechat.mintCode(user) } });
  expect(response.status).toBe(200);
  return response.json();
}

const expectEnvelope = (response: { status: number; json(): unknown; headers: Headers }, status: number, code: string) => {
  expect(response.status).toBe(status);
  expect(response.json()).toEqual({ error: { code, message: expect.any(String) } });
  expect(response.headers.get('cache-control')).toBe('no-store');
};

describe('expressWxLogin in a host app', () => {
  let host: Host;
  beforeAll(async () => {
    host = await hostApp();
  });
  afterAll(() => host.close());

  it('logs in at the contract path and lets requireSession serve the session’s user to the host’s route', async () => {
    const { skey, user } = await logIn(host);
    const mine = await call(host, '/mine', { headers: bearer(skey) });
    expect(mine.status).toBe(200);
    expect(mine.json()).toEqual({ id: user.id });
    const session = await call(host, '/auth/session', { headers: bearer(skey) });
    expect(session.json().user.id).toBe(user.id);
    expect(session.headers.get('cache-control')).toBe('no-store');
  });

  it('answers the host’s route without a session in the contract’s 401 envelope', async () => {
    expectEnvelope(await call(host, '/mine'), 401, 'SESSION_EXPIRED');
    expectEnvelope(await call(host, '/mine', { headers: bearer('A'.repeat(43)) }), 401, 'SESSION_EXPIRED');
  });

  it('ends the session on logout', async () => {
    const { skey } = await logIn(host);
    expect((await call(host, '/auth/logout', { method: 'POST', headers: bearer(skey) })).json()).toEqual({ ok: true });
    expectEnvelope(await call(host, '/mine', { headers: bearer(skey) }), 401, 'SESSION_EXPIRED');
  });

  it('verifies WeChat’s user data and binds a phone through the routes', async () => {
    const { skey } = await logIn(host, 'data-user');
    const info = await call(host, '/auth/user-info', { method: 'POST', headers: bearer(skey), json: host.wechat.userData('data-user') });
    expect(info.json().user.nickname).toBe('data-user');
    const phone = await call(host, '/auth/phone', { method: 'POST', headers: bearer(skey), json: { code: host.wechat.mintPhoneCode('data-user', '13900139000') } });
    expect(phone.json().user.phone).toBe('139****9000');
    const replay = await call(host, '/auth/user-info', { method: 'POST', headers: bearer(skey), json: { ...host.wechat.userData('data-user'), signature: '0'.repeat(40) } });
    expectEnvelope(replay, 400, 'INVALID_USER_DATA');
  });

  it('exports the session’s account and deletes it with a fresh code of the same WeChat user: a foreign code is 401 INVALID_CODE, then the skey is 401 on the host’s route too', async () => {
    const { skey, user } = await logIn(host, 'leaving');
    const exported = await call(host, '/api/account/export', { headers: bearer(skey) });
    expect(exported.status).toBe(200);
    expect(exported.headers.get('cache-control')).toBe('no-store');
    expect(exported.json()).toMatchObject({ user: { id: user.id }, identities: [{ kind: 'wechat', value: host.wechat.openidFor('leaving') }], sessions: [{ current: true }] });
    expectEnvelope(await call(host, '/api/account/delete', { method: 'POST', headers: bearer(skey), json: { code: host.wechat.mintCode('someone') } }), 401, 'INVALID_CODE');
    expect((await call(host, '/mine', { headers: bearer(skey) })).status).toBe(200);
    expectEnvelope(await call(host, '/api/account/delete', { method: 'POST', headers: bearer(skey), json: { code: 42 } }), 400, 'BAD_REQUEST');
    const deleted = await call(host, '/api/account/delete', { method: 'POST', headers: bearer(skey), json: { code: host.wechat.mintCode('leaving') } });
    expect(deleted.json()).toEqual({ deleted: true, kept: 'nothing' });
    expectEnvelope(await call(host, '/mine', { headers: bearer(skey) }), 401, 'SESSION_EXPIRED');
    expect((await logIn(host, 'leaving')).isNewUser).toBe(true);
    expect((await logIn(host, 'leaving')).user.id).not.toBe(user.id);
  });

  describe('bad input on the adapter’s routes gets the envelope', () => {
    it('answers a body that is not JSON with 400 BAD_REQUEST', async () => {
      const response = await call(host, '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":' });
      expectEnvelope(response, 400, 'BAD_REQUEST');
      expect(response.json().error.message).toBe('the body is not valid JSON');
    });

    it('answers a prototype-setting body with 400 naming the property', async () => {
      const response = await call(host, '/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"a","constructor":{"prototype":{"x":1}}}' });
      expectEnvelope(response, 400, 'BAD_REQUEST');
      expect(response.json().error.message).toMatch(/^forbidden property constructor\.prototype/);
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded'])('answers content type %s with 415 UNSUPPORTED_MEDIA_TYPE', async (type) => {
      expectEnvelope(await call(host, '/auth/login', { method: 'POST', headers: { 'content-type': type }, body: 'code=abc' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE, declared or streamed', async () => {
      expectEnvelope(await call(host, '/auth/login', { method: 'POST', json: { code: 'x'.repeat(20_000) } }), 413, 'PAYLOAD_TOO_LARGE');
      const chunked = await fetch(`${host.base}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode(`{"code":"${'y'.repeat(20_000)}"}`));
            controller.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);
      expect(((await chunked.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers a body that breaks the contract’s schema with 400 saying how', async () => {
      const number = await call(host, '/auth/login', { method: 'POST', json: { code: 12345 } });
      expectEnvelope(number, 400, 'BAD_REQUEST');
      expect(number.json().error.message).toBe('body/code must be string');
      expect((await call(host, '/auth/login', { method: 'POST', json: {} })).json().error.message).toBe("body must have required property 'code'");
      expect((await call(host, '/auth/login', { method: 'POST' })).json().error.message).toBe('body must be object');
    });

    it.each([
      ['GET', '/auth/login?code=secret', 'POST'],
      ['DELETE', '/auth/session', 'GET, HEAD'],
      ['PATCH', '/auth/user-info', 'POST'],
    ])('answers %s on %s with 405 METHOD_NOT_ALLOWED and Allow: %s, the query left out of the message', async (method, url, allow) => {
      const response = await call(host, url, { method });
      expectEnvelope(response, 405, 'METHOD_NOT_ALLOWED');
      expect(response.headers.get('allow')).toBe(allow);
      expect(response.json().error.message).toBe(`no route for ${method} ${url.split('?')[0]}; this path takes ${allow}`);
    });

    it('answers a bad WeChat code with 401 INVALID_CODE', async () => {
      expectEnvelope(await call(host, '/auth/login', { method: 'POST', json: { code: 'not-a-code' } }), 401, 'INVALID_CODE');
    });
  });

  describe('the host’s own routes keep the host’s handling', () => {
    it('answers a host route that throws through the host’s error middleware', async () => {
      const response = await call(host, '/boom');
      expect(response.status).toBe(500);
      expect(response.json()).toEqual({ hostError: 'the host broke' });
    });

    it('leaves unknown paths, also under /auth, to the host (express’s own 404)', async () => {
      const response = await call(host, '/auth/nothing');
      expect(response.status).toBe(404);
      expect(response.text).toMatch(/Cannot GET \/auth\/nothing/);
    });

    it('leaves OPTIONS on a login path to the host (CORS preflights)', async () => {
      const response = await call(host, '/auth/login', { method: 'OPTIONS' });
      expect(response.status).toBe(200);
      expect(response.headers.get('allow')).toBe('POST');
    });

    it('leaves the host’s body parser for the host’s routes', async () => {
      expect((await call(host, '/echo', { method: 'POST', json: { a: 1 } })).json()).toEqual({ echoed: { a: 1 } });
    });
  });

  it('logs a WeChat failure’s cause to the host’s logger, without the code or any secret', async () => {
    host.wechat.injectFaults({ errcode: 40125, delayMs: 0 }, 1);
    const code = host.wechat.mintCode('failing');
    const response = await call(host, '/auth/login', { method: 'POST', json: { code } });
    expectEnvelope(response, 502, 'WECHAT_UNAVAILABLE');
    expect(host.logged.filter((line) => line.startsWith('warn'))).toEqual([expect.stringContaining('jscode2session errcode 40125')]);
    expect(host.logged.join('\n')).not.toContain(code);
    expect(host.logged.join('\n')).not.toMatch(/secret=|js_code/);
  });
});

describe('expressWxLogin behind a host’s body parser', () => {
  it('takes the body the host’s express.json() already parsed, checked against the contract', async () => {
    const wechat = createSimulatedWeChat();
    const app = express();
    app.use(express.json());
    app.use(expressWxLogin({ wechat }).router);
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const post = (body: unknown) => fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ code: wechat.mintCode() })).status).toBe(200);
    const refused = await post({ code: wechat.mintCode(), extra: 1 });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('expressWxLogin options', () => {
  it.each([
    [{}, /option wechat is required/],
    [{ wechat: createSimulatedWeChat(), logger: console.log }, /option logger must have warn/],
    [{ wechat: createSimulatedWeChat(), bodyLimit: 10 }, /option bodyLimit must be an integer from 1024/],
    [{ wechat: createSimulatedWeChat(), sessionLifetimeMs: -1 }, /option sessionLifetimeMs must be an integer/],
    [{ wechat: createSimulatedWeChat(), requirePhone: 'yes' }, /option requirePhone must be true or false/],
  ])('refuses %p when the adapter is created, naming the option', (options, message) => {
    expect(() => expressWxLogin(options as never)).toThrow(message);
  });
});

describe('expressWxLogin with requirePhone and a fake clock', () => {
  it('answers 403 PHONE_REQUIRED until a phone is bound, and 401 once the session is idle too long', async () => {
    const clock = fakeClock();
    const host = await hostApp({ requirePhone: true, now: clock.now, sessionIdleMs: 10 * 60 * 1000 });
    const { skey } = await logIn(host, 'phoneless');
    expectEnvelope(await call(host, '/mine', { headers: bearer(skey) }), 403, 'PHONE_REQUIRED');
    await call(host, '/auth/phone', { method: 'POST', headers: bearer(skey), json: { code: host.wechat.mintPhoneCode('phoneless') } });
    expect((await call(host, '/mine', { headers: bearer(skey) })).status).toBe(200);
    clock.advance(10 * 60 * 1000 + 1);
    expectEnvelope(await call(host, '/mine', { headers: bearer(skey) }), 401, 'SESSION_EXPIRED');
    await host.close();
  });
});

describe('expressWxLogin mounted under a path', () => {
  it('answers the login routes under the mount path and names that path in a 405', async () => {
    const wechat = createSimulatedWeChat();
    const app = express();
    app.use('/api', expressWxLogin({ wechat }).router);
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: wechat.mintCode() }) });
    expect(login.status).toBe(200);
    const wrong = await fetch(`${base}/api/auth/login`);
    expect(wrong.status).toBe(405);
    expect(((await wrong.json()) as { error: { message: string } }).error.message).toBe('no route for GET /api/auth/login; this path takes POST');
    expect((await fetch(`${base}/auth/login`, { method: 'POST' })).status).toBe(404);
    await new Promise((resolve) => server.close(resolve));
  });
});

describeWithRedis('expressWxLogin on the host’s ioredis client', (redis) => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redis().url);
  });
  afterAll(() => client.quit());

  it('keeps the session in Redis: requireSession waits for the store, and a logout there ends it', async () => {
    const userDatabase = createMemoryStores({ now: Date.now, sessionIdleMs: 60_000 });
    const host = await hostApp({ stores: client, redisPrefix: 'express:', userDatabase });
    const { skey, user } = await logIn(host, 'redis-user');
    // The session in Redis, the user in the host's user database.
    expect(await client.exists(`express:sessions-of:${user.id}`)).toBe(1);
    expect(await client.exists(`express:user:${user.id}`)).toBe(0);
    expect((await userDatabase.users.get(user.id))?.id).toBe(user.id);
    expect((await call(host, '/mine', { headers: bearer(skey) })).json()).toEqual({ id: user.id });
    await call(host, '/auth/logout', { method: 'POST', headers: bearer(skey) });
    expectEnvelope(await call(host, '/mine', { headers: bearer(skey) }), 401, 'SESSION_EXPIRED');
    await host.close();
    expect(client.status).toBe('ready');
  });

  it('answers 503 STORE_UNAVAILABLE on the host’s route when Redis does not answer, and logs why', async () => {
    const broken = new Redis(redis().url, { commandTimeout: 200, maxRetriesPerRequest: 0 });
    const host = await hostApp({ stores: broken, redisPrefix: 'broken:', userDatabase: createMemoryStores({ now: Date.now, sessionIdleMs: 60_000 }) });
    const { skey } = await logIn(host, 'unlucky');
    redis().pause();
    try {
      expectEnvelope(await call(host, '/mine', { headers: bearer(skey) }), 503, 'STORE_UNAVAILABLE');
    } finally {
      redis().resume();
    }
    expect(host.logged.some((line) => line.startsWith('warn') && line.includes('STORE_UNAVAILABLE'))).toBe(true);
    await host.close();
    broken.disconnect();
  });
});
