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
});
