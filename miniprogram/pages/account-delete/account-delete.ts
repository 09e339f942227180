/**
 * 注销账号 (账号与安全 → 注销账号): what will be deleted and what stays, a second confirmation,
 * then the deletion with a fresh WeChat code (the server checks it is this user's: a stolen
 * session alone cannot delete an account). Deleted, the app is logged out and goes home.
 */
import Dialog from '@vant/weapp/dialog/dialog';
import { appAuth } from '../../services/app-context';
import { deleteAccount, deleteErrorMessage, deletionScope, isAlreadyUnbound, type DeletionScope } from '../../services/account';
import { isSilentError } from '../../utils/error-message';
import { accountText } from '../../utils/identity-text';
import { DANGER_COLOR } from '../../utils/theme';
import type { User } from '../../../typings/api';

const HOME = '/pages/index/index';

interface DeletionCopy {
  intro: string;
  deleted: string[];
  /** What stays, when something does. */
  kept: string;
  after: string;
  confirm: string;
}

/** What the page says, by what the deletion takes away (open mode: everything; bind mode: all but the platform account). */
function deletionCopy(scope: DeletionScope, user: User | null): DeletionCopy {
  const audit = '为便于安全审计，注销这一操作会留下一条不含个人信息的记录。';
  if (scope === 'platform-account') {
    return {
      intro: '注销后，这个微信与平台账号的绑定，以及本小程序保存的你的数据，将被删除且无法恢复。',
      deleted: ['微信与平台账号的绑定', '头像、昵称和绑定的手机号', '所有设备上的登录状态'],
      kept: `平台账号 ${accountText(user)}`,
      after: `再次使用本小程序需要重新绑定平台账号。${audit}`,
      confirm: '绑定和本小程序中的数据将被删除，无法恢复；平台账号保留。确定注销吗？',
    };
  }
  return {
    intro: '注销后，你在本小程序的账号及其全部数据将被永久删除，无法恢复。',
    deleted: ['头像、昵称等个人资料', '绑定的手机号', '微信与本账号的关联', '所有设备上的登录状态'],
    kept: '',
    after: `之后用这个微信再次登录，将是一个全新的空账号。${audit}`,
    confirm: '账号及其全部数据将被永久删除，无法恢复。确定注销吗？',
  };
}

Component({
  data: {
    copy: deletionCopy('nothing', null),
    deleting: false,
    errorMessage: '',
  },

  lifetimes: {
    attached() {
      const session = appAuth().getSession();
      const user = session ? session.user : null;
      this.setData({ copy: deletionCopy(deletionScope(user), user) });
    },
  },

  methods: {
    /** The second confirmation; the deletion runs only once the user confirms there. */
    onDelete() {
      if (this.data.deleting) return;
      // Vant's typings leave out confirmButtonColor, which its dialog takes; hence no inline literal.
      const options = {
        context: this,
        selector: '#van-dialog',
        title: '确认注销账号',
        message: this.data.copy.confirm,
        confirmButtonText: '确认注销',
        confirmButtonColor: DANGER_COLOR,
        cancelButtonText: '取消',
      };
      return Dialog.confirm(options).then(
        () => this.runDeletion(),
        () => undefined, // the user changed their mind
      );
    },

    async runDeletion() {
      if (this.data.deleting) return;
      this.setData({ deleting: true, errorMessage: '' });
      try {
        const { kept } = await deleteAccount(appAuth());
        this.setData({ deleting: false });
        // WeChat's own toast: it stays up while the page gives way to the home page. The server's
        // answer says what stayed (a success icon leaves room for 7 characters only).
        if (kept === 'platform-account') wx.showToast({ title: '已注销，平台账号仍保留', icon: 'none' });
        else wx.showToast({ title: '账号已注销', icon: 'success' });
        wx.switchTab({ url: HOME });
      } catch (error) {
        this.setData({ deleting: false });
        if (isSilentError(error)) return;
        // Not "请先绑定账号": binding again only to delete would be absurd. Home, as after a deletion.
        if (isAlreadyUnbound(error)) {
          wx.showToast({ title: '该微信已解除绑定，无需再注销', icon: 'none' });
          wx.switchTab({ url: HOME });
          return;
        }
        this.setData({ errorMessage: deleteErrorMessage(error) });
      }
    },

    onCancel() {
      wx.navigateBack();
    },
  },
});
