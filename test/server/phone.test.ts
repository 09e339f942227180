/**
 * POST /auth/phone through the whole server and the simulated WeChat (stable_token and
 * getuserphonenumber over the client's transport), counting the calls the server makes to WeChat.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../server/config';
import { ApiError } from '../../server/errors';
import { accessTokenCacheName } from '../../server/wechat/client';
import type { Deadline, Transport } from '../../server/wechat/http';
import type { DevFaultRequest, PhoneBindResponse, User } from '../../typings/api';
import { bearer, injectInto, login, logSink, testApp, testConfig, until, type TestApp } from './helpers';

/** The server's calls to WeChat, by API path. */
function wechatCalls() {
  const paths: string[] = [];
  let target: FastifyInstance | undefined;
  /** Rewrites getuserphonenumber's answers when set: what a WeChat answering oddly would send. */
  let rewritePhoneAnswer: ((body: Record<string, unknown>) => Record<string, unknown>) | undefined;
  const transport: Transport = async (url, _deadline, request) => {
    const { pathname } = new URL(url);
    paths.push(pathname);
    const answer = await injectInto(target!, url, request);
    if (!rewritePhoneAnswer || !pathname.endsWith('/getuserphonenumber')) return answer;
    return { ...answer, body: JSON.stringify(rewritePhoneAnswer(JSON.parse(answer.body) as Record<string, unknown>)) };
  };
  return {
    transport,
    attach: (app: FastifyInstance) => void (target = app),
    rewritePhoneAnswers: (rewrite: typeof rewritePhoneAnswer) => void (rewritePhoneAnswer = rewrite),
    count: (path: 'stable_token' | 'getuserphonenumber') => paths.filter((p) => p.endsWith(`/${path}`)).length,
  };
}

