/**
 * 首页: a greeting, an inline login panel while logged out, and the ways into the app.
 * Orders need a login: the profile tab handles that, so this page sends the user there.
 */
import type { DoneEventDetail } from '../../components/login-panel/events';
import { appAuth } from '../../services/app-context';
import { DEFAULT_NICKNAME } from '../../services/profile';
import { dropSubscription, keepSubscription, watchSession } from '../../services/session-watch';
import type { User } from '../../../typings/api';

const greet = (user: User | null) => (user ? `你好，${user.nickname || DEFAULT_NICKNAME}` : '欢迎使用');

Component({
  data: {
    greeting: greet(null),
    showLogin: false,
  },

  lifetimes: {
    attached() {
      const auth = appAuth();
      // The inline panel stays up after a login until its completion step is done (bind:done).
      keepSubscription(this, watchSession(auth, (user) => this.setData({ greeting: greet(user), ...(user ? {} : { showLogin: true }) })));
      const session = auth.getSession();
      this.setData({ greeting: greet(session ? session.user : null) });
      if (!session) auth.ready().then((ready) => this.setData({ showLogin: !ready, greeting: greet(ready ? ready.user : null) }));
    },
    detached() {
      dropSubscription(this);
    },
  },

  methods: {
    onLoginDone(event: WechatMiniprogram.CustomEvent<DoneEventDetail>) {
      this.setData({ showLogin: false, greeting: greet(event.detail.user) });
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
