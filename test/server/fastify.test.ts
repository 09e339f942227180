/**
 * The fastify plugin in a host app of its own: fastify's defaults (its ajv, its JSON parser, its
 * error format), the host's own routes and logger beside the login routes.
 */
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import { createSimulatedWeChat, type SimulatedWeChat } from '../../server/core/simulator';
import { fastifyWxLogin } from '../../server/fastify';
import type { LoginResponse } from '../../typings/api';
import { createMemoryStores } from '../../server/stores/memory';
import type { UserDatabase } from '../../server/stores/types';
import { bearer, describeWithRedis, fakeClock } from './helpers';

/** The smallest host app of the issue, as written there, plus the host's own error format. */
async function hostApp(options: { prefix?: string; requirePhone?: boolean; logger?: Writable; stores?: Redis; userDatabase?: UserDatabase } = {}): Promise<{ fastify: FastifyInstance; wechat: SimulatedWeChat }> {
  const fastify = Fastify(options.logger ? { logger: { level: 'trace', stream: options.logger } } : {});
  const wechat = createSimulatedWeChat();
  await fastify.register(fastifyWxLogin, {
    wechat,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(options.requirePhone ? { requirePhone: true } : {}),
    ...(options.stores ? { stores: options.stores } : {}),
    ...(options.userDatabase ? { userDatabase: options.userDatabase } : {}),
  });
  fastify.get('/mine', { preHandler: fastify.requireSession }, async (req) => ({ id: req.wxUser.id }));
  fastify.get('/boom', async () => {
    throw Object.assign(new Error('the host broke'), { statusCode: 409 });
  });
  return { fastify, wechat };
}

async function logIn(fastify: FastifyInstance, wechat: SimulatedWeChat, prefix = '', user = 'host-user'): Promise<LoginResponse> {
  const response = await fastify.inject({ method: 'POST', url: `${prefix}/auth/login`, payload: { code: wechat.mintCode(user) } });
  expect(response.statusCode).toBe(200);
  return response.json<LoginResponse>();
}

const expectEnvelope = (response: { statusCode: number; json(): unknown }, status: number, code: string) => {
  expect(response.statusCode).toBe(status);
  expect(response.json()).toEqual({ error: { code, message: expect.any(String) } });
};