describe('POST /auth/phone', () => {
  let t: TestApp;
  let calls: ReturnType<typeof wechatCalls>;
  let log: ReturnType<typeof logSink>;
  /** Every response body, to show what never leaves the server. */
  const bodies: string[] = [];

  const setup = async (config: Partial<Config> = {}) => {
    calls = wechatCalls();
    log = logSink();
    t = await testApp({ config: { loginRateLimit: 10_000, ...config }, transport: calls.transport, log: log.stream });
    calls.attach(t.app);
  };
  beforeEach(() => setup());
  afterEach(() => t.app.close());

  const phoneCode = async (user?: string, phoneNumber?: string) =>
    (await t.app.inject({ method: 'POST', url: '/dev/phone-codes', payload: { ...(user ? { user } : {}), ...(phoneNumber ? { phoneNumber } : {}) } })).json<{ code: string }>().code;
  const bind = async (skey: string, code: string) => {
    const response = await t.app.inject({ method: 'POST', url: '/auth/phone', headers: bearer(skey), payload: { code } });
    bodies.push(response.body);
    return response;
  };
  const fault = (request: DevFaultRequest) => t.app.inject({ method: 'POST', url: '/dev/faults', payload: request });

  it('binds the number, answers the user with it masked, and the profile shows it from then on', async () => {
    const { skey, user } = await login(t.app, 'alice');
    expect(user).toMatchObject({ phone: null, phoneRequired: false });
    const response = await bind(skey, await phoneCode('alice', '13800138000'));
    expect(response.statusCode).toBe(200);
    expect(response.json<PhoneBindResponse>().user).toEqual({ ...user, phone: '138****8000' });
    const profile = await t.app.inject({ url: '/api/profile', headers: bearer(skey) });
    expect(profile.json<{ user: User }>().user.phone).toBe('138****8000');
    const session = await t.app.inject({ url: '/auth/session', headers: bearer(skey) });
    expect(session.json<{ user: User }>().user.phone).toBe('138****8000');
    expect((await t.stores.users.get(user.id))?.phone).toEqual({ countryCode: '86', number: '13800138000' });
    expect([response.body, profile.body, session.body].join()).not.toContain('13800138000');
  });

  it('shows a number from outside mainland China with its country code', async () => {
    const { skey } = await login(t.app, 'hk');
    const response = await bind(skey, await phoneCode('hk', '+852 51234567'));
    expect(response.json<PhoneBindResponse>().user.phone).toBe('+852 51****67');
  });

  it('binds the user’s own simulated number when the code names none', async () => {
    const { skey } = await login(t.app, 'bob');
    const response = await bind(skey, await phoneCode('bob'));
    expect(response.json<PhoneBindResponse>().user.phone).toMatch(/^138\*{4}\d{4}$/);
  });

  it('refuses a request without a session with 401 before asking WeChat anything', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/auth/phone', payload: { code: await phoneCode() } });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'SESSION_EXPIRED', message: expect.any(String) } });
    expect(calls.count('stable_token') + calls.count('getuserphonenumber')).toBe(0);
  });

  it.each([
    ['no code', {}],
    ['an empty code', { code: '' }],
    ['a code that is not a string', { code: 42 }],
    ['an absurdly long code', { code: 'a'.repeat(300) }],
    ['an unknown field', { code: 'abc', phone: '13800138000' }],
  ])('answers 400 BAD_REQUEST for %s, without asking WeChat', async (_case, payload) => {
    const { skey } = await login(t.app);
    const response = await t.app.inject({ method: 'POST', url: '/auth/phone', headers: bearer(skey), payload });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('BAD_REQUEST');
    expect(calls.count('getuserphonenumber')).toBe(0);
  });

  it('answers 400 INVALID_PHONE_CODE (not 401, which would read as an expired session) for an unknown, a used and an expired code', async () => {
    const { skey } = await login(t.app, 'carol');
    expect((await bind(skey, 'f'.repeat(64))).json().error.code).toBe('INVALID_PHONE_CODE');

    const code = await phoneCode('carol');
    expect((await bind(skey, code)).statusCode).toBe(200);
    const replay = await bind(skey, code);
    expect(replay.statusCode).toBe(400);
    expect(replay.json().error.code).toBe('INVALID_PHONE_CODE');

    const late = await phoneCode('carol');
    t.clock.advance(5 * 60_000 + 1);
    expect((await bind(skey, late)).json()).toEqual({ error: { code: 'INVALID_PHONE_CODE', message: expect.any(String) } });
    // The session is untouched by any of these.
    expect((await t.app.inject({ url: '/auth/session', headers: bearer(skey) })).statusCode).toBe(200);
  });

  it('answers 409 PHONE_IN_USE for a number bound to another user, and leaves that user’s phone unset', async () => {
    const first = await login(t.app, 'dave');
    const second = await login(t.app, 'erin');
    expect((await bind(first.skey, await phoneCode('dave', '13900139000'))).statusCode).toBe(200);
    const response = await bind(second.skey, await phoneCode('erin', '13900139000'));
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('PHONE_IN_USE');
    expect((await t.app.inject({ url: '/api/profile', headers: bearer(second.skey) })).json<{ user: User }>().user.phone).toBeNull();
  });

  it('lets a user bind the same number again, or change it', async () => {
    const { skey } = await login(t.app, 'fay');
    expect((await bind(skey, await phoneCode('fay', '13700137000'))).statusCode).toBe(200);
    expect((await bind(skey, await phoneCode('fay', '13700137000'))).statusCode).toBe(200);
    expect((await bind(skey, await phoneCode('fay', '13600136000'))).json<PhoneBindResponse>().user.phone).toBe('136****6000');
  });

  it.each([
    [{ errcode: -1 }, 503, 'WECHAT_UNAVAILABLE'],
    [{ errcode: 45011 }, 429, 'RATE_LIMITED'],
    [{ errcode: 40013 }, 502, 'WECHAT_UNAVAILABLE'],
  ] as const)('answers WeChat’s phone number failure %j as %i %s, and the code still works afterwards', async (failure, status, code) => {
    const { skey } = await login(t.app, 'gus');
    const phone = await phoneCode('gus');
    await fault({ api: 'getuserphonenumber', ...failure });
    const response = await bind(skey, phone);
    expect(response.statusCode).toBe(status);
    expect(response.json()).toEqual({ error: { code, message: expect.any(String) } });
    expect(response.json().error.message).not.toMatch(/errcode|rid/);
    expect((await bind(skey, phone)).statusCode).toBe(200);
  });

  it('limits binds per user (429 with Retry-After) before asking WeChat, and not other users', async () => {
    await t.app.close();
    await setup({ phoneBindLimit: 2, phoneBindWindowMs: 60_000 });
    const { skey } = await login(t.app, 'pat');
    expect((await bind(skey, await phoneCode('pat'))).statusCode).toBe(200);
    expect((await bind(skey, 'f'.repeat(64))).statusCode).toBe(400);
    const limited = await bind(skey, await phoneCode('pat'));
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(calls.count('getuserphonenumber')).toBe(2);
    const other = await login(t.app, 'quinn');
    expect((await bind(other.skey, await phoneCode('quinn'))).statusCode).toBe(200);
    t.clock.advance(60_000);
    expect((await bind(skey, await phoneCode('pat'))).statusCode).toBe(200);
  });

  it('answers 504 WECHAT_TIMEOUT when WeChat does not answer in time', async () => {
    await t.app.close();
    await setup({ wechat: { ...testConfig().wechat, timeoutMs: 100 } });
    const { skey } = await login(t.app, 'hal');
    await fault({ api: 'getuserphonenumber', delayMs: 1000 });
    const response = await bind(skey, await phoneCode('hal'));
    expect(response.statusCode).toBe(504);
    expect(response.json().error.code).toBe('WECHAT_TIMEOUT');
  });

  it('answers 503 when WeChat cannot give a token, caches nothing, and fetches once on the next bind', async () => {
    const { skey } = await login(t.app, 'ivy');
    await fault({ api: 'stable_token', errcode: -1 });
    const down = await bind(skey, await phoneCode('ivy'));
    expect(down.statusCode).toBe(503);
    expect(down.json().error.code).toBe('WECHAT_UNAVAILABLE');
    expect(calls.count('getuserphonenumber')).toBe(0);
    expect((await bind(skey, await phoneCode('ivy'))).statusCode).toBe(200);
    expect(calls.count('stable_token')).toBe(2);
  });

  it('answers 502 for a server misconfigured at WeChat (40125), logs the errcode for the operator, and neither the secret nor the token', async () => {
    const { skey } = await login(t.app, 'jay');
    await fault({ api: 'stable_token', errcode: 40125 });
    const response = await bind(skey, await phoneCode('jay'));
    expect(response.statusCode).toBe(502);
    expect(response.body).not.toContain('40125');
    await log.written();
    expect(log.text()).toContain('stable_token errcode 40125');
    expect(log.text()).not.toContain(t.config.wechat.secret);
  });

  it.each([
    ['a phone number watermarked for another app', (body: Record<string, unknown>) => ({ ...body, phone_info: { ...(body.phone_info as object), watermark: { appid: 'wx-another-app', timestamp: 1 } } })],
    ['without phone_info', ({ phone_info: _, ...body }: Record<string, unknown>) => body],
    ['a phone number of an unexpected shape', (body: Record<string, unknown>) => ({ ...body, phone_info: { ...(body.phone_info as object), purePhoneNumber: '138-0013' } })],
  ])('answers 502 WECHAT_UNAVAILABLE when WeChat answered %s, binds nothing, and tells the operator alone what was wrong', async (what, rewrite) => {
    const { skey } = await login(t.app, 'jay');
    calls.rewritePhoneAnswers(rewrite);
    const response = await bind(skey, await phoneCode('jay'));

    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: { code: 'WECHAT_UNAVAILABLE' } });
    expect(response.body).not.toContain(what);
    const profile = await t.app.inject({ method: 'GET', url: '/api/profile', headers: bearer(skey) });
    expect(profile.json<{ user: User }>().user.phone).toBeNull();
    await log.written();
    expect(log.text()).toContain(`getuserphonenumber answered ${what}`);
  });

  describe('the access token, counted', () => {
    it('costs one token fetch for 50 concurrent binds, and none for the binds after', async () => {
      const sessions = await Promise.all(Array.from({ length: 50 }, (_, i) => login(t.app, `crowd-${i}`)));
      const codes = await Promise.all(sessions.map((_, i) => phoneCode(`crowd-${i}`, `1370000${String(i).padStart(4, '0')}`)));
      const responses = await Promise.all(sessions.map(({ skey }, i) => bind(skey, codes[i])));
      expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
      expect(calls.count('stable_token')).toBe(1);
      expect(calls.count('getuserphonenumber')).toBe(50);

      await bind(sessions[0].skey, await phoneCode('crowd-0', '13700000000'));
      expect(calls.count('stable_token')).toBe(1);
    });

    it('renews the token ahead of its expiry with one fetch, and the renewed token works', async () => {
      const { skey } = await login(t.app, 'kim');
      await bind(skey, await phoneCode('kim'));
      t.clock.advance(2 * 3600_000 - 4 * 60_000);
      const responses = await Promise.all(Array.from({ length: 5 }, async () => bind(skey, await phoneCode('kim'))));
      expect(responses.map((r) => r.statusCode)).toEqual(Array(5).fill(200));
      expect(calls.count('stable_token')).toBe(2);
      // Past the old token's end only the renewed one is valid, and it serves without a fetch.
      t.clock.advance(5 * 60_000);
      expect((await bind(skey, await phoneCode('kim'))).statusCode).toBe(200);
      expect(calls.count('stable_token')).toBe(2);
    });

    it('renews once and retries once when another system force-refreshed the token (40001), for 50 concurrent binds', async () => {
      const sessions = await Promise.all(Array.from({ length: 50 }, (_, i) => login(t.app, `crowd-${i}`)));
      await bind(sessions[0].skey, await phoneCode('crowd-0'));
      // Someone else with this AppID's secret used force-refresh mode: our cached token is dead.
      const forced = await t.app.inject({
        method: 'POST',
        url: '/cgi-bin/stable_token',
        payload: { grant_type: 'client_credential', appid: t.config.wechat.appId, secret: t.config.wechat.secret, force_refresh: true },
      });
      expect(forced.json().access_token).toEqual(expect.any(String));

      const codes = await Promise.all(sessions.map((_, i) => phoneCode(`crowd-${i}`)));
      const responses = await Promise.all(sessions.map(({ skey }, i) => bind(skey, codes[i])));
      expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(200));
      expect(calls.count('stable_token')).toBe(2);
      // The first bind, then each of the 50 twice: rejected, then retried.
      expect(calls.count('getuserphonenumber')).toBe(1 + 100);
    });

    it('stops after one renewal and one retry when WeChat keeps rejecting the token: 503, no loop', async () => {
      const { skey } = await login(t.app, 'lee');
      await fault({ api: 'getuserphonenumber', errcode: 40001, times: 2 });
      const response = await bind(skey, await phoneCode('lee'));
      expect(response.statusCode).toBe(503);
      expect(response.json().error.code).toBe('WECHAT_UNAVAILABLE');
      expect(calls.count('stable_token')).toBe(2);
      expect(calls.count('getuserphonenumber')).toBe(2);
      // The faults are spent: the next bind works with the cached token, no further fetch.
      expect((await bind(skey, await phoneCode('lee'))).statusCode).toBe(200);
      expect(calls.count('stable_token')).toBe(2);
    });

    it('logs why an early renewal failed, WeChat’s errcode included, and binds on with the current token', async () => {
      const { skey } = await login(t.app, 'nia');
      await bind(skey, await phoneCode('nia'));
      t.clock.advance(2 * 3600_000 - 4 * 60_000);
      await fault({ api: 'stable_token', errcode: 40164 });
      expect((await bind(skey, await phoneCode('nia'))).statusCode).toBe(200);
      expect(calls.count('stable_token')).toBe(2);
      expect(calls.count('getuserphonenumber')).toBe(2);
      expect(await log.warnings()).toEqual([
        expect.objectContaining({ msg: 'renewing the WeChat access token failed; the current one serves until it expires', code: 'WECHAT_UNAVAILABLE', cause: 'stable_token errcode 40164' }),
      ]);
      expect(log.text()).not.toContain(t.config.wechat.secret);
    });

    it('binds with a fetched token the credential cache failed to keep: one token fetch, and a warn line saying why', async () => {
      const { skey } = await login(t.app, 'oli');
      const storeDown = Object.assign(new ApiError('STORE_UNAVAILABLE', 'storage is unavailable, try again later'), { cause: new Error('Command timed out') });
      jest.spyOn(t.stores.credentials, 'set').mockRejectedValueOnce(storeDown);
      expect((await bind(skey, await phoneCode('oli'))).statusCode).toBe(200);
      expect(calls.count('stable_token')).toBe(1);
      expect(calls.count('getuserphonenumber')).toBe(1);
      expect(await log.warnings()).toEqual([
        expect.objectContaining({ msg: 'the credential cache failed to keep the fetched WeChat access token; it is used all the same', code: 'STORE_UNAVAILABLE', cause: 'Command timed out' }),
      ]);
    });

    it.each([42001, 40014])('renews and retries once for errcode %i as for 40001', async (errcode) => {
      const { skey } = await login(t.app, 'max');
      await fault({ api: 'getuserphonenumber', errcode: errcode as DevFaultRequest['errcode'] });
      expect((await bind(skey, await phoneCode('max'))).statusCode).toBe(200);
      expect(calls.count('stable_token')).toBe(2);
      expect(calls.count('getuserphonenumber')).toBe(2);
    });
  });

  it('never answers with the full number, the openid, the unionid or the access token', async () => {
    const code = (await t.app.inject({ method: 'POST', url: '/dev/codes', payload: { user: 'nia', unionid: 'oUnion-nia-00000000000' } })).json<{ code: string }>().code;
    const loginResponse = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { code } });
    bodies.push(loginResponse.body);
    const { skey } = loginResponse.json<{ skey: string }>();
    await bind(skey, await phoneCode('nia', '13512345678'));
    const user = (await t.stores.users.get(loginResponse.json<{ user: User }>().user.id))!;
    expect(user.unionid).toBe('oUnion-nia-00000000000');
    const token = (await t.stores.credentials.get(accessTokenCacheName(t.config.wechat.appId, t.config.wechat.secret)))!.value;
    const all = bodies.join('\n');
    for (const secret of ['13512345678', user.openid, 'oUnion-nia-00000000000', token]) expect(all).not.toContain(secret);
    await log.written();
    expect(log.text()).toContain('"path":"/auth/phone"');
    expect(log.text()).not.toContain(token);
  });
});

