import type { MemoryStores } from '../../server/stores/memory';
import type { ApprovalsResponse, LoginResponse, SessionResponse } from '../../typings/api';
import { bearer, login, testApp, type TestApp } from './helpers';

describe('GET /api/approvals, guarded by the permission approvals:read', () => {
  let t: TestApp;
  let stores: MemoryStores;
  beforeEach(async () => {
    t = await testApp();
    stores = t.stores as MemoryStores;
  });
  afterEach(() => t.app.close());

  const approvals = (skey?: string) => t.app.inject({ url: '/api/approvals', headers: skey ? bearer(skey) : {} });
  async function staff(name: string): Promise<LoginResponse> {
    const session = await login(t.app, name);
    await stores.users.setRoles(session.user.id, ['staff']);
    return session;
  }

  it('answers 403 FORBIDDEN in the envelope to a user with the default role', async () => {
    const { skey, user } = await login(t.app, 'alice');
    expect(user.roles).toEqual(['member']);

    const response = await approvals(skey);

    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: { code: 'FORBIDDEN', message: expect.stringContaining('approvals:read') } });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers 200 with the demo approvals, newest first, to a staff user, on the same session the role was given to', async () => {
    const { skey } = await staff('boss');

    const response = await approvals(skey);

    expect(response.statusCode).toBe(200);
    const list = response.json<ApprovalsResponse>().approvals;
    expect(list).toHaveLength(4);
    expect(list.map((a) => a.submittedAt)).toEqual([...list.map((a) => a.submittedAt)].sort((a, b) => b - a));
    for (const approval of list) {
      expect(approval.title).toMatch(/^\p{Script=Han}/u);
      expect(['pending', 'approved', 'rejected']).toContain(approval.status);
      expect(approval.submittedAt).toBeLessThanOrEqual(t.clock.now());
    }
  });

  it('answers 403 again once the staff role is taken away', async () => {
    const { skey, user } = await staff('boss');
    expect((await approvals(skey)).statusCode).toBe(200);

    await stores.users.setRoles(user.id, ['member']);

    expect((await approvals(skey)).json().error.code).toBe('FORBIDDEN');
  });

  it('grants nothing for a role the configuration does not have', async () => {
    const { skey, user } = await login(t.app, 'mallory');
    await stores.users.setRoles(user.id, ['admin', 'approvals:read']);

    expect((await approvals(skey)).statusCode).toBe(403);
  });

  it('answers 401 SESSION_EXPIRED without a session, before any permission is looked at', async () => {
    const response = await approvals();
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('SESSION_EXPIRED');
  });

  it('answers 403 PHONE_REQUIRED to a staff user without a phone when the server requires one', async () => {
    await t.app.close();
    t = await testApp({ config: { requirePhone: true } });
    stores = t.stores as MemoryStores;
    const { skey } = await staff('boss');

    const response = await approvals(skey);

    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('PHONE_REQUIRED');
  });
});

describe('roles and menus in the login and session answers', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.app.close());

  it('gives a user of open mode the default role, no platform account and the default menus', async () => {
    const { user, menus } = await login(t.app, 'alice');

    expect(user.roles).toEqual(['member']);
    expect(user.account).toBeNull();
    expect(menus).toEqual([{ key: 'orders', title: '我的订单', path: '/pages/orders/orders', icon: 'orders-o' }]);
  });

  it('answers GET /auth/session with the menus of the roles the user has now, staff included', async () => {
    const { skey, user } = await login(t.app, 'boss');
    await (t.stores as MemoryStores).users.setRoles(user.id, ['staff']);

    const session = (await t.app.inject({ url: '/auth/session', headers: bearer(skey) })).json<SessionResponse>();

    expect(session.user.roles).toEqual(['staff']);
    expect(session.menus.map((m) => m.key)).toEqual(['orders', 'approvals']);
    expect(session.menus[1]).toEqual({ key: 'approvals', title: '审批', path: '/pages/approvals/approvals', icon: 'todo-list-o' });
  });

  it('carries the roles a later login finds', async () => {
    const first = await login(t.app, 'boss');
    await (t.stores as MemoryStores).users.setRoles(first.user.id, ['member', 'staff']);

    const second = await login(t.app, 'boss');

    expect(second.user.roles).toEqual(['member', 'staff']);
    expect(second.menus.map((m) => m.key)).toEqual(['orders', 'approvals']);
  });
});
