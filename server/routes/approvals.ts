/**
 * GET /api/approvals: the demo of a route guarded by a permission (`approvals:read`, which the
 * staff role has; see access.ts). Everyone else gets 403 FORBIDDEN.
 */
import type { FastifyInstance } from 'fastify';
import type { Approval, ApprovalsResponse } from '../../typings/api';
import { requirePermission } from '../authorize';
import * as C from '../contract';
import type { Context } from '../context';

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;

/** What a staff member is asked to approve, with how long ago it was asked: the UI is Chinese, and so is this. */
const REQUESTS: [Omit<Approval, 'id' | 'submittedAt'>, number][] = [
  [{ title: '差旅报销 ¥1,280.00（上海客户拜访）', applicant: '王芳', status: 'pending' }, 25 * MINUTE],
  [{ title: '年假 3 天（12 月 22 日至 24 日）', applicant: '李强', status: 'pending' }, 3 * HOUR],
  [{ title: '采购申请：27 英寸显示器 2 台', applicant: '陈静', status: 'approved' }, 26 * HOUR],
  [{ title: '加班调休 1 天', applicant: '赵磊', status: 'rejected' }, 3 * 24 * HOUR],
];

/** The demo approvals, newest first, dated relative to `now` (to the minute) so that the list always looks current. */
export function demoApprovals(now: number): Approval[] {
  return REQUESTS.map(([request, age], i) => ({ id: `ap-${String(i + 1).padStart(3, '0')}`, ...request, submittedAt: Math.floor((now - age) / MINUTE) * MINUTE }));
}

export function approvalRoutes(app: FastifyInstance, ctx: Context): void {
  app.get<{ Reply: ApprovalsResponse }>(
    '/api/approvals',
    { preHandler: [app.requireSession, requirePermission('approvals:read')], schema: { response: { 200: C.approvalsResponse } } },
    async () => ({ approvals: demoApprovals(ctx.now()) }),
  );
}
