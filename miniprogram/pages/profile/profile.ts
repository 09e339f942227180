/**
 * "我的": who is logged in, the entries that need it, and logout. Follows the auth service's
 * events live; the login component does the logging in.
 */
import Dialog from '@vant/weapp/dialog/dialog';
import Toast from '@vant/weapp/toast/toast';
import type { DoneEventDetail, LoginPanel, PhoneEventDetail, ProfileEventDetail } from '../../components/login-panel/events';
import { sessionUser } from '../../behaviors/session-user';
import { appAuth, launchError } from '../../services/app-context';
import { unbindAccount } from '../../services/binding';
import { displayName } from '../../services/profile';
import type { SessionChange } from '../../services/session-watch';
import { errorMessage, isSilentError } from '../../utils/error-message';
import { accountText, phoneText } from '../../utils/identity-text';
import { showNotice } from '../../utils/notice';
import type { User } from '../../../typings/api';

interface Entry {
  key: string;
  title: string;
  icon: string;
  /** A page to open, or an action of this page. */
  url?: string;
  action?: 'phone' | 'privacy' | 'about';
  needsLogin: boolean;
}

const ABOUT = '这是一个微信小程序登录示例：一键登录、完善头像昵称、登录后查看订单。';

const ENTRIES: Entry[] = [
  { key: 'orders', title: '我的订单', icon: 'orders-o', url: '/pages/orders/orders', needsLogin: true },
  { key: 'phone', title: '手机号', icon: 'phone-o', action: 'phone', needsLogin: true },
  { key: 'security', title: '账号与安全', icon: 'setting-o', url: '/pages/account-security/account-security', needsLogin: true },
  { key: 'privacy', title: '隐私保护指引', icon: 'shield-o', action: 'privacy', needsLogin: false },
  { key: 'about', title: '关于', icon: 'info-o', action: 'about', needsLogin: false },
];

Component({
  behaviors: [sessionUser],

  data: {
    accountText: '',
    unbinding: false,
    name: displayName(null),
    phoneText: phoneText(null),
    /** The launch-time login is still running: no "未登录" flash before it answers. */
    checking: false,
    /** Why the user is logged out, when there is something to say. */
    hint: '',
    entries: ENTRIES,
    /** An entry tapped while logged out, continued after the login. */
    pendingEntry: '',
  },

  lifetimes: {
    // After the behaviour's: the stored user is on screen, and every change followed.
    attached() {
      const auth = appAuth();
      if (!auth.getSession()) {
        this.setData({ checking: true });
        auth.ready().then((ready) => {
          this.setData({ checking: false });
          if (ready) return this.showUser(ready.user);
          const failure = launchError();
          if (failure && !isSilentError(failure)) this.setData({ hint: `自动登录失败：${errorMessage(failure)}` });
        });
      }
    },
  },

  methods: {
    /** Page show: the stored user may be stale (edited on another device), so ask the server. */
    onShow() {
      this.refreshUser().catch((error: unknown) => {
        if (!isSilentError(error)) this.toast(errorMessage(error));
      });
    },

    onSessionChange(user: User | null, change: SessionChange) {
      this.showUser(user);
      if (change === 'sessionExpired') this.setData({ hint: '登录已过期，请重新登录' });
    },

    showUser(user: User | null) {
      this.setData({ user, name: displayName(user), phoneText: phoneText(user), accountText: accountText(user), ...(user ? { hint: '' } : {}) });
    },

    panel(): LoginPanel {
      return this.selectComponent('#login') as unknown as LoginPanel;
    },

    onLogin() {
      this.panel().open('login');
    },

    onEditProfile() {
      this.panel().open('profile', this.data.user);
    },

    onEntry(event: WechatMiniprogram.BaseEvent<Record<string, never>, { key: string }>) {
      const entry = ENTRIES.find((e) => e.key === event.currentTarget.dataset.key);
      if (!entry) return;
      if (entry.needsLogin && !this.data.user) {
        this.setData({ pendingEntry: entry.key });
        this.panel().open('login');
        return;
      }
      this.runEntry(entry);
    },

    runEntry(entry: Entry) {
      if (entry.url) {
        wx.navigateTo({ url: entry.url, fail: () => this.toast('页面打开失败，请稍后重试') });
      } else if (entry.action === 'phone') {
        this.panel().open('phone', this.data.user);
      } else if (entry.action === 'privacy') {
        wx.openPrivacyContract({ fail: () => this.toast('隐私保护指引暂时无法打开，请稍后再试') });
      } else if (entry.action === 'about') {
        void showNotice(this, '关于', ABOUT);
      }
    },

    onLoginDone(event: WechatMiniprogram.CustomEvent<DoneEventDetail>) {
      const { user } = event.detail;
      if (user) this.showUser(user);
      const pending = ENTRIES.find((e) => e.key === this.data.pendingEntry);
      this.setData({ pendingEntry: '' });
      // A phone bound by the login itself (the server required one) needs no second step.
      if (pending && user && !(pending.action === 'phone' && user.phone)) this.runEntry(pending);
    },

    onLoginClosed() {
      this.setData({ pendingEntry: '' });
    },

    onProfileSaved(event: WechatMiniprogram.CustomEvent<ProfileEventDetail>) {
      this.showUser(event.detail.user);
    },

    onPhoneBound(event: WechatMiniprogram.CustomEvent<PhoneEventDetail>) {
      this.showUser(event.detail.user);
    },

    onLogout() {
      Dialog.confirm({
        context: this,
        selector: '#van-dialog',
        title: '退出登录',
        message: '退出后，查看订单需要重新登录。',
        confirmButtonText: '退出',
        cancelButtonText: '取消',
      }).then(
        () => appAuth().logout().then(() => this.toast('已退出登录')),
        () => undefined, // the user changed their mind
      );
    },

    /** 解除绑定, once the user confirms: this WeChat user then no longer logs in to the account. */
    onUnbind() {
      if (this.data.unbinding) return;
      Dialog.confirm({
        context: this,
        selector: '#van-dialog',
        title: '解除绑定',
        message: `解除后，这个微信将不再登录账号 ${this.data.accountText}，再次使用需要重新绑定。`,
        confirmButtonText: '解除绑定',
        cancelButtonText: '取消',
      }).then(
        () => {
          this.setData({ unbinding: true });
          return unbindAccount(appAuth()).then(
            () => {
              this.setData({ unbinding: false });
              this.toast('已解除绑定');
            },
            (error: unknown) => {
              this.setData({ unbinding: false });
              if (!isSilentError(error)) this.toast(`解除绑定失败：${errorMessage(error)}`);
            },
          );
        },
        () => undefined, // the user changed their mind
      );
    },

    toast(message: string) {
      Toast({ message, context: this, selector: '#van-toast' });
    },
  },
});
