import type { AccountExport } from '../../../typings/api';
import { exportOf, makeUser, platform } from '../support/platform';
import { exists, load, mount, select, tapButton, textOf, waitFor, type Rendered } from '../support/render';

const dataPage = load('pages/account-data/account-data');

const at = (month: number, day: number, hour: number, minute: number) => new Date(2026, month - 1, day, hour, minute).getTime();

async function openPage(): Promise<Rendered> {
  await platform().auth.login();
  const page = mount(dataPage);
  void (page.instance as unknown as { onLoad(): Promise<void> }).onLoad();
  return page;
}

/** A bound staff member's export with two sessions and a few events, as the server would send it. */
function boundExport(): AccountExport {
  const user = makeUser({ nickname: '老王', avatarUrl: 'https://cdn.test/a.png', roles: ['staff'], phone: '138****8000', account: { name: 'A1001', displayName: '王建国' }, createdAt: at(11, 1, 8, 0) });
  return {
    ...exportOf(user, at(11, 21, 9, 41)),
    identities: [
      { kind: 'wechat', value: 'oAbC123openid', createdAt: at(11, 1, 8, 0) },
      { kind: 'unionid', value: 'oUnIoN456', createdAt: at(11, 1, 8, 0) },
      { kind: 'phone', value: '+86 13800138000', createdAt: at(11, 2, 10, 30) },
      { kind: 'account', value: 'A1001', createdAt: at(11, 1, 8, 0) },
    ],
    sessions: [
      { createdAt: at(11, 21, 9, 0), lastSeenAt: at(11, 21, 9, 40), expiresAt: at(11, 28, 9, 0), current: true },
      { createdAt: at(11, 18, 20, 5), lastSeenAt: at(11, 19, 7, 12), expiresAt: at(11, 25, 20, 5), current: false },
    ],
    audit: [
      { at: at(11, 2, 10, 30), action: 'phone.bound', actor: 'user', outcome: 'ok', clientNetwork: '203.0.113.0/24' },
      { at: at(11, 21, 9, 0), action: 'login', actor: 'user', outcome: 'ok', clientNetwork: '203.0.113.0/24' },
      { at: at(11, 5, 12, 0), action: 'blocked', actor: 'operator', outcome: 'ok', clientNetwork: null },
      { at: at(11, 6, 12, 0), action: 'something-new', actor: 'system', outcome: 'failed', clientNetwork: null },
    ],
  };
}

describe('我的数据 (导出)', () => {
  test('shows what the server holds: profile, every identity in full, sessions with their times, and the events newest first', async () => {
    platform().server.accountExport = boundExport();
    const page = await openPage();
    await waitFor(() => expect(page.instance.data.status).toBe('ready'));

    expect(textOf(page)).toContain('截至 2026-11-21 09:41');
    expect(textOf(select(page, '.data-profile'))).toContain('老王');
    expect(textOf(select(page, '.data-profile'))).toContain('员工');
    const identities = textOf(select(page, '.data-identities'));
    expect(identities).toContain('oAbC123openid');
    expect(identities).toContain('oUnIoN456');
    expect(identities).toContain('+86 13800138000');
    expect(identities).toContain('王建国（A1001）');
    const sessions = textOf(select(page, '.data-sessions'));
    expect(sessions).toContain('本设备');
    expect(sessions).toContain('其他设备');
    expect(sessions).toContain('最近使用 2026-11-19 07:12');
    expect(sessions).toContain('登录于 2026-11-18 20:05');
    const events = textOf(select(page, '.data-events'));
    expect(events.indexOf('登录')).toBeLessThan(events.indexOf('绑定手机号'));
    expect(events).toContain('账号被限制使用');
    expect(events).toContain('管理员');
    expect(events).toContain('网络 203.0.113.0/24');
    // An action this version does not know is shown as the server wrote it, never dropped.
    expect(events).toContain('something-new');
    expect(platform().fake.sentTo('/api/account/export')).toHaveLength(1);
  });

  test('复制 puts the whole export, as the server sent it, on the clipboard', async () => {
    const sent = boundExport();
    platform().server.accountExport = sent;
    const page = await openPage();
    await waitFor(() => expect(exists(page, '#copy')).toBe(true));

    tapButton(page, '#copy');

    await waitFor(() => expect(platform().clipboard).toHaveLength(1));
    expect(JSON.parse(platform().clipboard[0])).toEqual(sent);
  });

  test('a long history lists the 20 latest and says how many there are', async () => {
    const many = boundExport();
    many.audit = Array.from({ length: 45 }, (_, i) => ({ at: at(11, 1, 8, 0) + i * 60_000, action: 'login', actor: 'user' as const, outcome: 'ok' as const, clientNetwork: null }));
    platform().server.accountExport = many;
    const page = await openPage();
    await waitFor(() => expect(page.instance.data.status).toBe('ready'));

    expect(textOf(select(page, '.data-events'))).toContain('最近的账号记录（20 / 45）');
    expect((page.instance.data.view as { events: unknown[] }).events).toHaveLength(20);
  });

  test('a failure says why, and 重新加载 asks again', async () => {
    platform().fake.route('/api/account/export', () => ({ fail: 'request:fail network is down' }));
    const page = await openPage();
    await waitFor(() => expect(textOf(select(page, '.data-error'))).toContain('数据读取失败：网络不可用'));
    expect(page.instance.data.errorImage).toBe('network');
    const sentBefore = platform().fake.sentTo('/api/account/export').length;

    platform().fake.route('/api/account/export', () => ({ statusCode: 200, data: exportOf(platform().server.user) }));
    tapButton(page, '#retry');

    await waitFor(() => expect(page.instance.data.status).toBe('ready'));
    expect(platform().fake.sentTo('/api/account/export')).toHaveLength(sentBefore + 1);
  });

  test('an answer that is not an export is a failure, not an empty page', async () => {
    platform().fake.route('/api/account/export', () => ({ statusCode: 200, data: { user: null } }));
    const page = await openPage();

    await waitFor(() => expect(page.instance.data.status).toBe('error'));
    expect(textOf(select(page, '.data-error'))).toContain('数据读取失败');
  });
});
