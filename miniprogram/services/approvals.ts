/** The approvals API (staff only: 403 FORBIDDEN for everyone else) and how an approval reads on screen. */
import type { AuthClient } from '../auth/index';
import type { Approval, ApprovalStatus, ApprovalsResponse, User } from '../../typings/api';
import { formatDate } from './orders';

/** Vant tag types, themed in app.wxss: waiting on the reader (待审批) warm, decided ones calm. */
type TagType = 'warning' | 'success' | 'default';

const STATUS: Record<ApprovalStatus, { text: string; type: TagType }> = {
  pending: { text: '待审批', type: 'warning' },
  approved: { text: '已通过', type: 'success' },
  rejected: { text: '已驳回', type: 'default' },
};

export interface ApprovalView {
  id: string;
  title: string;
  /** "王芳 · 2026-11-21 09:16" */
  meta: string;
  statusText: string;
  statusType: TagType;
}

export async function fetchApprovals(auth: AuthClient<User>): Promise<Approval[]> {
  const { data } = await auth.request<ApprovalsResponse>({ url: '/api/approvals' });
  if (!data || !Array.isArray(data.approvals)) throw new Error('GET /api/approvals answered without an approvals list');
  return data.approvals;
}

export function toApprovalView(approval: Approval): ApprovalView {
  const status = STATUS[approval.status] || { text: approval.status, type: 'default' as const };
  return {
    id: approval.id,
    title: approval.title,
    meta: `${approval.applicant} · ${formatDate(approval.submittedAt)}`,
    statusText: status.text,
    statusType: status.type,
  };
}
