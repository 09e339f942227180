/** The orders API and how an order reads on screen. */
import type { AuthClient } from '../auth/index';
import type { Order, OrderStatus, OrdersResponse, User } from '../../typings/api';

/** Vant tag types; app.wxss maps them onto the theme (warning, info, the app's green, plain grey). */
type TagType = 'warning' | 'primary' | 'success' | 'default';

/**
 * How each status reads and stands out, one colour each: waiting for the user (待付款) is the
 * warm warning colour, waiting for the shop (待发货) the calm info blue (Vant's `primary` tag, which
 * app.wxss points at --info-color), an order on its way (已发货) the app's green, and a finished one
 * steps back to grey.
 */
const STATUS: Record<OrderStatus, { text: string; type: TagType }> = {
  pending: { text: '待付款', type: 'warning' },
  paid: { text: '待发货', type: 'primary' },
  shipped: { text: '已发货', type: 'success' },
  completed: { text: '已完成', type: 'default' },
};

export interface OrderView {
  id: string;
  title: string;
  /** "¥12.30" */
  price: string;
  statusText: string;
  statusType: TagType;
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
    statusText: STATUS[order.status] ? STATUS[order.status].text : order.status,
    statusType: STATUS[order.status] ? STATUS[order.status].type : 'default',
    date: formatDate(order.createdAt),
  };
}
