/**
 * 首页: a greeting, an inline login panel while logged out, and the ways into the app.
 * Orders need a login: the profile tab handles that, so this page sends the user there.
 */
import type { DoneEventDetail, LoginPanel } from '../../components/login-panel/events';
import { appAuth } from '../../services/app-context';
import { dropSubscription, keepSubscription, watchSession } from '../../services/session-watch';
import type { User } from '../../../typings/api';

/** What the hero says to whoever is (not) logged in. */
function hero(user: User | null) {
  if (!user) return { greeting: '欢迎使用', intro: '一键登录，完善头像昵称，登录后查看你的订单。', needsProfile: false };
  // No nickname yet: greeting them by WeChat's placeholder name ("微信用户") reads like a bug.
  if (!user.nickname) return { greeting: '你好', intro: '设置头像和昵称，让大家认识你。', needsProfile: true };
  return { greeting: `你好，${user.nickname}`, intro: '欢迎回来，可以查看订单或管理个人资料。', needsProfile: !user.profileComplete };
}

Component({
  data: {
    ...hero(null),
    user: null as User | null,
    showLogin: false,
  },

  lifetimes: {
    attached() {
      const auth = appAuth();
      // The inline panel stays up after a login until its completion step is done (bind:done).
      keepSubscription(this, watchSession(auth, (user) => this.showUser(user, user ? {} : { showLogin: true })));
      const session = auth.getSession();
      this.showUser(session ? session.user : null);
      if (!session) auth.ready().then((ready) => this.showUser(ready ? ready.user : null, { showLogin: !ready }));
    },
    detached() {
      dropSubscription(this);
    },
  },

  methods: {
    showUser(user: User | null, extra: { showLogin?: boolean } = {}) {
      this.setData({ user, ...hero(user), ...extra });
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
