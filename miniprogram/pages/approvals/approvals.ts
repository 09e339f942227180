/**
 * 审批: the demo of a page only some roles may open. The 首页 shows its entry only to users whose
 * menus include it (staff); anyone else who reaches it gets the server's 403, said plainly.
 */
import { listLoad } from '../../behaviors/list-load';
import { fetchApprovals, toApprovalView, type ApprovalView } from '../../services/approvals';
import { serverErrorCodeOf } from '../../utils/error-message';

const approvalsList = listLoad<ApprovalView>({
  fetch: async (auth) => (await fetchApprovals(auth)).map(toApprovalView),
  // Not a staff member (403 FORBIDDEN): nothing to retry, only the way back.
  handleFailure(page, error) {
    if (serverErrorCodeOf(error) !== 'FORBIDDEN') return false;
    page.setData({ status: 'forbidden', errorMessage: '审批仅对员工开放，你的账号没有查看权限' });
    return true;
  },
});

Component({
  behaviors: [approvalsList],
});