describe('fastifyWxLogin in a host app', () => {
  let fastify: FastifyInstance;
  let wechat: SimulatedWeChat;
  beforeEach(async () => {
    ({ fastify, wechat } = await hostApp());
  });
  afterEach(() => fastify.close());

  it('logs in at the contract path and lets requireSession serve the session’s user to the host’s route', async () => {
    const { skey, user, isNewUser } = await logIn(fastify, wechat);
    expect(isNewUser).toBe(true);
    const mine = await fastify.inject({ url: '/mine', headers: bearer(skey) });
    expect(mine.statusCode).toBe(200);
    expect(mine.json()).toEqual({ id: user.id });
    expect((await fastify.inject({ url: '/auth/session', headers: bearer(skey) })).json().user.id).toBe(user.id);
  });

  it('answers the host’s route without a session, or with an unknown one, in the contract’s 401 envelope that makes the client log in again', async () => {
    expectEnvelope(await fastify.inject({ url: '/mine' }), 401, 'SESSION_EXPIRED');
    expectEnvelope(await fastify.inject({ url: '/mine', headers: bearer('A'.repeat(43)) }), 401, 'SESSION_EXPIRED');
  });

  it('ends the session on logout: the host’s route answers 401 with the same skey', async () => {
    const { skey } = await logIn(fastify, wechat);
    expect((await fastify.inject({ method: 'POST', url: '/auth/logout', headers: bearer(skey) })).json()).toEqual({ ok: true });
    expectEnvelope(await fastify.inject({ url: '/mine', headers: bearer(skey) }), 401, 'SESSION_EXPIRED');
  });

  it('exports the session’s account and deletes it with a fresh code of the same WeChat user: a foreign code is 401 INVALID_CODE, then the skey is 401 on the host’s route too', async () => {
    const { skey, user } = await logIn(fastify, wechat, '', 'leaving');
    const exported = await fastify.inject({ url: '/api/account/export', headers: bearer(skey) });
    expect(exported.statusCode).toBe(200);
    expect(exported.headers['cache-control']).toBe('no-store');
    expect(exported.json()).toMatchObject({ user: { id: user.id }, identities: [{ kind: 'wechat', value: wechat.openidFor('leaving') }], sessions: [{ current: true }] });
    expectEnvelope(await fastify.inject({ method: 'POST', url: '/api/account/delete', headers: bearer(skey), payload: { code: wechat.mintCode('someone') } }), 401, 'INVALID_CODE');
    expect((await fastify.inject({ url: '/mine', headers: bearer(skey) })).statusCode).toBe(200);
    const deleted = await fastify.inject({ method: 'POST', url: '/api/account/delete', headers: bearer(skey), payload: { code: wechat.mintCode('leaving') } });
    expect(deleted.json()).toEqual({ deleted: true, kept: 'nothing' });
    expectEnvelope(await fastify.inject({ url: '/mine', headers: bearer(skey) }), 401, 'SESSION_EXPIRED');
    expect(await fastify.wxLogin.stores.users.get(user.id)).toBeNull();
    expect((await logIn(fastify, wechat, '', 'leaving')).isNewUser).toBe(true);
  });

  it('marks every login answer no-store', async () => {
    const response = await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code: wechat.mintCode() } });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  describe('bad input on the plugin’s routes gets the envelope', () => {
    it('answers a body that is not JSON with 400 BAD_REQUEST', async () => {
      const response = await fastify.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"code":' });
      expectEnvelope(response, 400, 'BAD_REQUEST');
      expect(response.json().error.message).toBe('the body is not valid JSON');
    });

    it('answers a prototype-setting body with 400 naming the property, where the host’s parser would take it', async () => {
      const response = await fastify.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"code":"a","__proto__":{"x":1}}' });
      expectEnvelope(response, 400, 'BAD_REQUEST');
      expect(response.json().error.message).toMatch(/^forbidden property __proto__/);
    });

    it('answers text/plain with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      expectEnvelope(await fastify.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'text/plain' }, payload: 'code' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
      expectEnvelope(await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code: 'x'.repeat(20_000) } }), 413, 'PAYLOAD_TOO_LARGE');
    });

    it('validates with the contract’s rules, not the host’s coercing ajv: a number is no code, an extra property is refused', async () => {
      const number = await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code: 12345 } });
      expectEnvelope(number, 400, 'BAD_REQUEST');
      expect(number.json().error.message).toBe('body/code must be string');
      const extra = await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code: wechat.mintCode(), admin: true } });
      expectEnvelope(extra, 400, 'BAD_REQUEST');
      expect(extra.json().error.message).toBe('body must NOT have additional properties');
    });

    it.each([
      ['GET', '/auth/login', 'POST'],
      ['DELETE', '/auth/session', 'GET, HEAD'],
      ['PUT', '/auth/phone', 'POST'],
    ] as const)('answers %s on %s with 405 METHOD_NOT_ALLOWED and Allow: %s', async (method, url, allow) => {
      const response = await fastify.inject({ method, url });
      expectEnvelope(response, 405, 'METHOD_NOT_ALLOWED');
      expect(response.headers.allow).toBe(allow);
    });

    it('answers a bad WeChat code with the contract’s 401 INVALID_CODE', async () => {
      expectEnvelope(await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code: 'not-a-code' } }), 401, 'INVALID_CODE');
    });
  });

  describe('the host’s own routes keep the host’s error handling', () => {
    it('answers a host route that throws in fastify’s own format, not the envelope', async () => {
      const response = await fastify.inject({ url: '/boom' });
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ statusCode: 409, error: 'Conflict', message: 'the host broke' });
    });

    it('answers an unknown path, also under /auth, with the host’s 404', async () => {
      for (const url of ['/nothing', '/auth/nothing']) {
        const response = await fastify.inject({ url });
        expect(response.statusCode).toBe(404);
        expect(response.json()).toMatchObject({ statusCode: 404, error: 'Not Found' });
      }
    });

    it('leaves the host’s JSON parser on its routes: a body the plugin refuses is the host’s to judge there', async () => {
      fastify.post('/echo', async (req) => req.body);
      const response = await fastify.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'plain text' });
      expect(response.statusCode).toBe(200);
      expect(response.body).toBe('plain text');
    });

    it('answers the host’s custom error format when the host sets an error handler', async () => {
      const host = Fastify();
      host.setErrorHandler((error: Error, _request, reply) => reply.status(500).send({ hostError: error.message }));
      await host.register(fastifyWxLogin, { wechat: createSimulatedWeChat() });
      host.get('/boom', async () => {
        throw new Error('mine');
      });
      expect((await host.inject({ url: '/boom' })).json()).toEqual({ hostError: 'mine' });
      expectEnvelope(await host.inject({ method: 'POST', url: '/auth/login', payload: { code: 'x' } }), 401, 'INVALID_CODE');
      await host.close();
    });
  });
});

