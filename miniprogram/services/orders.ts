/** The orders API and how an order reads on screen. */
import type { AuthClient } from '../auth/index';
import type { Order, OrderStatus, OrdersResponse, User } from '../../typings/api';

const STATUS_TEXT: Record<OrderStatus, string> = {
  pending: '待付款',
  paid: '待发货',
  shipped: '已发货',
  completed: '已完成',
};

export interface OrderView {
  id: string;
  title: string;
  /** "¥12.30" */
  price: string;
  statusText: string;
  /** "2026-11-21 08:20", local time */
  date: string;
}

export async function fetchOrders(auth: AuthClient<User>): Promise<Order[]> {
  const { data } = await auth.request<OrdersResponse>({ url: '/api/orders' });
  if (!data || !Array.isArray(data.orders)) throw new Error('GET /api/orders answered without an orders list');
  return data.orders;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function formatFen(fen: number): string {
  return `¥${(fen / 100).toFixed(2)}`;
}

export function formatDate(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function toOrderView(order: Order): OrderView {
  return {
    id: order.id,
    title: order.title,
    price: formatFen(order.amountFen),
    statusText: STATUS_TEXT[order.status] || order.status,
    date: formatDate(order.createdAt),
  };
}
