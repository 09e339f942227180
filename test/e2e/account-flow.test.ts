import type { FastifyInstance } from 'fastify';
import { createAuth, isAuthError, type AuthClient, type BindTicket } from '../../miniprogram/auth/index';
import { deleteAccount, deleteErrorMessage, exportAccount } from '../../miniprogram/services/account';
import { toExportView } from '../../miniprogram/services/account-export';
import { isSessionExpiredAnswer } from '../../miniprogram/utils/session-expiry';
import { buildApp } from '../../server/app';
import { hashPassword } from '../../server/passwords';
import { createMemoryStores } from '../../server/stores/memory';
import { createNodeWx, type NodeWx } from '../../tools/node-wx';
import type { User } from '../../typings/api';
import { testConfig } from '../server/helpers';

/**
 * 我的 → 账号与安全, end to end: the mini-program's own account services and auth service, created
 * as app.ts creates it, against the real server over HTTP. The deletion's code comes from the
 * global `wx.login`, as on a phone.
 */
describe('export and deletion of the account, end to end', () => {
  let app: FastifyInstance;
  let base: string;
  let wx: NodeWx;
  let auth: AuthClient<User>;
  const globals = globalThis as unknown as { wx?: unknown };

  beforeAll(async () => {
    const config = testConfig();
    const stores = createMemoryStores({ now: Date.now, sessionIdleMs: config.sessionIdleMs });
    app = await buildApp({ config, stores, log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  beforeEach(() => {
    wx = createNodeWx({ server: base, user: `account-e2e-${Math.random().toString(36).slice(2)}` });
    globals.wx = wx;
    auth = createAuth<User>({ baseURL: base, wx, timeout: 5000, isSessionExpired: isSessionExpiredAnswer });
  });
  afterAll(async () => {
    delete globals.wx;
    await app.close();
  });

  it('exports what the server holds, which the page reads: the WeChat identity, this session as the current one', async () => {
    const session = await auth.login();

    const data = await exportAccount(auth);
    const view = toExportView(data);

    expect(data.user.id).toBe(session.user.id);
    expect(data.identities.map((i) => i.kind)).toContain('wechat');
    expect(data.sessions.filter((s) => s.current)).toHaveLength(1);
    expect(JSON.stringify(data)).not.toContain(session.skey);
    expect(view.identities.map((row) => row.label)).toContain('微信（OpenID）');
    expect(view.sessions.map((row) => row.label)).toEqual(['本设备']);
  });

  it('another WeChat user’s code is refused as INVALID_CODE, said as 请重试, costs no renewal login, and deletes nothing', async () => {
    const session = await auth.login();
    const logins = wx.calls.login;
    const self = wx.user;
    wx.user = 'someone-else';

    const error = await deleteAccount(auth).then(
      () => null,
      (e: unknown) => e,
    );
    wx.user = self;

    expect(deleteErrorMessage(error)).toBe('微信身份验证未通过，请重试');
    expect(wx.calls.login).toBe(logins + 1);
    expect(auth.getSession()!.skey).toBe(session.skey);
    await expect(exportAccount(auth)).resolves.toMatchObject({ user: { id: session.user.id } });
  });

  it('deletes the account with a fresh code of the same user, logs out here, and the old skey is refused', async () => {
    const session = await auth.login();

    await expect(deleteAccount(auth)).resolves.toEqual({ deleted: true, kept: 'nothing' });

    expect(auth.getSession()).toBeNull();
    const stale = await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${session.skey}` } });
    expect(stale.status).toBe(401);
    // The same WeChat user logging in again starts a new, empty account.
    const again = await auth.login();
    expect(again.user.id).not.toBe(session.user.id);
    expect(again.user.nickname).toBe('');
  });

  describe('in bind mode', () => {
    let bindApp: FastifyInstance;
    let bindBase: string;
    let bindStores: ReturnType<typeof createMemoryStores>;

    beforeAll(async () => {
      const config = { ...testConfig(), accountMode: 'bind' as const };
      bindStores = createMemoryStores({ now: Date.now, sessionIdleMs: config.sessionIdleMs });
      bindApp = await buildApp({ config, stores: bindStores, log: false });
      bindBase = await bindApp.listen({ host: '127.0.0.1', port: 0 });
      await bindStores.accounts.create({ name: 'A1001', displayName: '王建国', roles: ['staff'], passwordHash: await hashPassword('Pa55word', { logN: 12, r: 8, p: 1 }) });
    });
    afterAll(() => bindApp.close());

    /** The ticket of a login that asks for a bind (a login that answers a session fails the test). */
    const bindTicket = (): Promise<BindTicket> =>
      auth.login().then(
        () => Promise.reject(new Error('the login answered a session, not a bind')),
        (e: unknown) => (isAuthError(e, 'BIND_REQUIRED') && e.ticket ? e.ticket : Promise.reject(e)),
      );

    it('deletes the binding and the mini-program’s data, keeps the platform account (as the page said from user.account), and the next login asks to bind again', async () => {
      wx = createNodeWx({ server: bindBase, user: 'account-e2e-bound' });
      globals.wx = wx;
      auth = createAuth<User>({ baseURL: bindBase, wx, timeout: 5000, isSessionExpired: isSessionExpiredAnswer });
      const ticket = await bindTicket();
      const bound = await auth.bind({ bindTicket: ticket.bindTicket, account: 'A1001', password: 'Pa55word' });
      expect(bound.user.account).toEqual({ name: 'A1001', displayName: '王建国' });

      await expect(deleteAccount(auth)).resolves.toEqual({ deleted: true, kept: 'platform-account' });

      expect(auth.getSession()).toBeNull();
      await expect(auth.login()).rejects.toMatchObject({ code: 'BIND_REQUIRED' });
      await expect(bindStores.accounts.byName('A1001')).resolves.toMatchObject({ name: 'A1001', displayName: '王建国' });
      // The bind checks the password at the server's production scrypt cost, on a shared machine: a ceiling, not a speed target.
    }, 30_000);
  });
});