describe('fastifyWxLogin under a prefix', () => {
  it('mounts the routes under the plugin’s prefix option', async () => {
    const { fastify, wechat } = await hostApp({ prefix: '/api' });
    const { skey } = await logIn(fastify, wechat, '/api');
    expect((await fastify.inject({ url: '/api/auth/session', headers: bearer(skey) })).statusCode).toBe(200);
    expect((await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code: wechat.mintCode() } })).statusCode).toBe(404);
    await fastify.close();
  });

  it('mounts the routes under the prefix of the host scope it is registered in, and decorates that scope', async () => {
    const fastify = Fastify();
    const wechat = createSimulatedWeChat();
    await fastify.register(
      async (v1) => {
        await v1.register(fastifyWxLogin, { wechat });
        v1.get('/mine', { preHandler: v1.requireSession }, async (req) => ({ id: req.wxUser.id }));
      },
      { prefix: '/v1' },
    );
    const { skey, user } = await logIn(fastify, wechat, '/v1');
    expect((await fastify.inject({ url: '/v1/mine', headers: bearer(skey) })).json()).toEqual({ id: user.id });
    await fastify.close();
  });
});

describe('fastifyWxLogin options', () => {
  it.each([
    [{}, /option wechat is required/],
    [{ wechat: { appId: 'wx123', secret: '0'.repeat(32) } }, /option wechat\.appId must be "wx" followed by 16/],
    [{ wechat: { appId: 'wx0123456789abcdef', secret: 'short-secret' } }, /option wechat\.secret must be the 32 hex digits of the AppSecret \(got 12 characters, not shown\)/],
    [{ wechat: createSimulatedWeChat(), stores: { sessions: {} } }, /option stores must be an ioredis client, or a Stores object/],
    [{ wechat: createSimulatedWeChat(), prefix: 'api/' }, /option prefix must be a path such as "\/api"/],
    [{ wechat: createSimulatedWeChat(), loginRateLimit: 0 }, /option loginRateLimit must be an integer from 1 to 1000000000 \(got 0\)/],
    [{ wechat: createSimulatedWeChat(), bodyLimit: '16kb' }, /option bodyLimit must be an integer/],
    [{ wechat: createSimulatedWeChat(), sealKey: Buffer.alloc(32) }, /option sealKey applies only when stores is an ioredis client/],
  ])('refuses %p at register time, naming the option', async (options, message) => {
    const fastify = Fastify();
    await expect(fastify.register(fastifyWxLogin, options as never).ready()).rejects.toThrow(message);
    await fastify.close();
  });

  it('never echoes a secret given in a wrong option', async () => {
    const fastify = Fastify();
    const secret = 'not-hex-but-secret-value-1234567';
    const error = await Promise.resolve(fastify.register(fastifyWxLogin, { wechat: { appId: 'wx0123456789abcdef', secret } }).ready()).catch((e: Error) => e);
    expect(String(error)).toMatch(/wechat\.secret/);
    expect(String(error)).not.toContain(secret);
    await fastify.close();
  });
});

describe('requireSession with requirePhone', () => {
  it('answers 403 PHONE_REQUIRED until the user binds a phone through the plugin’s route, then serves the route', async () => {
    const { fastify, wechat } = await hostApp({ requirePhone: true });
    const { skey, user } = await logIn(fastify, wechat, '', 'no-phone-yet');
    expect(user.phoneRequired).toBe(true);
    expectEnvelope(await fastify.inject({ url: '/mine', headers: bearer(skey) }), 403, 'PHONE_REQUIRED');
    const bound = await fastify.inject({ method: 'POST', url: '/auth/phone', headers: bearer(skey), payload: { code: wechat.mintPhoneCode('no-phone-yet', '13800138000') } });
    expect(bound.statusCode).toBe(200);
    expect(bound.json().user).toMatchObject({ phone: '138****8000', phoneRequired: false });
    expect((await fastify.inject({ url: '/mine', headers: bearer(skey) })).json()).toEqual({ id: user.id });
    await fastify.close();
  });
});

