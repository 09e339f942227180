/**
 * 我的订单: an authenticated list with loading, empty and error states and pull-to-refresh.
 * An expired session is healed inside the auth service's request (one login, one retry), so
 * this page only ever sees the orders or a real failure.
 */
import { appAuth } from '../../services/app-context';
import { fetchOrders, toOrderView, type OrderView } from '../../services/orders';
import { errorMessage, isConnectionError, isSilentError } from '../../utils/error-message';

type Status = 'loading' | 'ready' | 'error';

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
        if (latestLoad.get(this) !== ticket || isSilentError(error)) return;
        this.setData({ status: 'error', errorMessage: errorMessage(error), errorImage: isConnectionError(error) ? 'network' : 'error' });
      }
    },
  },
});
