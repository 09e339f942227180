import type { Order } from '../../../typings/api';
import { load } from '../support/render';
import { listLoadCases } from './list-load-cases';

const ORDER: Order = { id: 'o1', title: '手冲咖啡豆 250g', amountFen: 6800, status: 'paid', createdAt: new Date(2026, 10, 20, 9, 5).getTime() };

listLoadCases({
  name: '我的订单',
  id: load('pages/orders/orders'),
  path: '/api/orders',
  error: '.orders-error',
  roles: ['member'],
  answer: (title) => ({ statusCode: 200, data: { orders: [{ ...ORDER, title }] } }),
});
