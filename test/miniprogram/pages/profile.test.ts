import { isAuthError } from '../../../miniprogram/auth/index';
import { platform, makeUser } from '../support/platform';
import { answerDialog, attr, buttonEvent, dialogOnScreen, exists, load, mount, select, tapButton, textOf, waitFor, type Rendered } from '../support/render';

const profilePage = load('pages/profile/profile');

const COMPLETE = () => makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/avatars/xm.png' });

/** The page after its launch check has settled. */
async function renderPage(): Promise<Rendered> {
  const page = mount(profilePage);
  await waitFor(() => expect(page.instance.data.checking).toBe(false));
  return page;
}

async function loggedIn(): Promise<Rendered> {
  platform().server.user = COMPLETE();
  await platform().auth.login();
  const page = await renderPage();
  await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('小明'));
  return page;
}

const tapCell = (page: Rendered, selector: string) => select(page, selector, '.van-cell').dispatchEvent('tap');
const panelText = (page: Rendered) => textOf(select(page, '#login'));

describe('profile page, logged out', () => {
  test('shows a placeholder avatar, "未登录" and a login button', async () => {
    const page = await renderPage();

    expect(textOf(select(page, '.nickname'))).toBe('未登录');
    expect(exists(page, '.avatar-placeholder')).toBe(true);
    expect(exists(page, '.avatar')).toBe(false);
    expect(exists(page, '#header-login')).toBe(true);
    expect(exists(page, '#logout')).toBe(false);
    expect(textOf(page)).toContain('我的订单');
  });

  test('the login button opens the login panel, and logging in there updates the header live', async () => {
    platform().server.user = COMPLETE();
    const page = await renderPage();

    tapButton(page, '#header-login');
    await waitFor(() => expect(panelText(page)).toContain('微信一键登录'));
    tapButton(page, '#login', '#login-button');

    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('小明'));
    expect(attr(select(page, '.avatar'), 'src')).toBe('https://cdn.test/avatars/xm.png');
    expect(exists(page, '#header-login')).toBe(false);
    expect(platform().fake.stats.logins).toBe(1);
  });

  test('a gated entry opens the login panel instead of navigating, then continues after the login', async () => {
    platform().server.user = COMPLETE();
    const page = await renderPage();

    tapCell(page, '#entry-orders');
    await waitFor(() => expect(panelText(page)).toContain('微信一键登录'));
    expect(platform().navigations).toEqual([]);
    tapButton(page, '#login', '#login-button');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/orders/orders' }]));
  });

  test('on a server that asks for a bind, the login sheet closes and the bind page opens, the gated entry forgotten', async () => {
    platform().fake.binding.required = true;
    const page = await renderPage();
    tapCell(page, '#entry-orders');
    await waitFor(() => expect(panelText(page)).toContain('微信一键登录'));

    tapButton(page, '#login', '#login-button');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/bind/bind' }]));
    await waitFor(() => expect(select(page, '#login').instance.data.show).toBe(false));
    expect(page.instance.data.pendingEntry).toBe('');
    expect(textOf(select(page, '.nickname'))).toBe('未登录');
  });

  test('closing the panel forgets the gated entry', async () => {
    const page = await renderPage();
    tapCell(page, '#entry-orders');
    await waitFor(() => expect(page.instance.data.pendingEntry).toBe('orders'));

    (select(page, '#login').instance as unknown as { close(): void }).close();

    await waitFor(() => expect(page.instance.data.pendingEntry).toBe(''));
    expect(platform().navigations).toEqual([]);
  });

  test('an entry that needs no login works while logged out', async () => {
    const page = await renderPage();

    tapCell(page, '#entry-privacy');

    await waitFor(() => expect(platform().privacy.contractOpened).toBe(1));
    expect(panelText(page)).not.toContain('微信一键登录');
  });

  test('explains why the silent login at launch failed', async () => {
    platform().fake.route('/auth/login', () => ({ fail: 'request:fail network is down' }));
    const launch = platform().auth.ensureSession();
    // What app.ts does with the launch failure.
    launch.catch((error: unknown) => {
      if (isAuthError(error)) platform().app.globalData.launchError = error;
    });

    const page = mount(profilePage);
    expect(page.instance.data.checking).toBe(true);
    await waitFor(() => expect(page.instance.data.checking).toBe(false));

    expect(textOf(select(page, '.login-hint'))).toBe('自动登录失败：网络不可用，请检查网络后重试');
    expect(textOf(select(page, '.nickname'))).toBe('未登录');
  });
});

