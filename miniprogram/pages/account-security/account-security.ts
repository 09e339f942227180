/**
 * 账号与安全 (我的 → 账号与安全): how this account is reached (微信 always, 手机号, 平台账号 when
 * bound), and the user's rights over their data: 导出我的数据 and 注销账号.
 */
import { appAuth } from '../../services/app-context';
import { deletionScope } from '../../services/account';
import { fetchProfile } from '../../services/profile';
import { dropSubscription, keepSubscription, watchSession } from '../../services/session-watch';
import { accountText, phoneText } from '../../utils/identity-text';
import type { User } from '../../../typings/api';

const EXPORT_PAGE = '/pages/account-data/account-data';
const DELETE_PAGE = '/pages/account-delete/account-delete';

Component({
  data: {
    user: null as User | null,
    phoneText: '',
    accountText: '',
    /** What 注销账号 takes away, in a few words, before the user opens it. */
    deleteLabel: '',
  },

  lifetimes: {
    attached() {
      const auth = appAuth();
      keepSubscription(this, watchSession(auth, (user) => this.showUser(user)));
      const session = auth.getSession();
      this.showUser(session ? session.user : null);
    },
    detached() {
      dropSubscription(this);
    },
  },

  methods: {
    /** The phone or the binding may have changed since (on 我的, or on another device). */
    onShow() {
      const auth = appAuth();
      if (!auth.getSession()) return;
      fetchProfile(auth).then(
        (user) => this.showUser(user),
        () => undefined, // the stored user stays on screen; the pages that act say what failed
      );
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
