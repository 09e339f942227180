/**
 * 我的订单: an authenticated list with loading, empty and error states and pull-to-refresh.
 * An expired session is healed inside the auth service's request (one login, one retry), so
 * this page only ever sees the orders or a real failure. A server that requires a phone
 * (403 PHONE_REQUIRED) gets the login panel's phone step instead of an error.
 */
import type { DoneEventDetail, LoginPanel } from '../../components/login-panel/events';
import { appAuth } from '../../services/app-context';
import { replaceWithBindPage } from '../../services/binding';
import { fetchOrders, toOrderView, type OrderView } from '../../services/orders';
import { isPhoneRequired } from '../../services/phone';
import { errorMessage, isConnectionError, isSilentError } from '../../utils/error-message';

type Status = 'loading' | 'ready' | 'error' | 'phone';

/** The latest load per page: an older answer arriving late must not overwrite a newer one. */
const latestLoad = new WeakMap<object, number>();

Component({
  data: {
    status: 'loading' as Status,
    orders: [] as OrderView[],
    errorMessage: '',
    /** Vant's empty-state picture for the failure: no connection, or the server failed. */
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

    /** The phone step, for the user the server refused until they bind a phone. */
    onBindPhone() {
      const session = appAuth().getSession();
      if (!session) return;
      const panel = this.selectComponent('#login') as unknown as LoginPanel;
      panel.open('phone', { ...session.user, phoneRequired: true });
    },

    /** The phone step is over: with a number bound, the orders can be read. */
    onPhoneDone(event: WechatMiniprogram.CustomEvent<DoneEventDetail>) {
      const { user } = event.detail;
      if (user && user.phone) this.load();
    },

    /** The empty list's way forward: back to where the app starts. */
    onGoHome() {
      wx.switchTab({ url: '/pages/index/index' });
    },

    /** A refresh keeps the current list on screen (the pull-down indicator shows progress). */
    async load(refreshing = false) {
      const ticket = (latestLoad.get(this) || 0) + 1;
      latestLoad.set(this, ticket);
      if (!refreshing || this.data.status !== 'ready') this.setData({ status: 'loading', errorMessage: '' });
      try {
        const orders = (await fetchOrders(appAuth())).map(toOrderView);
        if (latestLoad.get(this) === ticket) this.setData({ status: 'ready', orders });
      } catch (error) {
        if (latestLoad.get(this) !== ticket || isSilentError(error) || replaceWithBindPage(error)) return;
        if (isPhoneRequired(error)) {
          this.setData({ status: 'phone' });
          this.onBindPhone();
          return;
        }
        this.setData({ status: 'error', errorMessage: errorMessage(error), errorImage: isConnectionError(error) ? 'network' : 'error' });
      }
    },
  },
});
