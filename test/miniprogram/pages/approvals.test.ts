import type { Approval } from '../../../typings/api';
import { platform, makeUser } from '../support/platform';
import { exists, load, mount, select, tapButton, textOf, waitFor, type Rendered } from '../support/render';

const approvalsPage = load('pages/approvals/approvals');

const APPROVAL: Approval = { id: 'ap-1', title: '差旅报销 ¥1,280.00（上海客户拜访）', applicant: '王芳', status: 'pending', submittedAt: new Date(2026, 10, 21, 9, 16).getTime() };

async function openPage(roles: string[]): Promise<Rendered> {
  platform().server.user = makeUser({ nickname: '老王', avatarUrl: 'https://cdn.test/a.png', roles });
  await platform().auth.login();
  const page = mount(approvalsPage);
  (page.instance as unknown as { onLoad(): Promise<void> }).onLoad();
  return page;
}

describe('审批', () => {
  test('lists a staff member’s approvals: what is asked, who asked and when, and the status', async () => {
    platform().server.approvals = [APPROVAL, { ...APPROVAL, id: 'ap-2', title: '年假 3 天', applicant: '李强', status: 'approved' }];
    const page = await openPage(['staff']);

    await waitFor(() => expect(textOf(page)).toContain('差旅报销'));
    expect(textOf(page)).toContain('王芳 · 2026-11-21 09:16');
    expect(textOf(page)).toContain('待审批');
    expect(textOf(page)).toContain('已通过');
    expect(platform().fake.sentTo('/api/approvals')).toHaveLength(1);
  });

  test('says plainly that a user without the staff role may not see them (403 FORBIDDEN), and offers the way home, not a retry', async () => {
    const page = await openPage(['member']);

    await waitFor(() => expect(exists(page, '.approvals-forbidden')).toBe(true));
    expect(textOf(page)).toContain('审批仅对员工开放');
    expect(exists(page, '#retry')).toBe(false);
    tapButton(page, '#go-home');
    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/index/index' }]));
  });

  test('a failure that is not about permission offers a retry, which loads the list', async () => {
    platform().fake.route('/api/approvals', () => ({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } }));
    const page = await openPage(['staff']);
    await waitFor(() => expect(textOf(select(page, '.approvals-error'))).toContain('服务器繁忙'));

    platform().server.approvals = [APPROVAL];
    platform().fake.route('/api/approvals', () => ({ statusCode: 200, data: { approvals: platform().server.approvals } }));
    tapButton(page, '#retry');

    await waitFor(() => expect(textOf(page)).toContain('差旅报销'));
  });

  test('an empty list says so', async () => {
    const page = await openPage(['staff']);
    await waitFor(() => expect(textOf(page)).toContain('暂无审批'));
  });

  test('a user the server unbound meanwhile (its bind mode) is taken to the bind page, the ticket kept, after one login', async () => {
    const page = await openPage(['staff']);
    await waitFor(() => expect(page.instance.data.status).toBe('ready'));
    // Another device unbound the account: every session of the binding ended.
    platform().fake.binding.required = true;
    platform().fake.expireAllSessions();

    (page.instance as unknown as { onRetry(): Promise<void> }).onRetry();

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'redirectTo', url: '/pages/bind/bind' }]));
    expect(platform().app.globalData.bindTicket).toMatchObject({ bindTicket: 'ticket-1' });
    expect(platform().fake.stats.logins).toBe(2);
    expect(page.instance.data.status).toBe('loading');
  });
});
