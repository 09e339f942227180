import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { SessionRecord, SessionWithUser, Stores } from '../../server/stores/types';
import { createMemoryStores } from '../../server/stores/memory';
import { newSkey } from '../../server/session';
import type { BindRequiredResponse, LoginResponse } from '../../typings/api';
import { hashPassword } from '../../server/passwords';
import { DEVTOOLS_MOCK_CODE } from '../../server/wechat/simulator';
import { bearer, fakeClock, login, logSink, mintCode, testApp, testConfig, type TestApp } from './helpers';

const MINUTE = 60_000;

describe('POST /auth/login', () => {
  let t: TestApp;
  let app: FastifyInstance;
  beforeEach(async () => {
    t = await testApp();
    app = t.app;
  });
  afterEach(() => app.close());

  const postLogin = (code: unknown) => app.inject({ method: 'POST', url: '/auth/login', payload: { code } });

  it('creates the user on first login and answers skey, expiresAt and the user', async () => {
    const response = await postLogin(await mintCode(app, 'alice'));
    expect(response.statusCode).toBe(200);
    const body = response.json<LoginResponse>();
    expect(body.isNewUser).toBe(true);
    expect(body.skey).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    expect(body.expiresAt).toBe(t.clock.now() + t.config.sessionLifetimeMs);
    expect(body.user).toEqual({
      id: expect.any(String),
      nickname: '',
      avatarUrl: '',
      profileComplete: false,
      createdAt: t.clock.now(),
      phone: null,
      phoneRequired: false,
      roles: ['member'],
      account: null,
    });
    expect(body.menus.map((m) => m.key)).toEqual(['orders']);
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'isNewUser', 'menus', 'skey', 'user']);
  });

  it('finds the same user on the next login, with a fresh skey each time', async () => {
    const first = await login(app, 'alice');
    const second = await login(app, 'alice');
    expect(second.isNewUser).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    expect(second.skey).not.toBe(first.skey);
  });

  it('keeps both devices logged in when a user logs in twice', async () => {
    const phone = await login(app, 'alice');
    const tablet = await login(app, 'alice');
    for (const { skey } of [phone, tablet]) {
      expect((await app.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode).toBe(200);
    }
  });

  it('gives different simulated users different accounts', async () => {
    expect((await login(app, 'alice')).user.id).not.toBe((await login(app, 'bob')).user.id);
  });

  it('rejects a replayed code with 401 INVALID_CODE', async () => {
    const code = await mintCode(app);
    expect((await postLogin(code)).statusCode).toBe(200);
    const replay = await postLogin(code);
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toEqual({ error: { code: 'INVALID_CODE', message: expect.any(String) } });
  });

  it('rejects a code older than five minutes with 401 INVALID_CODE', async () => {
    const code = await mintCode(app);
    t.clock.advance(5 * MINUTE + 1);
    const response = await postLogin(code);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('INVALID_CODE');
  });

  it('accepts an unminted code in wx.login’s format once, as the development user, and refuses its replay', async () => {
    const first = await postLogin('0a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P');
    const second = await postLogin('Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4');
    expect(first.statusCode).toBe(200);
    expect(second.json<LoginResponse>().user.id).toBe(first.json<LoginResponse>().user.id);
    const replay = await postLogin('0a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P');
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('INVALID_CODE');
  });

  it.each(['another-devtools-code', 'the code is a mock one.', 'x', '0a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5'])('refuses %j, which no wx.login hands out, with 401 INVALID_CODE', async (code) => {
    const response = await postLogin(code);
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('INVALID_CODE');
  });

  it('treats an unminted code and POST /dev/codes without a user as the same developer', async () => {
    const devtools = (await postLogin('0a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P')).json<LoginResponse>();
    expect((await login(app)).user.id).toBe(devtools.user.id);
  });

  it.each<[object, string]>([
    [{}, 'no code'],
    [{ code: '' }, 'an empty code'],
    [{ code: 42 }, 'a number'],
    [{ code: 'x'.repeat(129) }, 'an absurdly long code'],
    [{ code: 'abc', extra: true }, 'an unknown field'],
  ])('answers 400 BAD_REQUEST for a body with %s (%s)', async (payload) => {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('BAD_REQUEST');
  });

  it.each([
    [40029, 401, 'INVALID_CODE'],
    [40163, 401, 'INVALID_CODE'],
    [45011, 429, 'RATE_LIMITED'],
    [40226, 403, 'USER_BLOCKED'],
    [-1, 503, 'WECHAT_UNAVAILABLE'],
  ])('maps WeChat errcode %i to HTTP %i %s', async (errcode, status, code) => {
    await app.inject({ method: 'POST', url: '/dev/faults', payload: { errcode } });
    const response = await postLogin(await mintCode(app));
    expect(response.statusCode).toBe(status);
    expect(response.json().error.code).toBe(code);
    // The fault was used up: the next login works.
    expect((await postLogin(await mintCode(app))).statusCode).toBe(200);
  });

  it('fails as many exchanges as asked and then recovers', async () => {
    const fault = await app.inject({ method: 'POST', url: '/dev/faults', payload: { errcode: -1, times: 3 } });
    expect(fault.json()).toEqual({ pending: 3 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await postLogin(await mintCode(app))).statusCode);
    expect(statuses).toEqual([503, 503, 503, 200]);
  });

  it('does not consume the code when WeChat fails before looking at it', async () => {
    const code = await mintCode(app);
    await app.inject({ method: 'POST', url: '/dev/faults', payload: { errcode: -1 } });
    expect((await postLogin(code)).statusCode).toBe(503);
    expect((await postLogin(code)).statusCode).toBe(200);
  });

  it('limits logins per client address with 429 RATE_LIMITED and a Retry-After', async () => {
    await app.close();
    t = await testApp({ config: { loginRateLimit: 3, loginRateWindowMs: MINUTE } });
    app = t.app;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await postLogin(await mintCode(app))).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await postLogin('x');
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected; the next window is open again.
    expect((await app.inject({ method: 'POST', url: '/auth/login', payload: { code: await mintCode(app) }, remoteAddress: '10.0.0.2' })).statusCode).toBe(200);
    t.clock.advance(MINUTE);
    expect((await postLogin(await mintCode(app))).statusCode).toBe(200);
  });
});

