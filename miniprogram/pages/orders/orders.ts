/**
 * 我的订单: an authenticated list with loading, empty and error states and pull-to-refresh.
 * An expired session is healed inside the auth service's request (one login, one retry), so
 * this page only ever sees the orders or a real failure. A server that requires a phone
 * (403 PHONE_REQUIRED) gets the login panel's phone step instead of an error.
 */
import type { DoneEventDetail, LoginPanel } from '../../components/login-panel/events';
import { listLoad } from '../../behaviors/list-load';
import { appAuth } from '../../services/app-context';
import { fetchOrders, toOrderView, type OrderView } from '../../services/orders';
import { isPhoneRequired } from '../../services/phone';

const ordersList = listLoad<OrderView>({
  fetch: async (auth) => (await fetchOrders(auth)).map(toOrderView),
  handleFailure(page, error) {
    if (!isPhoneRequired(error)) return false;
    page.setData({ status: 'phone' });
    page.onBindPhone();
    return true;
  },
});

Component({
  behaviors: [ordersList],

  methods: {
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
  },
});
