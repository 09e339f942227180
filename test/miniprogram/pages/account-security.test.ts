import { makeUser, platform } from '../support/platform';
import { exists, load, mount, select, tapButton, textOf, waitFor, type Rendered } from '../support/render';

const securityPage = load('pages/account-security/account-security');

async function openPage(fields: Parameters<typeof makeUser>[0] = {}): Promise<Rendered> {
  platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', ...fields });
  await platform().auth.login();
  const page = mount(securityPage);
  (page.instance as unknown as { onShow(): void }).onShow();
  return page;
}

const tapCell = (page: Rendered, selector: string) => select(page, selector, '.van-cell').dispatchEvent('tap');

describe('账号与安全', () => {
  test('lists WeChat always and the phone masked as the server gives it; no platform account in open mode', async () => {
    const page = await openPage({ phone: '138****8000' });

    expect(textOf(select(page, '#identity-wechat'))).toContain('微信');
    expect(textOf(select(page, '#identity-wechat'))).toContain('已关联');
    expect(textOf(select(page, '#identity-phone'))).toContain('138****8000');
    expect(exists(page, '#identity-account')).toBe(false);
    expect(textOf(select(page, '#delete'))).toContain('永久删除账号及其全部数据');
  });

  test('a user without a phone reads 未绑定', async () => {
    const page = await openPage();

    expect(textOf(select(page, '#identity-phone'))).toContain('未绑定');
  });

  test('a user bound to a platform account sees it, and that 注销 keeps it', async () => {
    platform().fake.binding.required = true;
    platform().fake.binding.bound = true;
    platform().fake.binding.account = { name: 'A1001', displayName: '王建国' };
    const page = await openPage();

    expect(textOf(select(page, '#identity-account'))).toContain('王建国（A1001）');
    expect(textOf(select(page, '#delete'))).toContain('平台账号保留');
  });

  test('on show it reads the user again: a phone bound elsewhere since shows', async () => {
    const page = await openPage();
    expect(textOf(select(page, '#identity-phone'))).toContain('未绑定');
    platform().server.user = makeUser({ ...platform().server.user, phone: '139****0001' });

    (page.instance as unknown as { onShow(): void }).onShow();

    await waitFor(() => expect(textOf(select(page, '#identity-phone'))).toContain('139****0001'));
    expect(platform().fake.sentTo('/api/profile')).toHaveLength(2);
  });

  test('a re-read the server answers only after a logout brings nothing of the account back', async () => {
    const page = await openPage({ phone: '138****8000' });
    await waitFor(() => expect(platform().fake.sentTo('/api/profile')).toHaveLength(1));
    let answer = () => undefined as void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const user = platform().server.user;
    platform().fake.route('/api/profile', async () => {
      await answered;
      return { statusCode: 200, data: { user } };
    });

    const reread = (page.instance as unknown as { refreshUser(): Promise<void> }).refreshUser();
    await waitFor(() => expect(platform().fake.sentTo('/api/profile')).toHaveLength(2));
    await platform().auth.logout();
    answer();
    await reread;

    expect(exists(page, '#identity-phone')).toBe(false);
    expect(textOf(page)).not.toContain('138****8000');
  });

  test('导出我的数据 and 注销账号 open their pages', async () => {
    const page = await openPage();

    tapCell(page, '#export');
    tapCell(page, '#delete');

    await waitFor(() =>
      expect(platform().navigations).toEqual([
        { api: 'navigateTo', url: '/pages/account-data/account-data' },
        { api: 'navigateTo', url: '/pages/account-delete/account-delete' },
      ]),
    );
  });

  test('a logout meanwhile leaves nothing of the account on screen, and the way back to 我的', async () => {
    const page = await openPage({ phone: '138****8000' });

    await platform().auth.logout();

    await waitFor(() => expect(exists(page, '#identity-phone')).toBe(false));
    expect(textOf(page)).not.toContain('138****8000');
    tapButton(page, '#go-profile');
    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/profile/profile' }]));
  });
});