describe('WeChat DevTools tourist mode', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.app.close());

  const loginWith = (code: string) => t.app.inject({ method: 'POST', url: '/auth/login', payload: { code } });

  it('logs in with the mock code every time, always as the one development user, also after a logout', async () => {
    const users = new Set<string>();
    const skeys = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const response = await loginWith(DEVTOOLS_MOCK_CODE);
      expect(response.statusCode).toBe(200);
      const { skey, user } = response.json<LoginResponse>();
      users.add(user.id);
      skeys.add(skey);
      expect((await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(skey) })).statusCode).toBe(200);
      expect((await t.app.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode).toBe(401);
    }
    expect(users.size).toBe(1);
    expect(skeys.size).toBe(3);
    // The same user a code from POST /dev/codes without a user logs in as.
    expect((await login(t.app)).user.id).toBe([...users][0]);
  });

  it('keeps the one-time rule for every other code: a replayed minted code is 401 INVALID_CODE between mock logins', async () => {
    const code = await mintCode(t.app, 'alice');
    expect((await loginWith(code)).statusCode).toBe(200);
    expect((await loginWith(DEVTOOLS_MOCK_CODE)).statusCode).toBe(200);
    const replay = await loginWith(code);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('INVALID_CODE');
    expect((await loginWith(DEVTOOLS_MOCK_CODE)).statusCode).toBe(200);
  });

  it('keeps the five-minute rule for minted codes', async () => {
    const code = await mintCode(t.app);
    t.clock.advance(5 * MINUTE + 1);
    expect((await loginWith(code)).json().error.code).toBe('INVALID_CODE');
    expect((await loginWith(DEVTOOLS_MOCK_CODE)).statusCode).toBe(200);
  });

  it('does not exist in real mode: WeChat itself answers the mock code', async () => {
    const seen: string[] = [];
    const real = await testApp({
      config: testConfig({}, { WX_APPID: 'wx0123456789abcdef', WX_SECRET: '0123456789abcdef0123456789abcdef' }),
      transport: async (url) => {
        seen.push(new URL(url).searchParams.get('js_code') ?? '');
        return { status: 200, body: '{"errcode":40029,"errmsg":"invalid code"}' };
      },
    });
    const response = await real.app.inject({ method: 'POST', url: '/auth/login', payload: { code: DEVTOOLS_MOCK_CODE } });
    expect(response.statusCode).toBe(401);
    expect(seen).toEqual([DEVTOOLS_MOCK_CODE]);
    await real.app.close();
  });
});

