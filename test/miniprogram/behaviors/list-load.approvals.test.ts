import type { Approval } from '../../../typings/api';
import { load } from '../support/render';
import { listLoadCases } from './list-load-cases';

const APPROVAL: Approval = { id: 'ap-1', title: '年假 3 天', applicant: '李强', status: 'pending', submittedAt: new Date(2026, 10, 21, 9, 16).getTime() };

listLoadCases({
  name: '审批',
  id: load('pages/approvals/approvals'),
  path: '/api/approvals',
  error: '.approvals-error',
  roles: ['staff'],
  answer: (title) => ({ statusCode: 200, data: { approvals: [{ ...APPROVAL, title }] } }),
});
