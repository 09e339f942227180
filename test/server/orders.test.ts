import { demoOrders } from '../../server/routes/orders';
import type { OrdersResponse } from '../../typings/api';
import { bearer, login, testApp, type TestApp } from './helpers';

describe('GET /api/orders', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.app.close());
  const orders = async (skey: string) => (await t.app.inject({ url: '/api/orders', headers: bearer(skey) })).json<OrdersResponse>().orders;

  it('gives a user the same orders on every call and every login, newest first', async () => {
    const first = await orders((await login(t.app, 'alice')).skey);
    const again = await orders((await login(t.app, 'alice')).skey);
    expect(first.length).toBeGreaterThan(0);
    expect(again).toEqual(first);
    expect(first.map((o) => o.createdAt)).toEqual([...first.map((o) => o.createdAt)].sort((a, b) => b - a));
    for (const order of first) {
      expect(Number.isInteger(order.amountFen) && order.amountFen > 0).toBe(true);
      expect(['pending', 'paid', 'shipped', 'completed']).toContain(order.status);
    }
  });

  it('gives the simulated user "empty" no orders at all', async () => {
    expect(await orders((await login(t.app, 'empty')).skey)).toEqual([]);
  });

  it('answers 401 SESSION_EXPIRED without a session', async () => {
    const response = await t.app.inject({ url: '/api/orders' });
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('SESSION_EXPIRED');
  });

  it('derives between one and six orders from the openid alone', () => {
    const counts = new Set(Array.from({ length: 200 }, (_, i) => demoOrders(`o${i}`).length));
    expect([...counts].every((n) => n >= 1 && n <= 6)).toBe(true);
    expect(counts.size).toBeGreaterThan(3);
    expect(demoOrders('oX')).toEqual(demoOrders('oX'));
  });
});