describe('profile page, logged in', () => {
  test('a user without a nickname is offered to complete the profile, and the editor says 完善资料', async () => {
    platform().server.user = makeUser();
    await platform().auth.login();
    const page = await renderPage();
    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('未设置昵称'));
    expect(textOf(select(page, '.edit-profile'))).toContain('完善头像和昵称');

    select(page, '.edit-profile').dispatchEvent('tap');

    await waitFor(() => expect(panelText(page)).toContain('完善资料'));
    expect(panelText(page)).toContain('跳过');
  });

  test('shows the avatar, the nickname and an edit entry', async () => {
    const page = await loggedIn();

    expect(attr(select(page, '.avatar'), 'src')).toBe('https://cdn.test/avatars/xm.png');
    expect(exists(page, '.edit-profile')).toBe(true);
    expect(exists(page, '#header-login')).toBe(false);
    expect(exists(page, '#logout')).toBe(true);
  });

  test('a gated entry navigates at once', async () => {
    const page = await loggedIn();

    tapCell(page, '#entry-orders');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/orders/orders' }]));
    expect(panelText(page)).not.toContain('微信一键登录');
  });

  test('on show, it refreshes the user from the server', async () => {
    const page = await loggedIn();
    platform().server.user = makeUser({ nickname: '小明改名了', avatarUrl: 'https://cdn.test/avatars/xm.png' });

    (page.instance as unknown as { onShow(): void }).onShow();

    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('小明改名了'));
    expect(platform().fake.sentTo('/api/profile')).toHaveLength(1);
  });

  test('tapping the header opens the profile editor, worded as an edit and filled with the current profile', async () => {
    const page = await loggedIn();
    expect(textOf(select(page, '.edit-profile'))).toContain('编辑资料');

    select(page, '.edit-profile').dispatchEvent('tap');

    await waitFor(() => expect(panelText(page)).toContain('编辑资料'));
    expect(panelText(page)).toContain('取消');
    expect(panelText(page)).not.toContain('完善资料');
    expect(panelText(page)).not.toContain('跳过');
    const panel = select(page, '#login');
    expect(panel.instance.data.nickname).toBe('小明');
    expect(attr(select(panel, '.avatar-picker__image'), 'src')).toBe('https://cdn.test/avatars/xm.png');

    // The form's value wins over the prefilled one: WeChat may have changed it after its check.
    select(panel, '.profile-form').dispatchEvent('submit', { detail: { value: { nickname: '小红' } } });
    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('小红'));
    expect(platform().fake.sentTo('/api/profile').filter((r) => r.method === 'PUT').map((r) => r.data)).toEqual([{ nickname: '小红' }]);
  });

  test('logout asks first, does nothing on cancel, and clears everything on confirm', async () => {
    const page = await loggedIn();

    tapCell(page, '#logout');
    await waitFor(() => expect(textOf(select(page, '#van-dialog'))).toContain('退出后，查看订单需要重新登录'));
    expect(dialogOnScreen(page)).toBe(true);
    expect(platform().auth.getSession()).not.toBeNull();
    answerDialog(page, 'cancel');
    await waitFor(() => expect(dialogOnScreen(page)).toBe(false));
    expect(platform().auth.getSession()).not.toBeNull();
    expect(platform().fake.sentTo('/auth/logout')).toHaveLength(0);

    tapCell(page, '#logout');
    await waitFor(() => expect(select(page, '#van-dialog').data.show).toBe(true));
    answerDialog(page, 'confirm');

    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('未登录'));
    expect(platform().auth.getSession()).toBeNull();
    expect(exists(page, '#header-login')).toBe(true);
    expect(exists(page, '#logout')).toBe(false);
    await waitFor(() => expect(platform().fake.sentTo('/auth/logout')).toHaveLength(1));
    await waitFor(() => expect(textOf(select(page, '#van-toast'))).toContain('已退出登录'));
  });

  test('follows a logout and an expired session made elsewhere, without re-reading storage', async () => {
    const page = await loggedIn();

    await platform().auth.logout();
    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('未登录'));
    await platform().auth.login();
    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('小明'));

    platform().fake.expireAllSessions();
    platform().fake.route('/auth/login', () => ({ fail: 'request:fail network is down' }));
    await expect(platform().auth.request({ url: '/api/profile' })).rejects.toMatchObject({ code: 'LOGIN_FAILED' });

    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('未登录'));
    expect(textOf(select(page, '.login-hint'))).toBe('登录已过期，请重新登录');
  });
});