/**
 * One bind, one deadline (PHONE_BIND_TIMEOUT_MS): every WeChat call of it fits inside, so that the
 * mini-program, whose requests time out after 10 s, reads the answer instead of a timeout of its own.
 */
describe('POST /auth/phone within its deadline', () => {
  const DEADLINE_MS = 300;
  /**
   * Each WeChat call's own timeout: far past the deadline, so that an answer before it shows the
   * deadline cut the bind, however late a loaded machine runs the timers.
   */
  const CALL_TIMEOUT_MS = 15_000;
  const TEST_TIMEOUT_MS = 30_000;
  let t: TestApp;
  let paths: string[];
  afterEach(() => t.app.close());

  /** The app with a WeChat whose answers `answer` may hold or replace (default: the simulator's). */
  const setup = async (answer: (path: string, deadline: Deadline, forward: () => Promise<{ status: number; body: string }>) => Promise<{ status: number; body: string }>) => {
    paths = [];
    const transport: Transport = (url, deadline, request) => {
      const path = new URL(url).pathname;
      paths.push(path);
      return answer(path, deadline, () => injectInto(t.app, url, request));
    };
    t = await testApp({ config: { phoneBindTimeoutMs: DEADLINE_MS, wechat: { ...testConfig().wechat, timeoutMs: CALL_TIMEOUT_MS } }, transport });
  };
  const count = (api: string) => paths.filter((path) => path.endsWith(`/${api}`)).length;
  const phoneCode = async (user: string) => (await t.app.inject({ method: 'POST', url: '/dev/phone-codes', payload: { user } })).json<{ code: string }>().code;
  const bind = (skey: string, code: string) => t.app.inject({ method: 'POST', url: '/auth/phone', headers: bearer(skey), payload: { code } });
  /** A call WeChat never answers: it ends only when the server aborts it. */
  const hang = (deadline: Deadline, aborted: () => void) => new Promise<never>((_, reject) => deadline.onExpiry(() => (aborted(), reject(new Error('aborted')))));

  it('answers 504 WECHAT_TIMEOUT at the deadline while the token renewal hangs, and never spends the code once the token comes', async () => {
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await setup(async (path, _deadline, forward) => {
      if (path.endsWith('/stable_token')) await released;
      return forward();
    });
    const { skey } = await login(t.app, 'olga');
    const started = Date.now();
    const response = await bind(skey, await phoneCode('olga'));
    expect(response.statusCode).toBe(504);
    expect(response.json()).toEqual({ error: { code: 'WECHAT_TIMEOUT', message: `WeChat did not complete the phone number exchange within ${DEADLINE_MS} ms` } });
    // The bind's deadline answered, not the token call's own timeout.
    expect(Date.now() - started).toBeLessThan(CALL_TIMEOUT_MS);

    // The renewal goes on and stores its token, for whoever asks next; the timed-out bind does not use it.
    release();
    await until(async () => (await t.stores.credentials.get(accessTokenCacheName(t.config.wechat.appId, t.config.wechat.secret))) !== null, 'the renewed token to be stored');
    expect((await bind(skey, await phoneCode('olga'))).statusCode).toBe(200);
    expect(count('stable_token')).toBe(1);
    expect(count('getuserphonenumber')).toBe(1);
  }, TEST_TIMEOUT_MS);

  it('gives the retry after a rejected token only what is left of the deadline: 504, and the hung call is aborted', async () => {
    let aborted = 0;
    await setup(async (path, deadline, forward) => {
      if (!path.endsWith('/getuserphonenumber')) return forward();
      if (count('getuserphonenumber') === 1) return { status: 200, body: '{"errcode":40001,"errmsg":"invalid credential"}' };
      return hang(deadline, () => aborted++);
    });
    const { skey } = await login(t.app, 'pia');
    const started = Date.now();
    const response = await bind(skey, await phoneCode('pia'));
    expect(response.statusCode).toBe(504);
    expect(response.json().error.code).toBe('WECHAT_TIMEOUT');
    expect(count('stable_token')).toBe(2);
    expect(count('getuserphonenumber')).toBe(2);
    // Cut at the bind's deadline, not left open for the call's own timeout.
    await until(() => aborted === 1, 'the hung call to be aborted');
    expect(Date.now() - started).toBeLessThan(CALL_TIMEOUT_MS);
  }, TEST_TIMEOUT_MS);
});
