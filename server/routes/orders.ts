import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Order, OrdersResponse, OrderStatus } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';

/** What the demo shop sells: the mini-program's UI is Chinese, and so are its orders. */
const PRODUCTS = ['云南普洱熟茶 357g', '手冲咖啡豆 250g', '陶瓷滤杯 V60 01 号', '玻璃分享壶 600ml', '竹制笔记本 A5', '帆布托特包', '护眼台灯', '月饼礼盒 8 枚装'];
const STATUSES: OrderStatus[] = ['pending', 'paid', 'shipped', 'completed'];
const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Up to 6 orders derived from the openid alone, newest first: the same user always sees the same
 * products, prices and statuses. Their dates are ages before `now` (the newest within the last two
 * days, each older one 1 to 10 days before the next), so the list looks recent on any day.
 */
export function demoOrders(openid: string, now: number): Order[] {
  const bytes = createHash('sha256').update(`orders:${openid}`).digest();
  const count = 1 + (bytes[0] % 6);
  const orders: Order[] = [];
  let age = (bytes[29] % 48) * HOUR + (bytes[30] % 60) * MINUTE;
  for (let i = 0; i < count; i++) {
    const b = bytes.subarray(1 + i * 4, 5 + i * 4);
    orders.push({
      id: `${bytes.toString('hex', 24, 28)}-${String(count - i).padStart(3, '0')}`,
      title: PRODUCTS[b[0] % PRODUCTS.length],
      amountFen: 100 * (5 + b[1]) + (b[2] % 100),
      status: STATUSES[b[3] % STATUSES.length],
      // To the minute, as the list shows it.
      createdAt: Math.floor((now - age) / MINUTE) * MINUTE,
    });
    age += (1 + (b[2] % 10)) * DAY + (b[1] % 24) * HOUR;
  }
  return orders;
}

export function orderRoutes(app: FastifyInstance, ctx: Context): void {
  // The simulated user "empty" has no orders, so the UI's empty state can be seen.
  const emptyOpenid = ctx.simulator?.openidFor('empty');

  // A business route as any host of the login plugin writes one: requireSession (a live session,
  // and a bound phone when REQUIRE_PHONE says so) before it, the session's user on the request.
  app.get<{ Reply: OrdersResponse }>('/api/orders', { preHandler: app.requireSession, schema: { response: { 200: C.ordersResponse } } }, async (request) => ({
    orders: request.wxUser.openid === emptyOpenid ? [] : demoOrders(request.wxUser.openid, ctx.now()),
  }));
}
