import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Order, OrdersResponse, OrderStatus } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { authenticateComplete } from '../session';
import { whenReady } from '../stores/types';

const PRODUCTS = ['Oolong tea 250 g', 'Bamboo notebook', 'Ceramic mug', 'Canvas tote bag', 'Desk lamp', 'Wireless earbuds', 'Mooncake gift box', 'Phone stand'];
const STATUSES: OrderStatus[] = ['pending', 'paid', 'shipped', 'completed'];
/** 2024-01-01T00:00:00Z: demo orders date from a fixed start, so they look the same on every run. */
const EPOCH = 1704067200000;
const DAY = 24 * 3600 * 1000;

/** Up to 6 orders derived from the openid alone: the same user always sees the same list, newest first. */
export function demoOrders(openid: string): Order[] {
  const bytes = createHash('sha256').update(`orders:${openid}`).digest();
  const count = 1 + (bytes[0] % 6);
  const orders: Order[] = [];
  for (let i = 0; i < count; i++) {
    const b = bytes.subarray(1 + i * 4, 5 + i * 4);
    orders.push({
      id: `${bytes.toString('hex', 24, 28)}-${String(i + 1).padStart(3, '0')}`,
      title: PRODUCTS[b[0] % PRODUCTS.length],
      amountFen: 100 * (5 + b[1]) + (b[2] % 100),
      status: STATUSES[b[3] % STATUSES.length],
      createdAt: EPOCH + i * 7 * DAY + (b[2] % 7) * DAY,
    });
  }
  return orders.reverse();
}

export function orderRoutes(app: FastifyInstance, ctx: Context): void {
  // The simulated user "empty" has no orders, so the UI's empty state can be seen.
  const emptyOpenid = ctx.simulator?.openidFor('empty');

  // Not async: with the memory store the answer is ready at once (see authenticate).
  app.get<{ Reply: OrdersResponse }>('/api/orders', { schema: { response: { 200: C.ordersResponse } } }, (request) =>
    whenReady(authenticateComplete(request, ctx.stores, ctx.config), ({ user }) => ({ orders: user.openid === emptyOpenid ? [] : demoOrders(user.openid) })),
  );
}
