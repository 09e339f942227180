/**
 * 我的数据 (账号与安全 → 导出我的数据): what the server holds about the user (GET
 * /api/account/export), as a readable summary, and the whole export as JSON to copy.
 */
import { appAuth } from '../../services/app-context';
import { exportAccount } from '../../services/account';
import { EVENTS_SHOWN, toExportView, type ExportView } from '../../services/account-export';
import { errorMessage, isConnectionError, isSilentError } from '../../utils/error-message';
import type { AccountExport } from '../../../typings/api';

type Status = 'loading' | 'ready' | 'error';

/** The export as the server sent it, for 复制 (kept off `data`, which renders). */
const exported = new WeakMap<object, AccountExport>();

Component({
  data: {
    status: 'loading' as Status,
    view: null as ExportView | null,
    eventsTitle: '账号记录',
    errorMessage: '',
    errorImage: 'error' as 'error' | 'network',
  },

  methods: {
    onLoad() {
      return this.load();
    },

    onRetry() {
      return this.load();
    },

    async load() {
      this.setData({ status: 'loading', errorMessage: '' });
      try {
        const data = await exportAccount(appAuth());
        exported.set(this, data);
        const total = data.audit.length;
        const eventsTitle = total > EVENTS_SHOWN ? `最近的账号记录（${EVENTS_SHOWN} / ${total}）` : `账号记录（${total}）`;
        this.setData({ status: 'ready', view: toExportView(data), eventsTitle });
      } catch (error) {
        if (isSilentError(error)) return;
        this.setData({ status: 'error', errorMessage: `数据读取失败：${errorMessage(error)}`, errorImage: isConnectionError(error) ? 'network' : 'error' });
      }
    },

    /** Everything, as the server sent it: the summary above leaves out nothing but its layout. */
    onCopy() {
      const data = exported.get(this);
      if (data) wx.setClipboardData({ data: JSON.stringify(data, null, 2) });
    },
  },
});