describe('login secrets', () => {
  it('stores only the sha256 of the skey, never the skey itself', async () => {
    const clock = fakeClock();
    const memory = createMemoryStores({ now: clock.now, sessionIdleMs: 60 * MINUTE });
    const created: SessionRecord[] = [];
    const stores: Stores = { ...memory, sessions: { ...memory.sessions, create: async (s) => (created.push(s), memory.sessions.create(s)) } };
    const { app } = await testApp({ clock, stores });
    const { skey } = await login(app);
    expect(created).toHaveLength(1);
    expect(created[0].skeyHash).toBe(createHash('sha256').update(skey).digest('hex'));
    expect(JSON.stringify(created)).not.toContain(skey);
    await app.close();
  });

  it('keeps session_key, secret, code and skey out of responses and log lines', async () => {
    const sink = logSink();
    const { app, config } = await testApp({ log: sink.stream });
    const code = await mintCode(app);
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { code } });
    const { skey } = response.json<LoginResponse>();
    await app.inject({ url: '/auth/session', headers: bearer(skey) });
    await app.inject({ method: 'POST', url: '/dev/user-data', payload: {} });
    await app.close();

    expect(response.body).not.toMatch(/session_?key|openid/i);
    const logs = sink.text();
    expect(logs).toContain('"path":"/auth/login"');
    expect(logs).toContain('"path":"/sns/jscode2session"');
    for (const secret of [skey, code, config.wechat.secret]) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/session_?key|authorization/i);
    // One line per request (login, its jscode2session call, session, user-data, dev code).
    expect(logs.split('\n').filter((line) => line.includes('"msg":"request"'))).toHaveLength(5);
  });

  it('keeps a bind’s password and ticket out of log lines at trace, errors and responses, and the password out of the store', async () => {
    const sink = logSink();
    const clock = fakeClock();
    const stores = createMemoryStores({ now: clock.now, sessionIdleMs: 60 * MINUTE });
    const password = 'Pa55-word-of-T1';
    await stores.accounts.create({ name: 'T1', displayName: '', roles: ['staff'], passwordHash: await hashPassword(password, { logN: 10, r: 8, p: 1 }) });
    const { app } = await testApp({ clock, stores, log: sink.stream, config: { logLevel: 'trace', accountMode: 'bind' } });
    const ticketResponse = await app.inject({ method: 'POST', url: '/auth/login', payload: { code: await mintCode(app, 'binder') } });
    const { bindTicket } = ticketResponse.json<BindRequiredResponse>();
    const bind = (body: Record<string, string>) => app.inject({ method: 'POST', url: '/auth/bind', payload: body });
    const answers = [
      await bind({ bindTicket, account: 'T1', password: `${password}-wrong` }),
      await bind({ bindTicket, account: 'nobody', password }),
      await bind({ bindTicket, account: 'T1', password, extra: password }),
      await bind({ bindTicket, account: 'T1', password }),
      await bind({ bindTicket, account: 'T1', password }),
    ];
    await app.close();

    expect(answers.map((answer) => answer.statusCode)).toEqual([401, 401, 400, 200, 401]);
    for (const answer of answers) expect(answer.body).not.toContain(password);
    for (const answer of answers) expect(answer.body).not.toContain(bindTicket);
    const logs = sink.text();
    expect(logs).toContain('"path":"/auth/bind"');
    expect(logs).not.toContain(password);
    expect(logs).not.toContain(bindTicket);
    expect(JSON.stringify(await stores.accounts.list())).not.toContain(password);
    expect((await stores.accounts.byName('T1'))!.passwordHash).not.toContain(password);
    // The reference server hashes at OWASP's parameters: each check costs a few hundred ms.
  }, 60_000);
});