describe('the host’s logger', () => {
  it('never receives a skey, a code, the session_key or the user data, at trace level, failures included', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const { fastify, wechat } = await hostApp({ logger: stream });
    const code = wechat.mintCode('logged');
    const { skey } = (await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code } })).json<LoginResponse>();
    await fastify.inject({ url: '/mine', headers: bearer(skey) });
    const userData = wechat.userData('logged')!;
    expect((await fastify.inject({ method: 'POST', url: '/auth/user-info', headers: bearer(skey), payload: userData })).statusCode).toBe(200);
    const phoneCode = wechat.mintPhoneCode('logged');
    expect((await fastify.inject({ method: 'POST', url: '/auth/phone', headers: bearer(skey), payload: { code: phoneCode } })).statusCode).toBe(200);
    // A WeChat failure: a 502 whose cause the host's log gets (without the secret of the call).
    wechat.injectFaults({ errcode: 40013, delayMs: 0 }, 1);
    const refused = await fastify.inject({ method: 'POST', url: '/auth/login', payload: { code: wechat.mintCode('logged') } });
    expect(refused.statusCode).toBe(502);
    await fastify.inject({ method: 'POST', url: '/auth/logout', headers: bearer(skey) });
    await fastify.close();

    const text = lines.join('');
    expect(text).toContain('jscode2session errcode 40013');
    for (const secret of [skey, code, phoneCode, userData.encryptedData, userData.signature]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/session_?key|secret=|js_code/i);
  });
});

describeWithRedis('fastifyWxLogin on the host’s ioredis client', (redis) => {
  let client: Redis;
  beforeAll(() => {
    client = new Redis(redis().url);
  });
  afterAll(() => client.quit());

  it('keeps sessions in the host’s Redis under wxlogin: and users in the host’s user database, shared by two apps, and leaves both open when the app closes', async () => {
    const userDatabase = createMemoryStores({ now: Date.now, sessionIdleMs: 60 * 60 * 1000 });
    const a = await hostApp({ stores: client, userDatabase });
    const b = Fastify();
    await b.register(fastifyWxLogin, { wechat: createSimulatedWeChat(), stores: client, userDatabase, sessionIdleMs: 60 * 60 * 1000 });
    b.get('/mine', { preHandler: b.requireSession }, async (req) => ({ id: req.wxUser.id }));

    const { skey, user } = await logIn(a.fastify, a.wechat);
    expect(await client.exists(`wxlogin:user:${user.id}`)).toBe(0);
    expect(await client.exists(`wxlogin:sessions-of:${user.id}`)).toBe(1);
    expect((await userDatabase.users.get(user.id))?.id).toBe(user.id);
    // The other app derives another seal key (another simulator secret) but reads the session itself.
    expect((await b.inject({ url: '/mine', headers: bearer(skey) })).json()).toEqual({ id: user.id });
    await a.fastify.close();
    await b.close();
    expect(client.status).toBe('ready');
    expect(await client.ping()).toBe('PONG');
    expect((await userDatabase.users.get(user.id))?.id).toBe(user.id);
  });
});

describe('fastifyWxLogin with a fake clock', () => {
  it('ends a session at its idle timeout on the service’s clock', async () => {
    const clock = fakeClock();
    const fastify = Fastify();
    const wechat = createSimulatedWeChat({ now: clock.now });
    await fastify.register(fastifyWxLogin, { wechat, now: clock.now, sessionIdleMs: 10 * 60 * 1000 });
    fastify.get('/mine', { preHandler: fastify.requireSession }, async (req) => ({ id: req.wxUser.id }));
    const { skey } = await logIn(fastify, wechat);
    clock.advance(9 * 60 * 1000);
    expect((await fastify.inject({ url: '/mine', headers: bearer(skey) })).statusCode).toBe(200);
    clock.advance(10 * 60 * 1000 + 1);
    expectEnvelope(await fastify.inject({ url: '/mine', headers: bearer(skey) }), 401, 'SESSION_EXPIRED');
    await fastify.close();
  });
});
