/**
 * 审批: the demo of a page only some roles may open. The 首页 shows its entry only to users whose
 * menus include it (staff); anyone else who reaches it gets the server's 403, said plainly.
 */
import { appAuth } from '../../services/app-context';
import { replaceWithBindPage } from '../../services/binding';
import { fetchApprovals, toApprovalView, type ApprovalView } from '../../services/approvals';
import { errorMessage, isConnectionError, isSilentError, serverErrorCodeOf } from '../../utils/error-message';

type Status = 'loading' | 'ready' | 'error' | 'forbidden';

/** The latest load per page: an older answer arriving late must not overwrite a newer one. */
const latestLoad = new WeakMap<object, number>();

Component({
  data: {
    status: 'loading' as Status,
    approvals: [] as ApprovalView[],
    errorMessage: '',
    errorImage: 'error' as 'error' | 'network',
  },

  methods: {
    onLoad() {
      return this.load();
    },

    onPullDownRefresh() {
      return this.load(true).then(() => wx.stopPullDownRefresh());
    },

    onRetry() {
      return this.load();
    },

    onGoHome() {
      wx.switchTab({ url: '/pages/index/index' });
    },

    /** A refresh keeps the current list on screen (the pull-down indicator shows progress). */
    async load(refreshing = false) {
      const ticket = (latestLoad.get(this) || 0) + 1;
      latestLoad.set(this, ticket);
      if (!refreshing || this.data.status !== 'ready') this.setData({ status: 'loading', errorMessage: '' });
      try {
        const approvals = (await fetchApprovals(appAuth())).map(toApprovalView);
        if (latestLoad.get(this) === ticket) this.setData({ status: 'ready', approvals });
      } catch (error) {
        if (latestLoad.get(this) !== ticket || isSilentError(error) || replaceWithBindPage(error)) return;
        const forbidden = serverErrorCodeOf(error) === 'FORBIDDEN';
        this.setData({
          status: forbidden ? 'forbidden' : 'error',
          errorMessage: forbidden ? '审批仅对员工开放，你的账号没有查看权限' : errorMessage(error),
          errorImage: isConnectionError(error) ? 'network' : 'error',
        });
      }
    },
  },
});