describe('sessions', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp({ config: { sessionIdleMs: 30 * MINUTE, sessionLifetimeMs: 120 * MINUTE } });
  });
  afterEach(() => t.app.close());
  const check = (skey: string) => t.app.inject({ url: '/auth/session', headers: bearer(skey) });

  it('GET /auth/session tells who the skey belongs to and until when', async () => {
    const { skey, user, expiresAt, menus } = await login(t.app, 'alice');
    const response = await check(skey);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ user, expiresAt, menus });
  });

  it.each([
    ['no Authorization header', undefined],
    ['another scheme', 'Basic YWxhZGRpbjpvcGVuc2VzYW1l'],
    ['a malformed skey', 'Bearer not-a-skey'],
    ['an unknown skey', `Bearer ${'A'.repeat(43)}`],
    ['an absurd header', `Bearer ${'A'.repeat(8000)}`],
  ])('answers 401 SESSION_EXPIRED for %s', async (_case, authorization) => {
    const response = await t.app.inject({ url: '/auth/session', headers: authorization === undefined ? {} : { authorization } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'SESSION_EXPIRED', message: expect.any(String) } });
  });

  it.each([
    ['at once', (found: SessionWithUser | null) => found],
    ['through a promise', (found: SessionWithUser | null) => Promise.resolve(found)],
  ])('refuses a session that a store answering %s hands back under another skey hash, one character off', async (_case, answer) => {
    const appWith = async (alter: (found: SessionWithUser) => SessionWithUser) => {
      const clock = fakeClock();
      const stores = createMemoryStores({ now: clock.now, sessionIdleMs: 30 * MINUTE });
      const touch = (hash: string) => {
        const found = stores.sessions.touch(hash) as SessionWithUser | null;
        return answer(found && alter(found));
      };
      return (await testApp({ clock, stores: { ...stores, sessions: { ...stores.sessions, touch } } })).app;
    };
    const offByOne = (hash: string) => `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}`;
    const loose = await appWith((found) => ({ ...found, session: { ...found.session, skeyHash: offByOne(found.session.skeyHash) } }));
    expect((await loose.inject({ url: '/api/profile', headers: bearer((await login(loose)).skey) })).statusCode).toBe(401);
    await loose.close();
    const exact = await appWith((found) => found);
    expect((await exact.inject({ url: '/api/profile', headers: bearer((await login(exact)).skey) })).statusCode).toBe(200);
    await exact.close();
  });

  it('expires a session left idle for the idle timeout, and keeps a used one', async () => {
    const idle = await login(t.app);
    const used = await login(t.app);
    t.clock.advance(20 * MINUTE);
    expect((await check(used.skey)).statusCode).toBe(200);
    t.clock.advance(10 * MINUTE);
    expect((await check(idle.skey)).statusCode).toBe(401);
    expect((await check(used.skey)).statusCode).toBe(200);
  });

  it('expires a session at its absolute lifetime however much it is used', async () => {
    const { skey } = await login(t.app);
    for (let i = 0; i < 11; i++) {
      t.clock.advance(10 * MINUTE);
      expect((await check(skey)).statusCode).toBe(200);
    }
    t.clock.advance(10 * MINUTE);
    expect((await check(skey)).statusCode).toBe(401);
  });

  it('POST /auth/logout revokes only that skey', async () => {
    const phone = await login(t.app, 'alice');
    const tablet = await login(t.app, 'alice');
    const out = await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(phone.skey) });
    expect(out.statusCode).toBe(200);
    expect(out.json()).toEqual({ ok: true });
    expect((await check(phone.skey)).statusCode).toBe(401);
    expect((await check(tablet.skey)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(phone.skey) })).statusCode).toBe(401);
  });

  it('accepts a logout sent as wx.request sends it: JSON content type, empty body', async () => {
    const { skey } = await login(t.app);
    const out = await t.app.inject({ method: 'POST', url: '/auth/logout', headers: { ...bearer(skey), 'content-type': 'application/json' }, payload: '' });
    expect(out.statusCode).toBe(200);
  });

  it('keeps at most 10 live sessions per user: the 11th login revokes the oldest skey (401), the other 10 keep working', async () => {
    const other = await login(t.app, 'bob');
    const skeys: string[] = [];
    for (let i = 0; i < 11; i++) {
      t.clock.advance(1);
      skeys.push((await login(t.app, 'alice')).skey);
    }
    const statuses = [];
    for (const skey of skeys) statuses.push((await check(skey)).statusCode);
    expect(statuses).toEqual([401, ...Array<number>(10).fill(200)]);
    expect((await check(skeys[0])).json()).toEqual({ error: { code: 'SESSION_EXPIRED', message: expect.any(String) } });
    expect((await check(other.skey)).statusCode).toBe(200);
  });

  it('takes the cap from MAX_SESSIONS_PER_USER', async () => {
    const two = await testApp({ config: { maxSessionsPerUser: 2 } });
    try {
      const skeys: string[] = [];
      for (let i = 0; i < 3; i++) {
        two.clock.advance(1);
        skeys.push((await login(two.app, 'alice')).skey);
      }
      const statuses = [];
      for (const skey of skeys) statuses.push((await two.app.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode);
      expect(statuses).toEqual([401, 200, 200]);
    } finally {
      await two.app.close();
    }
  });

  it('POST /dev/sessions/expire ends one session by skey, or all of them', async () => {
    const a = await login(t.app, 'a');
    const b = await login(t.app, 'b');
    const c = await login(t.app, 'c');
    const one = await t.app.inject({ method: 'POST', url: '/dev/sessions/expire', payload: { skey: a.skey } });
    expect(one.json()).toEqual({ expired: 1 });
    expect((await check(a.skey)).statusCode).toBe(401);
    expect((await check(b.skey)).statusCode).toBe(200);
    const all = await t.app.inject({ method: 'POST', url: '/dev/sessions/expire', headers: { 'content-type': 'application/json' } });
    expect(all.json()).toEqual({ expired: 2 });
    expect((await check(c.skey)).statusCode).toBe(401);
  });
});

describe('newSkey', () => {
  it('hands out 256-bit URL-safe skeys that never repeat, across many refills of its random pool', () => {
    const skeys = Array.from({ length: 1000 }, () => newSkey());
    expect(skeys.every((skey) => /^[A-Za-z0-9_-]{43}$/.test(skey))).toBe(true);
    expect(new Set(skeys).size).toBe(1000);
    // Zeroed bytes once taken: a skey made of them would be all "A".
    expect(skeys.some((skey) => /^A+$/.test(skey))).toBe(false);
    // Roughly uniform bits: among 1000 × 256 bits, about half are set.
    const ones = skeys.reduce((n, skey) => n + [...Buffer.from(skey, 'base64url')].reduce((m, byte) => m + byte.toString(2).replaceAll('0', '').length, 0), 0);
    expect(ones / (1000 * 256)).toBeGreaterThan(0.48);
    expect(ones / (1000 * 256)).toBeLessThan(0.52);
  });
});
