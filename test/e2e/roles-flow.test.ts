import type { FastifyInstance } from 'fastify';
import { createAuth, isAuthError, type AuthClient } from '../../miniprogram/auth/index';
import { fetchApprovals } from '../../miniprogram/services/approvals';
import { fetchMenus } from '../../miniprogram/services/menus';
import { errorMessage } from '../../miniprogram/utils/error-message';
import { buildApp } from '../../server/app';
import { createMemoryStores, type MemoryStores } from '../../server/stores/memory';
import { createNodeWx, type NodeWx } from '../../tools/node-wx';
import type { User } from '../../typings/api';
import { testConfig } from '../server/helpers';

/**
 * Roles and menus, end to end: the mini-program's own services and auth service against the real
 * server over HTTP. The server's menus must be ones the app opens, and its 403 one the app explains.
 */
describe('roles and menus, end to end', () => {
  let app: FastifyInstance;
  let stores: MemoryStores;
  let wx: NodeWx;
  let auth: AuthClient<User>;

  beforeAll(async () => {
    const config = testConfig();
    stores = createMemoryStores({ now: Date.now, sessionIdleMs: config.sessionIdleMs });
    app = await buildApp({ config, stores, log: false });
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    wx = createNodeWx({ server: base, user: 'roles-e2e' });
    auth = createAuth<User>({ baseURL: base, wx, timeout: 5000 });
  });
  afterAll(() => app.close());

  it('gives a user of the default role the orders entry only, and a 403 FORBIDDEN for the approvals that the app explains, with no second login', async () => {
    const session = await auth.login();
    expect(session.user.roles).toEqual(['member']);
    expect(session.user.account).toBeNull();

    const { menus } = await fetchMenus(auth);
    expect(menus).toEqual([{ key: 'orders', title: '我的订单', path: '/pages/orders/orders', icon: 'orders-o' }]);

    const error = await fetchApprovals(auth).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isAuthError(error, 'HTTP') && error.statusCode).toBe(403);
    expect(errorMessage(error)).toBe('没有权限查看此内容');
    expect(wx.calls.login).toBe(1);
  });

  it('once the user has the staff role, the next menus read shows 审批 at a page the app has, and the approvals load', async () => {
    await stores.users.setRoles(auth.getSession()!.user.id, ['staff']);

    const { user, menus } = await fetchMenus(auth);

    expect(user.roles).toEqual(['staff']);
    expect(menus.map((m) => [m.key, m.path])).toEqual([
      ['orders', '/pages/orders/orders'],
      ['approvals', '/pages/approvals/approvals'],
    ]);
    const approvals = await fetchApprovals(auth);
    expect(approvals.length).toBeGreaterThan(0);
    expect(approvals.every((a) => ['pending', 'approved', 'rejected'].includes(a.status))).toBe(true);
    expect(wx.calls.login).toBe(1);
  });
});
