import { platform } from '../support/platform';
import { load, mount, select, tapButton, textOf, waitFor, type Rendered } from '../support/render';

const bindPage = load('pages/bind/bind');

/** The server's bind mode: this WeChat user is bound to no account yet. */
function bindMode(): void {
  platform().fake.binding.required = true;
}

/** Types into a van-field as a finger would (its inner input). */
function type(page: Rendered, field: '#account' | '#password', value: string): void {
  select(page, field, '.input-class').dispatchEvent('input', { detail: { value } });
}

async function submit(page: Rendered, account: string, password: string): Promise<void> {
  type(page, '#account', account);
  type(page, '#password', password);
  await waitFor(() => expect(page.instance.data).toMatchObject({ account, password }));
  tapButton(page, '#bind-button');
}

const errorText = (page: Rendered) => textOf(select(page, '.bind-error'));

describe('绑定已有账号', () => {
  test('says who the mini-program is for and why the account is needed, and offers a way out', () => {
    const page = mount(bindPage);

    expect(textOf(page)).toContain('本小程序供已在平台开通账号的员工、学生和会员使用');
    expect(textOf(page)).toContain('暂不绑定');
    expect(textOf(select(page, '#bind-button'))).toBe('绑定并登录');
  });

  test('binds with the ticket the last login was given, logs in, and goes to the home page', async () => {
    bindMode();
    await platform().auth.login().catch((error) => (platform().app.globalData.bindTicket = error.ticket));
    const page = mount(bindPage);

    await submit(page, ' A1001 ', 'right-password');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/index/index' }]));
    expect(platform().fake.sentTo('/auth/bind').map((r) => r.data)).toEqual([{ bindTicket: 'ticket-1', account: 'A1001', password: 'right-password' }]);
    expect(platform().auth.getSession()!.user.account).toEqual({ name: 'A1001', displayName: '张三' });
    expect(platform().fake.stats.logins).toBe(1);
    // Nothing keeps the password once it has done its job.
    expect(page.instance.data.password).toBe('');
    expect(platform().app.globalData.bindTicket).toBeNull();
  });

  test('without a ticket yet, fetches one silently with one login, then binds', async () => {
    bindMode();
    const page = mount(bindPage);

    await submit(page, 'A1001', 'right-password');

    await waitFor(() => expect(platform().auth.getSession()).not.toBeNull());
    expect(platform().fake.stats.logins).toBe(1);
    expect(platform().fake.sentTo('/auth/bind')).toHaveLength(1);
  });

  test('asks for what is missing before sending anything', async () => {
    bindMode();
    const page = mount(bindPage);

    tapButton(page, '#bind-button');
    await waitFor(() => expect(errorText(page)).toBe('请输入账号'));
    type(page, '#account', 'A1001');
    await waitFor(() => expect(page.instance.data.account).toBe('A1001'));
    tapButton(page, '#bind-button');
    await waitFor(() => expect(errorText(page)).toBe('请输入密码'));

    expect(platform().fake.sent).toHaveLength(0);
  });

  test.each<[string, () => unknown, string, string, string?]>([
    ['a wrong password', () => undefined, 'wrong', '账号或密码错误'],
    ['an unknown account, in the very same words', () => undefined, 'right-password', '账号或密码错误', 'B2002'],
    ['an account bound to another WeChat user', () => void platform().fake.binding.boundElsewhere.add('A1001'), 'right-password', '该账号已绑定其他微信，如需更换请联系管理员'],
    ['too many attempts, with the wait', () => (platform().fake.binding.retryAfterSeconds = 840), 'right-password', '尝试次数过多，请 14 分钟后再试'],
    ['too many attempts, a short wait in seconds', () => (platform().fake.binding.retryAfterSeconds = 30), 'right-password', '尝试次数过多，请 30 秒后再试'],
  ])('%s: says so in plain Chinese, and stays on the page, logged out', async (_, arrange, password, message, account = 'A1001') => {
    bindMode();
    arrange();
    const page = mount(bindPage);

    await submit(page, account, password);

    await waitFor(() => expect(errorText(page)).toBe(message));
    expect(platform().auth.getSession()).toBeNull();
    expect(platform().navigations).toEqual([]);
    expect(page.instance.data.binding).toBe(false);
  });

  test('reads the wait from a lower-case retry-after too (HTTP/2 and Node name headers so), and says 稍后 without one', async () => {
    bindMode();
    const limited = (header?: Record<string, string>) => () => ({ statusCode: 429, data: { error: { code: 'RATE_LIMITED', message: 'slow down' } }, header });
    platform().fake.route('/auth/bind', limited({ 'retry-after': '61' }));
    const page = mount(bindPage);

    await submit(page, 'A1001', 'right-password');
    await waitFor(() => expect(errorText(page)).toBe('尝试次数过多，请 2 分钟后再试'));

    platform().fake.route('/auth/bind', limited());
    tapButton(page, '#bind-button');
    await waitFor(() => expect(errorText(page)).toBe('尝试次数过多，请稍后再试'));
  });

  test('an expired ticket says 绑定已过期; the next try binds with the fresh ticket fetched meanwhile, with no further login', async () => {
    bindMode();
    await platform().auth.login().catch((error) => (platform().app.globalData.bindTicket = error.ticket));
    platform().fake.expireTickets();
    const page = mount(bindPage);

    await submit(page, 'A1001', 'right-password');
    await waitFor(() => expect(errorText(page)).toBe('绑定已过期，请再提交一次'));
    expect(platform().fake.stats.logins).toBe(2);
    expect(platform().app.globalData.bindTicket!.bindTicket).toBe('ticket-2');

    tapButton(page, '#bind-button');

    await waitFor(() => expect(platform().auth.getSession()).not.toBeNull());
    expect(platform().fake.sentTo('/auth/bind').map((r) => (r.data as { bindTicket: string }).bindTicket)).toEqual(['ticket-1', 'ticket-2']);
    expect(platform().fake.stats.logins).toBe(2);
  });

  test('a kept ticket at the end of its life is replaced before it is sent, so the user never sees 绑定已过期 for it', async () => {
    bindMode();
    platform().app.globalData.bindTicket = { bindTicket: 'ticket-old', expiresAt: Date.now() + 5_000 };
    const page = mount(bindPage);

    await submit(page, 'A1001', 'right-password');

    await waitFor(() => expect(platform().auth.getSession()).not.toBeNull());
    expect(platform().fake.sentTo('/auth/bind').map((r) => (r.data as { bindTicket: string }).bindTicket)).toEqual(['ticket-1']);
  });

  test('暂不绑定 goes back to the home page, sending nothing', async () => {
    const page = mount(bindPage);

    tapButton(page, '#skip-bind');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/index/index' }]));
    expect(platform().fake.sent).toHaveLength(0);
  });
});
