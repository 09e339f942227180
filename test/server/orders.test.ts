import { demoOrders } from '../../server/routes/orders';
import type { OrdersResponse } from '../../typings/api';
import { bearer, login, testApp, type TestApp } from './helpers';

const DAY = 24 * 3600 * 1000;

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
    const now = Date.UTC(2026, 10, 23, 4);
    const counts = new Set(Array.from({ length: 200 }, (_, i) => demoOrders(`o${i}`, now).length));
    expect([...counts].every((n) => n >= 1 && n <= 6)).toBe(true);
    expect(counts.size).toBeGreaterThan(3);
    expect(demoOrders('oX', now)).toEqual(demoOrders('oX', now));
  });

  it('sells the Chinese UI Chinese products, dated recently whatever the day: the newest within two days, none older than about two months', () => {
    const now = Date.UTC(2026, 10, 23, 4, 30);
    for (let i = 0; i < 200; i++) {
      const orders = demoOrders(`o${i}`, now);
      for (const order of orders) {
        expect(order.title).toMatch(/^\p{Script=Han}/u);
        expect(order.createdAt).toBeLessThanOrEqual(now);
        expect(order.createdAt).toBeGreaterThan(now - 60 * DAY);
      }
      expect(orders[0].createdAt).toBeGreaterThan(now - 2 * DAY);
    }
  });

  it('moves the dates with the clock and keeps everything else: a day later, every order is a day older', async () => {
    const { skey } = await login(t.app, 'alice');
    const today = await orders(skey);
    t.clock.advance(DAY);
    const tomorrow = await orders(skey);
    expect(tomorrow.map((o) => ({ ...o, createdAt: o.createdAt - DAY }))).toEqual(today);
  });
});
