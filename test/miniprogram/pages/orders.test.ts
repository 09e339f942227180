import type { Order } from '../../../typings/api';
import { deferred } from '../../support/fake-wx';
import { platform, makeUser } from '../support/platform';
import { buttonEvent, exists, load, mount, select, tapButton, textOf, tick, waitFor, type Found, type Rendered } from '../support/render';

const ordersPage = load('pages/orders/orders');

const ORDER: Order = { id: 'o1', title: '手冲咖啡豆 250g', amountFen: 6800, status: 'paid', createdAt: new Date(2026, 10, 20, 9, 5).getTime() };

interface OrdersPage {
  onLoad(): Promise<void>;
  onPullDownRefresh(): Promise<void>;
}
const pageOf = (page: Rendered) => page.instance as unknown as OrdersPage;

async function openPage(): Promise<Rendered> {
  platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
  await platform().auth.login();
  const page = mount(ordersPage);
  pageOf(page).onLoad();
  return page;
}

describe('orders page', () => {
  test('shows a loading state until the orders arrive, then lists them', async () => {
    platform().server.orders = [ORDER];
    const release = deferred<void>();
    const serve = platform().fake;
    const original = { ...platform().server };
    serve.route('/api/orders', async () => {
      await release.promise;
      return { statusCode: 200, data: { orders: original.orders } };
    });

    const page = await openPage();
    await waitFor(() => expect(textOf(page)).toContain('加载中…'));
    expect(exists(page, '.orders-empty')).toBe(false);
    release.resolve();

    await waitFor(() => expect(textOf(page)).toContain('手冲咖啡豆 250g'));
    expect(textOf(page)).toContain('¥68.00');
    expect(textOf(page)).toContain('待发货');
    expect(textOf(page)).toContain('2026-11-20 09:05');
    expect(textOf(page)).not.toContain('加载中…');
  });

  test('shows the empty state when there are no orders, with a way back to 首页', async () => {
    const page = await openPage();

    await waitFor(() => expect(exists(page, '.orders-empty')).toBe(true));
    expect(textOf(page)).toContain('暂无订单');
    expect(exists(page, '.orders-error')).toBe(false);
    tapButton(page, '#go-home');
    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/index/index' }]));
  });

  test('each status has its own tag type: waiting for payment warns, waiting for the shop informs, on its way succeeds, finished is grey', async () => {
    const statuses: Order['status'][] = ['pending', 'paid', 'shipped', 'completed'];
    platform().server.orders = statuses.map((status, i) => ({ ...ORDER, id: `o${i}`, status }));
    const page = await openPage();
    await waitFor(() => expect(textOf(page)).toContain('已完成'));

    const tags = page.querySelectorAll('.order-status') as Found[];
    const shown = tags.map((tag) => [textOf(tag), (tag.data as { type: string }).type]);
    expect(shown).toEqual([
      ['待付款', 'warning'],
      ['待发货', 'primary'],
      ['已发货', 'success'],
      ['已完成', 'default'],
    ]);
  });

  test('a failure to connect shows the network picture, a server failure the error one', async () => {
    platform().fake.route('/api/orders', () => ({ fail: 'request:fail timeout' }));
    const page = await openPage();
    await waitFor(() => expect(exists(page, '.orders-error')).toBe(true));
    expect((select(page, '.orders-error').data as { image: string }).image).toBe('network');

    platform().fake.route('/api/orders', () => ({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } }));
    tapButton(page, '#retry');
    await waitFor(() => expect(textOf(select(page, '.orders-error'))).toContain('服务器繁忙'));
    expect((select(page, '.orders-error').data as { image: string }).image).toBe('error');
  });

  test('shows the error state with its message, and retry loads again', async () => {
    platform().fake.route('/api/orders', () => ({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } }));
    const page = await openPage();

    await waitFor(() => expect(exists(page, '.orders-error')).toBe(true));
    expect(textOf(select(page, '.orders-error'))).toContain('服务器繁忙，请稍后重试');
    platform().server.orders = [ORDER];
    platform().fake.route('/api/orders', () => ({ statusCode: 200, data: { orders: [ORDER] } }));
    tapButton(page, '#retry');

    await waitFor(() => expect(textOf(page)).toContain('手冲咖啡豆 250g'));
    expect(exists(page, '.orders-error')).toBe(false);
    expect(platform().fake.sentTo('/api/orders')).toHaveLength(2);
  });

  test('offline, it says so', async () => {
    platform().fake.route('/api/orders', () => ({ fail: 'request:fail network is down' }));
    const page = await openPage();

    await waitFor(() => expect(textOf(select(page, '.orders-error'))).toContain('网络不可用，请检查网络后重试'));
    // GET is idempotent: the auth service tried it three times before giving up.
    expect(platform().fake.sentTo('/api/orders')).toHaveLength(3);
  });

  test('pull-to-refresh reloads the list, keeps the old one on screen meanwhile, and stops the indicator', async () => {
    platform().server.orders = [ORDER];
    const page = await openPage();
    await waitFor(() => expect(textOf(page)).toContain('手冲咖啡豆 250g'));
    platform().server.orders = [ORDER, { ...ORDER, id: 'o2', title: '陶瓷滤杯', amountFen: 12900, status: 'shipped' }];

    const refreshed = pageOf(page).onPullDownRefresh();
    expect(textOf(page)).toContain('手冲咖啡豆 250g');
    expect(textOf(page)).not.toContain('加载中…');
    await refreshed;

    expect(textOf(page)).toContain('陶瓷滤杯');
    expect(textOf(page)).toContain('已发货');
    expect(platform().stopPullDownRefresh).toHaveBeenCalledTimes(1);
  });

  test('an expired session is healed without the user noticing: one login, one retry, the list shown', async () => {
    platform().server.orders = [ORDER];
    const page = await openPage();
    await waitFor(() => expect(textOf(page)).toContain('手冲咖啡豆 250g'));
    const loginsBefore = platform().fake.stats.logins;
    platform().fake.expireAllSessions();

    await pageOf(page).onPullDownRefresh();

    expect(platform().fake.stats.logins).toBe(loginsBefore + 1);
    expect(platform().fake.sentTo('/api/orders')).toHaveLength(3); // the first load, the rejected one, the retry
    expect(textOf(page)).toContain('手冲咖啡豆 250g');
    expect(exists(page, '.orders-error')).toBe(false);
  });

  test('a late answer from an earlier load does not overwrite a newer one', async () => {
    const first = deferred<void>();
    let calls = 0;
    platform().fake.route('/api/orders', async () => {
      if (++calls === 1) {
        await first.promise;
        return { statusCode: 200, data: { orders: [] } };
      }
      return { statusCode: 200, data: { orders: [ORDER] } };
    });
    const page = await openPage();

    await pageOf(page).onPullDownRefresh();
    first.resolve();
    // Once the stale answer is delivered, one more turn lets the page handle it.
    await waitFor(() => expect(platform().fake.stats.inFlight).toBe(0));
    await tick();

    expect(textOf(page)).toContain('手冲咖啡豆 250g');
    expect(exists(page, '.orders-empty')).toBe(false);
  });
});