describe('profile page, the phone number', () => {
  const phoneCell = (page: Rendered) => select(page, '#entry-phone');

  test('the 手机号 cell says 未绑定, and binding there shows the masked number live', async () => {
    const page = await loggedIn();
    await waitFor(() => expect(textOf(phoneCell(page))).toBe('手机号未绑定'));

    tapCell(page, '#entry-phone');
    await waitFor(() => expect(panelText(page)).toContain('使用微信手机号'));
    buttonEvent(select(page, '#login'), '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:ok', code: 'c1' });

    // Bound, the cell reads as a setting: its name and its value.
    await waitFor(() => expect(textOf(phoneCell(page))).toBe('手机号138****8000'));
    expect(platform().server.phoneCodes).toEqual(['c1']);
  });

  test('a bound number is shown masked, and the cell offers to change it', async () => {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', phone: '139****0000' });
    await platform().auth.login();
    const page = await renderPage();
    await waitFor(() => expect(textOf(phoneCell(page))).toContain('139****0000'));

    tapCell(page, '#entry-phone');

    await waitFor(() => expect(panelText(page)).toContain('更换手机号'));
    expect(panelText(page)).toContain('当前绑定 139****0000');
  });

  test('logged out, the cell logs in first, then opens the phone step', async () => {
    platform().server.user = COMPLETE();
    const page = await renderPage();
    expect(textOf(phoneCell(page))).not.toContain('未绑定');

    tapCell(page, '#entry-phone');
    await waitFor(() => expect(panelText(page)).toContain('微信一键登录'));
    tapButton(page, '#login', '#login-button');

    await waitFor(() => expect(panelText(page)).toContain('使用微信手机号'));
    expect(textOf(select(page, '#login', '.login-panel__title'))).toBe('绑定手机号');
    expect(platform().fake.stats.logins).toBe(1);
  });

  test('logged out on a server that requires a phone, the login binds it once, with no second phone step', async () => {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', phoneRequired: true });
    const page = await renderPage();

    tapCell(page, '#entry-phone');
    tapButton(page, '#login', '#login-button');
    await waitFor(() => expect(panelText(page)).toContain('根据平台要求'));
    buttonEvent(select(page, '#login'), '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:ok', code: 'c1' });

    await waitFor(() => expect(textOf(phoneCell(page))).toContain('138****8000'));
    await waitFor(() => expect(select(page, '#login').instance.data.show).toBe(false));
    expect(platform().server.phoneCodes).toEqual(['c1']);
  });
});

describe('profile page, bound to a platform account', () => {
  async function boundUser(): Promise<Rendered> {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/avatars/xm.png', account: { name: 'A1001', displayName: '张三' } });
    await platform().auth.login();
    const page = await renderPage();
    await waitFor(() => expect(exists(page, '#bound-account')).toBe(true));
    return page;
  }

  test('shows the bound account by name and number, and 解除绑定', async () => {
    const page = await boundUser();

    expect(textOf(select(page, '#bound-account'))).toContain('张三（A1001）');
    expect(exists(page, '#unbind')).toBe(true);
  });

  test('a user bound to no account sees neither', async () => {
    const page = await loggedIn();

    expect(exists(page, '#bound-account')).toBe(false);
    expect(exists(page, '#unbind')).toBe(false);
  });

  test('解除绑定 asks first and does nothing on cancel; on confirm it unbinds and the user is logged out', async () => {
    const page = await boundUser();

    tapCell(page, '#unbind');
    await waitFor(() => expect(dialogOnScreen(page)).toBe(true));
    await waitFor(() => expect(textOf(page)).toContain('这个微信将不再登录账号 张三（A1001）'));
    answerDialog(page, 'cancel');
    await waitFor(() => expect(dialogOnScreen(page)).toBe(false));
    expect(platform().fake.sentTo('/auth/binding')).toHaveLength(0);

    tapCell(page, '#unbind');
    await waitFor(() => expect(dialogOnScreen(page)).toBe(true));
    answerDialog(page, 'confirm');

    await waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('未登录'));
    expect(platform().fake.sentTo('/auth/binding').map((r) => r.method)).toEqual(['DELETE']);
    expect(platform().fake.sentTo('/auth/logout')).toHaveLength(0);
    expect(platform().auth.getSession()).toBeNull();
  });

  test('a failed unbind says so and keeps the user logged in', async () => {
    const page = await boundUser();
    platform().fake.route('/auth/binding', () => ({ fail: 'request:fail network is down' }));

    tapCell(page, '#unbind');
    await waitFor(() => expect(dialogOnScreen(page)).toBe(true));
    answerDialog(page, 'confirm');

    await waitFor(() => expect(textOf(page)).toContain('解除绑定失败：网络不可用'));
    expect(platform().auth.getSession()).not.toBeNull();
    expect(exists(page, '#bound-account')).toBe(true);
  });
});
