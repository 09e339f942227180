/** The login core on its own: no HTTP, plain values in, the contract's shapes and typed errors out. */
import { createLoginService, createMemoryStores, OptionError } from '../../../server/core';
import { createSimulatedWeChat } from '../../../server/core/simulator';
import type { MenuItem } from '../../../typings/api';
import { apiFailure, fakeClock } from '../helpers';

const MINUTE = 60 * 1000;

function setup(options: { requirePhone?: boolean; loginRateLimit?: number; menus?: (roles: string[]) => MenuItem[] } = {}) {
  const clock = fakeClock();
  const wechat = createSimulatedWeChat({ now: clock.now });
  const stores = createMemoryStores({ now: clock.now, sessionIdleMs: 30 * MINUTE });
  const service = createLoginService({ wechat, stores, now: clock.now, sessionLifetimeMs: 60 * MINUTE, ...options });
  return { clock, wechat, stores, service };
}


describe('createLoginService', () => {
  it('logs in with a code, authenticates the bearer skey without a promise on memory stores, and logs out', async () => {
    const { wechat, service, stores } = setup();
    const login = await service.login(wechat.mintCode('core'), { address: '203.0.113.9' });
    expect(login).toMatchObject({ isNewUser: true, user: { nickname: '', phone: null, phoneRequired: false } });
    expect(login.skey).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const authenticated = service.authenticate(`Bearer ${login.skey}`);
    expect(authenticated).not.toBeInstanceOf(Promise);
    expect((authenticated as Exclude<typeof authenticated, Promise<unknown>>).user.openid).toBe(wechat.openidFor('core'));

    expect(await service.logout(`Bearer ${login.skey}`)).toEqual({ ok: true });
    expect(await stores.sessions.deleteAll()).toBe(0);
    expect((await apiFailure(() => service.session(`Bearer ${login.skey}`))).code).toBe('SESSION_EXPIRED');
  });

  it('answers login and session with the menus its menus option gives the user’s roles, and none by default (a host’s menus are its own)', async () => {
    const seen: string[][] = [];
    const mine = setup({ menus: (roles) => (seen.push(roles), [{ key: 'home', title: '工作台', path: '/pages/work/work', icon: 'apps-o' }]) });
    const login = await mine.service.login(mine.wechat.mintCode('menus'));
    const session = await mine.service.session(`Bearer ${login.skey}`);

    expect(login.menus).toEqual([{ key: 'home', title: '工作台', path: '/pages/work/work', icon: 'apps-o' }]);
    expect(session.menus).toEqual(login.menus);
    expect(seen).toEqual([['member'], ['member']]);

    const host = setup();
    expect((await host.service.login(host.wechat.mintCode('menus'))).menus).toEqual([]);
  });

  it('finds the same user on a second login and gives each login its own session', async () => {
    const { wechat, service } = setup();
    const first = await service.login(wechat.mintCode('twice'));
    const second = await service.login(wechat.mintCode('twice'));
    expect(second.isNewUser).toBe(false);
    expect(second.user.id).toBe(first.user.id);
    expect(second.skey).not.toBe(first.skey);
    await service.logout(`Bearer ${first.skey}`);
    expect((await service.session(`Bearer ${second.skey}`)).user.id).toBe(first.user.id);
  });

  it.each([
    [undefined, 'SESSION_EXPIRED', 401],
    ['Basic abc', 'SESSION_EXPIRED', 401],
    [`Bearer ${'A'.repeat(43)}`, 'SESSION_EXPIRED', 401],
  ])('refuses the Authorization header %p with %s (%d)', async (header, code, status) => {
    const { service } = setup();
    const error = await apiFailure(() => service.authenticate(header));
    expect([error.code, error.status]).toEqual([code, status]);
  });

  it('fails a used code with INVALID_CODE and a blocked user with USER_BLOCKED, as typed errors with their status', async () => {
    const { wechat, service } = setup();
    const code = wechat.mintCode();
    await service.login(code);
    const reused = await apiFailure(() => service.login(code));
    expect([reused.code, reused.status]).toEqual(['INVALID_CODE', 401]);
    wechat.injectFaults({ errcode: 40226, delayMs: 0 }, 1);
    const blocked = await apiFailure(() => service.login(wechat.mintCode()));
    expect([blocked.code, blocked.status]).toEqual(['USER_BLOCKED', 403]);
  });

  it('limits logins per client address, an IPv6 /64 counted as one, with a Retry-After', async () => {
    const { wechat, service } = setup({ loginRateLimit: 2 });
    await service.login(wechat.mintCode(), { address: '2001:db8:1:2::1' });
    await service.login(wechat.mintCode(), { address: '2001:db8:1:2::ffff' });
    const limited = await apiFailure(() => service.login(wechat.mintCode(), { address: '2001:db8:1:2:3:4:5:6' }));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await expect(service.login(wechat.mintCode(), { address: '2001:db8:1:3::1' })).resolves.toMatchObject({ isNewUser: false });
  });

  it('verifies and decrypts WeChat user data with the session’s session_key, filling in only what the user has not set', async () => {
    const { wechat, service } = setup();
    const { skey } = await service.login(wechat.mintCode('alice'));
    const { user } = await service.verifyUserInfo(`Bearer ${skey}`, wechat.userData('alice')!);
    expect(user.nickname).toBe('alice');
    const tampered = { ...wechat.userData('alice')!, rawData: '{"nickName":"mallory"}' };
    expect((await apiFailure(() => service.verifyUserInfo(`Bearer ${skey}`, tampered))).code).toBe('INVALID_USER_DATA');
  });

  it('refuses user data older than five minutes as a replay', async () => {
    const { clock, wechat, service } = setup();
    const { skey } = await service.login(wechat.mintCode('late'));
    const data = wechat.userData('late')!;
    clock.advance(5 * MINUTE + 1000);
    expect((await apiFailure(() => service.verifyUserInfo(`Bearer ${skey}`, data))).code).toBe('INVALID_USER_DATA');
  });

  it('binds a phone, refuses the same number to a second user, and lets requirePhone gate business routes until then', async () => {
    const { wechat, service } = setup({ requirePhone: true });
    const a = await service.login(wechat.mintCode('a'));
    const b = await service.login(wechat.mintCode('b'));
    expect((await apiFailure(() => service.authenticateComplete(`Bearer ${a.skey}`))).code).toBe('PHONE_REQUIRED');
    const bound = await service.bindPhone(`Bearer ${a.skey}`, wechat.mintPhoneCode('a', '13800138000'));
    expect(bound.user).toMatchObject({ phone: '138****8000', phoneRequired: false });
    expect(service.authenticateComplete(`Bearer ${a.skey}`)).toMatchObject({ user: { phone: { countryCode: '86', number: '13800138000' } } });
    const taken = await apiFailure(() => service.bindPhone(`Bearer ${b.skey}`, wechat.mintPhoneCode('b', '13800138000')));
    expect([taken.code, taken.status]).toEqual(['PHONE_IN_USE', 409]);
  });

  it('ends sessions at their lifetime on the injected clock', async () => {
    const { clock, wechat, service } = setup();
    const { skey, expiresAt } = await service.login(wechat.mintCode());
    expect(expiresAt).toBe(clock.now() + 60 * MINUTE);
    for (let i = 0; i < 3; i++) {
      clock.advance(20 * MINUTE - 1);
      expect(service.authenticate(`Bearer ${skey}`)).toBeTruthy();
    }
    clock.advance(10);
    expect((await apiFailure(() => service.authenticate(`Bearer ${skey}`))).code).toBe('SESSION_EXPIRED');
  });

  describe('options', () => {
    it.each([
      [undefined, 'options'],
      [{}, 'wechat'],
      [{ wechat: { appId: 'wx0123456789abcdef', secret: '0123456789abcdef0123456789abcdef', timeoutMs: 5 } }, 'wechat.timeoutMs'],
      [{ wechat: { appId: 'wx0123456789abcdef', secret: '0123456789abcdef0123456789abcdef', apiBase: 'api.weixin.qq.com' } }, 'wechat.apiBase'],
      [{ wechat: { appId: 'wx0123456789abcdef', client: {} } }, 'wechat.client'],
      [{ wechat: createSimulatedWeChat(), now: 42 }, 'now'],
      [{ wechat: createSimulatedWeChat(), logger: {} }, 'logger'],
      [{ wechat: createSimulatedWeChat(), sessionLifetimeMs: 60 * MINUTE, sessionIdleMs: 61 * MINUTE }, 'sessionIdleMs'],
      [{ wechat: createSimulatedWeChat(), stores: createMemoryStores({ now: Date.now, sessionIdleMs: MINUTE }), sessionIdleMs: MINUTE }, 'sessionIdleMs'],
      [{ wechat: createSimulatedWeChat(), redisPrefix: 'x:' }, 'redisPrefix'],
      [{ wechat: { appId: 'wx0123456789abcdef', client: { code2Session() {}, getPhoneNumber() {} } }, stores: { defineCommand() {}, evalsha() {} } }, 'sealKey'],
      // Redis keeps no users: with a client, where they live must be said.
      [{ wechat: createSimulatedWeChat(), stores: { defineCommand() {}, evalsha() {} } }, 'userDatabase'],
      [{ wechat: createSimulatedWeChat(), userDatabase: createMemoryStores({ now: Date.now, sessionIdleMs: MINUTE }) }, 'userDatabase'],
    ])('refuses %p with an OptionError naming %s', (options, option) => {
      let thrown: unknown;
      try {
        createLoginService(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(OptionError);
      expect((thrown as OptionError).option).toBe(option);
      expect((thrown as OptionError).message).toMatch(new RegExp(`^wx-login-server: option ${option.replace('.', '\\.')} `));
    });

    it('takes the real WeChat as { appId, secret } without calling it', () => {
      expect(() => createLoginService({ wechat: { appId: 'wx0123456789abcdef', secret: '0123456789abcdef0123456789abcdef' } })).not.toThrow();
    });
  });
});
