/**
 * 账号与安全 (我的 → 账号与安全): how this account is reached (微信 always, 手机号, 平台账号 when
 * bound), and the user's rights over their data: 导出我的数据 and 注销账号.
 */
import { sessionUser } from '../../behaviors/session-user';
import { deletionScope } from '../../services/account';
import { accountText, phoneText } from '../../utils/identity-text';
import type { User } from '../../../typings/api';

const EXPORT_PAGE = '/pages/account-data/account-data';
const DELETE_PAGE = '/pages/account-delete/account-delete';

Component({
  behaviors: [sessionUser],

  data: {
    phoneText: '',
    accountText: '',
    /** What 注销账号 takes away, in a few words, before the user opens it. */
    deleteLabel: '',
  },

  methods: {
    /** The phone or the binding may have changed since (on 我的, or on another device). */
    onShow() {
      this.refreshUser().catch(() => undefined); // the stored user stays on screen; the pages that act say what failed
    },

    showUser(user: User | null) {
      const keepsAccount = deletionScope(user) === 'platform-account';
      this.setData({
        user,
        phoneText: phoneText(user),
        accountText: accountText(user),
        deleteLabel: keepsAccount ? '删除本小程序中的数据，平台账号保留' : '永久删除账号及其全部数据',
      });
    },

    onExport() {
      wx.navigateTo({ url: EXPORT_PAGE });
    },

    onDelete() {
      wx.navigateTo({ url: DELETE_PAGE });
    },

    onGoProfile() {
      wx.switchTab({ url: '/pages/profile/profile' });
    },
  },
});
