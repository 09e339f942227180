import fs from 'fs';
import path from 'path';
import { platform, makeUser } from '../support/platform';
import { exists, load, MINIPROGRAM, mount, select, textOf, waitFor, type Rendered } from '../support/render';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS script that draws the tab icons
const { GLYPHS } = require('../../../scripts/make-tab-icons.js') as { GLYPHS: Record<string, { icons: [string, string] }> };

const indexPage = load('pages/index/index');

/** The page after its launch check has settled. */
async function renderPage(): Promise<Rendered> {
  const page = mount(indexPage);
  // As WeChat opens a page: onShow follows the mount.
  (page.instance as unknown as { onShow(): void }).onShow();
  await waitFor(() => expect(platform().auth.getSession() || page.instance.data.showLogin).toBeTruthy());
  return page;
}

const tapCell = (page: Rendered, selector: string) => select(page, selector, '.van-cell').dispatchEvent('tap');

describe('首页', () => {
  test('logged out, it welcomes the user and shows the inline login panel', async () => {
    const page = await renderPage();

    expect(textOf(select(page, '.greeting'))).toBe('欢迎使用');
    expect(textOf(select(page, '.intro'))).toContain('一键登录');
    await waitFor(() => expect(textOf(select(page, '#login'))).toContain('微信一键登录'));
  });

  test('logged in, it greets the user by name and no longer pitches the login', async () => {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
    await platform().auth.login();
    const page = await renderPage();

    expect(textOf(select(page, '.greeting'))).toBe('你好，小明');
    expect(textOf(select(page, '.intro'))).not.toContain('一键登录');
    expect(exists(page, '#login')).toBe(false);
    expect(exists(page, '#complete-profile')).toBe(false);
  });

  test('a new user without a nickname is not greeted as "微信用户", and is offered to complete the profile inline', async () => {
    await platform().auth.login();
    const page = await renderPage();

    expect(textOf(select(page, '.greeting'))).toBe('你好');
    expect(textOf(page)).not.toContain('微信用户');
    tapCell(page, '#complete-profile');

    await waitFor(() => expect(textOf(select(page, '#login'))).toContain('完善资料'));
    expect(exists(page, '#complete-profile')).toBe(false);
  });

  test('logging in on the page updates the greeting as soon as the flow is done', async () => {
    platform().server.user = makeUser({ nickname: '小红', avatarUrl: 'https://cdn.test/a.png' });
    const page = await renderPage();
    await waitFor(() => expect(exists(page, '#login')).toBe(true));

    select(page, '#login', '#login-button', '.van-button').dispatchEvent('tap');

    await waitFor(() => expect(textOf(select(page, '.greeting'))).toBe('你好，小红'));
    await waitFor(() => expect(exists(page, '#login')).toBe(false));
  });

  test('the entry to the 我的 tab carries the tab’s own name and the glyph of its tab icon', async () => {
    const app = JSON.parse(fs.readFileSync(path.join(MINIPROGRAM, 'app.json'), 'utf8')) as { tabBar: { list: { pagePath: string; text: string }[] } };
    const tab = app.tabBar.list.find((item) => item.pagePath === 'pages/profile/profile')!;
    const page = await renderPage();

    expect(textOf(select(page, '#home-profile'))).toBe(tab.text);
    expect(select(page, '#home-profile').instance.data.icon).toBe(GLYPHS[tab.pagePath].icons[0]);
  });

  test('我的订单 opens the orders when logged in, and the profile tab (which can log in) otherwise', async () => {
    const page = await renderPage();
    tapCell(page, '#home-orders');
    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/profile/profile' }]));

    await platform().auth.login();
    tapCell(page, '#home-orders');
    await waitFor(() => expect(platform().navigations[1]).toEqual({ api: 'navigateTo', url: '/pages/orders/orders' }));
  });

  test('shows a staff member the menus the server sent, 审批 included, and opens the page an entry names', async () => {
    platform().server.user = makeUser({ nickname: '老王', avatarUrl: 'https://cdn.test/a.png', roles: ['staff'] });
    await platform().auth.login();
    const page = await renderPage();

    await waitFor(() => expect(exists(page, '#home-approvals')).toBe(true));
    expect(textOf(select(page, '#home-approvals'))).toBe('审批');
    expect(textOf(select(page, '#home-orders'))).toBe('我的订单');
    tapCell(page, '#home-approvals');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/approvals/approvals' }]));
  });

  test('shows a user of the default role no 审批', async () => {
    await platform().auth.login();
    const page = await renderPage();

    await waitFor(() => expect(page.instance.data.menus.map((m: { key: string }) => m.key)).toEqual(['orders']));
    expect(exists(page, '#home-approvals')).toBe(false);
    expect(textOf(page)).not.toContain('审批');
  });

  test('follows the roles the server has now: a role given since the login shows on the next page show', async () => {
    await platform().auth.login();
    const page = await renderPage();
    await waitFor(() => expect(page.instance.data.menus).toHaveLength(1));

    platform().server.user = makeUser({ roles: ['staff'] });
    (page.instance as unknown as { onShow(): void }).onShow();

    await waitFor(() => expect(exists(page, '#home-approvals')).toBe(true));
  });

  test('leaves out a menu entry this version of the app could not open', async () => {
    platform().fake.route('/auth/session', () => ({
      statusCode: 200,
      data: { user: makeUser(), expiresAt: Date.now() + 3600_000, menus: [{ key: 'web', title: '外部链接', path: 'https://evil.test/', icon: 'link-o' }, { key: 'orders', title: '我的订单', path: '/pages/orders/orders', icon: 'orders-o' }] },
    }));
    await platform().auth.login();
    const page = await renderPage();

    await waitFor(() => expect(page.instance.data.menus.map((m: { key: string }) => m.key)).toEqual(['orders']));
    expect(textOf(page)).not.toContain('外部链接');
  });

  test('a logout takes the menus away', async () => {
    platform().server.user = makeUser({ roles: ['staff'] });
    await platform().auth.login();
    const page = await renderPage();
    await waitFor(() => expect(exists(page, '#home-approvals')).toBe(true));

    await platform().auth.logout();

    await waitFor(() => expect(exists(page, '#home-approvals')).toBe(false));
    expect(page.instance.data.menus).toEqual([]);
  });

  test('on a server that asks for a bind, the inline login opens the bind page and is still there when the user comes back without binding', async () => {
    platform().fake.binding.required = true;
    const page = await renderPage();
    await waitFor(() => expect(exists(page, '#login', '#login-button')).toBe(true));

    select(page, '#login', '#login-button', '.van-button').dispatchEvent('tap');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/bind/bind' }]));
    expect(exists(page, '#login', '#login-button')).toBe(true);
    expect(textOf(select(page, '.greeting'))).toBe('欢迎使用');
  });
});