describe('orders page, on a server that requires a phone', () => {
  async function openGated(): Promise<Rendered> {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', phoneRequired: true });
    platform().server.orders = [ORDER];
    await platform().auth.login();
    const page = mount(ordersPage);
    pageOf(page).onLoad();
    return page;
  }

  test('opens the phone step instead of showing an error for 403 PHONE_REQUIRED', async () => {
    const page = await openGated();

    await waitFor(() => expect(textOf(select(page, '#login'))).toContain('使用微信手机号'));
    expect(select(page, '#login').instance.data.show).toBe(true);
    expect(textOf(select(page, '#login'))).toContain('根据平台要求');
    // The user is logged in already: binding, not logging in.
    expect(textOf(select(page, '#login', '.login-panel__title'))).toBe('绑定手机号');
    expect(textOf(select(page, '#login'))).not.toContain('登录');
    expect(exists(page, '.orders-error')).toBe(false);
    expect(textOf(select(page, '.orders-phone'))).toContain('绑定手机号后即可查看订单');
    // Neither a re-login nor a retry: 403 is not an expired session.
    expect(platform().fake.stats.logins).toBe(1);
    expect(platform().fake.sentTo('/api/orders')).toHaveLength(1);
  });

  test('binding there loads the orders at once', async () => {
    const page = await openGated();
    await waitFor(() => expect(exists(page, '#login', '#phone-button')).toBe(true));

    buttonEvent(select(page, '#login'), '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:ok', code: 'c1' });

    await waitFor(() => expect(textOf(page)).toContain('手冲咖啡豆 250g'));
    expect(platform().server.phoneCodes).toEqual(['c1']);
    expect(platform().fake.sentTo('/api/orders')).toHaveLength(2);
  });

  test('declining leaves a way back to the step, and no error', async () => {
    const page = await openGated();
    await waitFor(() => expect(exists(page, '#login', '#phone-button')).toBe(true));
    const panel = select(page, '#login');
    buttonEvent(panel, '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:fail user deny' });
    tapButton(panel, '#skip-phone');
    await waitFor(() => expect(panel.instance.data.show).toBe(false));

    expect(exists(page, '.orders-error')).toBe(false);
    tapButton(page, '#bind-phone');
    await waitFor(() => expect(textOf(panel)).toContain('使用微信手机号'));
  });

  test.each([
    ['a used-up quota (errno 1400001)', { errMsg: 'getPhoneNumber:fail', errno: 1400001 }, '本小程序的手机号验证次数已用完'],
    ['no permission', { errMsg: 'getPhoneNumber:fail no permission' }, '本小程序暂未开通微信手机号验证'],
  ])('%s is explained with the way on, never a dead end: 暂不绑定 closes the step, nothing is sent, and the page keeps its way back', async (_, detail, reason) => {
    const page = await openGated();
    await waitFor(() => expect(exists(page, '#login', '#phone-button')).toBe(true));
    const panel = select(page, '#login');

    buttonEvent(panel, '#phone-button', 'getphonenumber', detail);

    await waitFor(() => expect(textOf(panel)).toContain(reason));
    expect(textOf(panel)).toContain('需要手机号的功能暂时无法使用');
    // Another tap cannot help: the button is gone, the way on stays.
    expect(exists(page, '#login', '#phone-button')).toBe(false);
    tapButton(panel, '#skip-phone');
    await waitFor(() => expect(panel.instance.data.show).toBe(false));
    expect(platform().fake.sentTo('/auth/phone')).toHaveLength(0);
    expect(exists(page, '.orders-error')).toBe(false);
    expect(textOf(select(page, '.orders-phone'))).toContain('绑定手机号后即可查看订单');
    expect(platform().auth.getSession()).not.toBeNull();
  });

  test('a user the server unbound meanwhile (its bind mode) is taken to the bind page instead of an error with a useless retry', async () => {
    platform().fake.binding.required = true;
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
    // A session from before the unbinding, which the server no longer knows.
    platform().fake.storage.set('auth_session', JSON.stringify({ v: 1, skey: 'skey-gone', expiresAt: Date.now() + 3600_000, user: platform().server.user }));
    const page = mount(ordersPage);
    pageOf(page).onLoad();

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'redirectTo', url: '/pages/bind/bind' }]));
    expect(exists(page, '#retry')).toBe(false);
    expect(platform().fake.stats.logins).toBe(1);
  });
});
