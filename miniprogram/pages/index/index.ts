/**
 * 首页: a greeting, an inline login panel while logged out, and the ways into the app: while
 * logged in, the menus the server grants the user's roles (a staff member also sees 审批).
 * Orders need a login: the profile tab handles that, so this page sends the user there.
 */
import Toast from '@vant/weapp/toast/toast';
import type { DoneEventDetail, LoginPanel } from '../../components/login-panel/events';
import { sessionUser } from '../../behaviors/session-user';
import { appAuth } from '../../services/app-context';
import { fetchMenus } from '../../services/menus';
import { isSilentError } from '../../utils/error-message';
import type { MenuItem, User } from '../../../typings/api';

/** What the hero says to whoever is (not) logged in. */
function hero(user: User | null) {
  if (!user) return { greeting: '欢迎使用', intro: '一键登录，完善头像昵称，登录后查看你的订单。', needsProfile: false };
  // No nickname yet: greeting them by WeChat's placeholder name ("微信用户") reads like a bug.
  if (!user.nickname) return { greeting: '你好', intro: '设置头像和昵称，让大家认识你。', needsProfile: true };
  return { greeting: `你好，${user.nickname}`, intro: '欢迎回来，可以查看订单或管理个人资料。', needsProfile: !user.profileComplete };
}

Component({
  behaviors: [sessionUser],

  data: {
    ...hero(null),
    showLogin: false,
    /** The logged-in user's menus; empty until the server has said, and while logged out. */
    menus: [] as MenuItem[],
  },

  lifetimes: {
    // After the behaviour's: the stored user is on screen, and every change followed.
    attached() {
      const auth = appAuth();
      if (!auth.getSession()) auth.ready().then((ready) => this.showUser(ready ? ready.user : null, { showLogin: !ready }));
    },
  },

  methods: {
    /** Page show: roles may have changed since the menus were read (or the login happened elsewhere). */
    onShow() {
      this.loadMenus();
    },

    /** The inline panel stays up after a login until its completion step is done (bind:done). */
    onSessionChange(user: User | null) {
      this.showUser(user, user ? {} : { showLogin: true, menus: [] });
      if (user) this.loadMenus();
    },

    showUser(user: User | null, extra: { showLogin?: boolean; menus?: MenuItem[] } = {}) {
      this.setData({ user, ...hero(user), ...extra });
    },

    /** The menus of whoever is logged in now; nothing to do while logged out. A failure keeps the entries shown. */
    loadMenus() {
      const auth = appAuth();
      if (!auth.getSession()) return;
      fetchMenus(auth).then(
        ({ user, menus }) => {
          if (auth.getSession()) this.showUser(user, { menus });
        },
        (error: unknown) => {
          if (!isSilentError(error)) console.warn('[index] loading the menus failed', error);
        },
      );
    },

    /** A menu entry: the page the server named. One this version cannot open says so instead of failing silently. */
    onMenu(event: WechatMiniprogram.BaseEvent<Record<string, never>, { path: string }>) {
      wx.navigateTo({
        url: event.currentTarget.dataset.path,
        fail: () => Toast({ message: '暂时无法打开，请更新小程序后再试', context: this, selector: '#van-toast' }),
      });
    },

    onLoginDone(event: WechatMiniprogram.CustomEvent<DoneEventDetail>) {
      this.showUser(event.detail.user, { showLogin: false });
    },

    /** The inline panel, opened at its profile step for the logged-in user. */
    onCompleteProfile() {
      const { user } = this.data;
      if (!user) return;
      this.setData({ showLogin: true }, () => (this.selectComponent('#login') as unknown as LoginPanel).open('profile', user));
    },

    onOrders() {
      if (appAuth().getSession()) wx.navigateTo({ url: '/pages/orders/orders' });
      else this.onProfile();
    },

    onProfile() {
      wx.switchTab({ url: '/pages/profile/profile' });
    },
  },
});
