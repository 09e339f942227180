import { makeUser, platform } from '../support/platform';
import { answerDialog, dialogOnScreen, exists, load, mount, select, tapButton, textOf, tick, waitFor, type Rendered } from '../support/render';

const deletePage = load('pages/account-delete/account-delete');

const XIAOMING = () => makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', phone: '138****8000' });

async function openPage(user = XIAOMING()): Promise<Rendered> {
  platform().server.user = user;
  await platform().auth.login();
  return mount(deletePage);
}

/** The server's bind mode, with this WeChat user bound to 王建国's account A1001. */
async function openBoundPage(): Promise<Rendered> {
  const { binding } = platform().fake;
  binding.required = true;
  binding.bound = true;
  binding.account = { name: 'A1001', displayName: '王建国' };
  return openPage();
}

/** 注销账号, then 确认注销 in the second confirmation. */
async function confirmDeletion(page: Rendered): Promise<void> {
  tapButton(page, '#delete-button');
  await waitFor(() => expect(select(page, '#van-dialog').data.show).toBe(true));
  answerDialog(page, 'confirm');
}

const loggedOut = () => {
  const logouts: number[] = [];
  platform().auth.on('logout', () => logouts.push(Date.now()));
  return logouts;
};

describe('注销账号', () => {
  test('in open mode it says everything will be deleted and that nothing stays', async () => {
    const page = await openPage();

    expect(textOf(page)).toContain('账号及其全部数据将被永久删除');
    expect(textOf(select(page, '.delete-deleted'))).toContain('绑定的手机号');
    expect(textOf(select(page, '.delete-deleted'))).toContain('微信与本账号的关联');
    expect(exists(page, '.delete-kept')).toBe(false);
    expect(textOf(page)).toContain('全新的空账号');
  });

  test('in bind mode it says the binding and the mini-program’s data go, and the platform account stays', async () => {
    const page = await openBoundPage();

    expect(textOf(select(page, '.delete-deleted'))).toContain('微信与平台账号的绑定');
    expect(textOf(select(page, '.delete-kept'))).toContain('平台账号 王建国（A1001）');
    expect(textOf(page)).toContain('重新绑定平台账号');
  });

  test('asks a second time; cancelling there deletes nothing and sends nothing', async () => {
    const page = await openPage();

    tapButton(page, '#delete-button');
    await waitFor(() => expect(textOf(select(page, '#van-dialog'))).toContain('确定注销吗'));
    answerDialog(page, 'cancel');
    await waitFor(() => expect(dialogOnScreen(page)).toBe(false));

    expect(platform().fake.sentTo('/api/account/delete')).toHaveLength(0);
    expect(platform().fake.stats.logins).toBe(1);
    expect(platform().auth.getSession()).not.toBeNull();
  });

  test('confirmed, it sends one fresh WeChat code with the session, then logs out and goes home', async () => {
    const page = await openPage();
    const logouts = loggedOut();
    const skey = platform().auth.getSession()!.skey;

    await confirmDeletion(page);

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/index/index' }]));
    const sent = platform().fake.sentTo('/api/account/delete');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'POST', skey, data: { code: 'code-2' } });
    // One wx.login for the login, one for the deletion's code; no login after.
    expect(platform().fake.stats.logins).toBe(2);
    expect(platform().fake.sentTo('/auth/login')).toHaveLength(1);
    expect(platform().server.deleted).toBe(true);
    expect(platform().auth.getSession()).toBeNull();
    expect(logouts).toHaveLength(1);
    expect(platform().toasts).toEqual(['账号已注销']);
  });

  test('in bind mode the deletion leaves the app logged out and the next login asks for a bind again', async () => {
    const page = await openBoundPage();

    await confirmDeletion(page);

    await waitFor(() => expect(platform().auth.getSession()).toBeNull());
    await waitFor(() => expect(platform().toasts).toEqual(['已注销，平台账号仍保留']));
    expect(platform().fake.binding.bound).toBe(false);
    await expect(platform().auth.login()).rejects.toMatchObject({ code: 'BIND_REQUIRED' });
  });

  test('a refused code (401 INVALID_CODE) is said plainly, costs no second login, and the user stays logged in to try again', async () => {
    const page = await openPage();
    platform().fake.route('/api/account/delete', (req) => {
      platform().server.deleteCodes.push((req.data as { code: string }).code);
      return { statusCode: 401, data: { error: { code: 'INVALID_CODE', message: 'the code is not this user’s' } } };
    });

    await confirmDeletion(page);

    await waitFor(() => expect(textOf(select(page, '.delete-error'))).toBe('微信身份验证未通过，请重试'));
    // Not read as an expired session: no renewal login, no resend of the refused code.
    expect(platform().server.deleteCodes).toEqual(['code-2']);
    expect(platform().fake.sentTo('/auth/login')).toHaveLength(1);
    expect(platform().auth.getSession()).not.toBeNull();
    expect(page.instance.data.deleting).toBe(false);
    expect(platform().navigations).toEqual([]);
  });

  test('after a refusal, another try takes a new code and goes through', async () => {
    const page = await openPage();
    let refuse = true;
    platform().fake.route('/api/account/delete', () => {
      if (!refuse) return { statusCode: 200, data: { deleted: true, kept: 'nothing' } };
      refuse = false;
      return { statusCode: 401, data: { error: { code: 'INVALID_CODE', message: 'no' } } };
    });
    await confirmDeletion(page);
    await waitFor(() => expect(exists(page, '.delete-error')).toBe(true));
    await waitFor(() => expect(dialogOnScreen(page)).toBe(false));

    await confirmDeletion(page);

    await waitFor(() => expect(platform().auth.getSession()).toBeNull());
    expect(platform().fake.sentTo('/api/account/delete').map((r) => (r.data as { code: string }).code)).toEqual(['code-2', 'code-3']);
    expect(exists(page, '.delete-error')).toBe(false);
  });

  test('an expired session is renewed by the auth service once and the deletion goes through with the same code', async () => {
    const page = await openPage();
    // The server forgot the session (a restart): the skey the app holds is refused.
    platform().fake.expireAllSessions();

    await confirmDeletion(page);

    await waitFor(() => expect(platform().server.deleted).toBe(true));
    await waitFor(() => expect(platform().auth.getSession()).toBeNull());
    const sent = platform().fake.sentTo('/api/account/delete');
    expect(sent).toHaveLength(2);
    expect(sent.map((r) => (r.data as { code: string }).code)).toEqual(['code-2', 'code-2']);
    expect(platform().fake.sentTo('/auth/login')).toHaveLength(2);
    expect(exists(page, '.delete-error')).toBe(false);
  });

  test('too many attempts (429) says how long to wait', async () => {
    const page = await openPage();
    platform().fake.route('/api/account/delete', () => ({ statusCode: 429, data: { error: { code: 'RATE_LIMITED', message: 'slow down' } }, header: { 'Retry-After': '120' } }));

    await confirmDeletion(page);

    await waitFor(() => expect(textOf(select(page, '.delete-error'))).toBe('操作太频繁，请 2 分钟后再试'));
    expect(platform().auth.getSession()).not.toBeNull();
  });

  test('no network says so, sends the request once (a deletion is not retried blindly) and keeps the user logged in', async () => {
    const page = await openPage();
    platform().fake.route('/api/account/delete', () => ({ fail: 'request:fail network is down' }));

    await confirmDeletion(page);

    await waitFor(() => expect(textOf(select(page, '.delete-error'))).toBe('网络不可用，请检查网络后重试'));
    expect(platform().fake.sentTo('/api/account/delete')).toHaveLength(1);
    expect(platform().auth.getSession()).not.toBeNull();
  });

  test('in bind mode a retry after a lost answer says this WeChat user is unbound already and goes home, instead of 请先绑定账号', async () => {
    const page = await openBoundPage();
    // The server deletes (the binding goes, every session ends), but its answer never arrives.
    let lost = 0;
    platform().fake.route('/api/account/delete', (req) => {
      if (!req.skey || !platform().fake.isValid(req.skey)) return { statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: 'log in again' } } };
      lost++;
      platform().server.deleted = true;
      Object.assign(platform().fake.binding, { bound: false, account: null });
      platform().fake.expireAllSessions();
      return { fail: 'request:fail timeout' };
    });
    await confirmDeletion(page);
    await waitFor(() => expect(textOf(select(page, '.delete-error'))).toBe('网络超时，请稍后重试'));
    await waitFor(() => expect(dialogOnScreen(page)).toBe(false));

    await confirmDeletion(page);

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'switchTab', url: '/pages/index/index' }]));
    expect(platform().toasts).toEqual(['该微信已解除绑定，无需再注销']);
    expect(exists(page, '.delete-error')).toBe(false);
    expect(page.instance.data.deleting).toBe(false);
    expect(platform().auth.getSession()).toBeNull();
    // The retry was refused (401), its renewal login asked for a bind, and nothing was deleted twice.
    expect(lost).toBe(1);
    expect(platform().fake.sentTo('/api/account/delete')).toHaveLength(2);
    expect(platform().fake.sentTo('/auth/login')).toHaveLength(2);
  });

  test('a wx.login that fails sends nothing to the server and says so', async () => {
    const page = await openPage();
    platform().fake.behaviour.loginFails = 'login:fail system error';

    await confirmDeletion(page);

    await waitFor(() => expect(textOf(select(page, '.delete-error'))).toBe('微信登录失败，请稍后重试'));
    expect(platform().fake.sentTo('/api/account/delete')).toHaveLength(0);
    expect(platform().auth.getSession()).not.toBeNull();
  });

  test('while a deletion runs, the button shows 注销中… and another tap asks nothing and sends nothing', async () => {
    const page = await openPage();
    platform().fake.route('/api/account/delete', () => 'hang');
    await confirmDeletion(page);
    await waitFor(() => expect(platform().fake.sentTo('/api/account/delete')).toHaveLength(1));
    await waitFor(() => expect(textOf(select(page, '#delete-button'))).toContain('注销中…'));
    await waitFor(() => expect(dialogOnScreen(page)).toBe(false));

    tapButton(page, '#delete-button');
    await tick();
    await tick();

    expect(select(page, '#van-dialog').data.show).toBe(false);
    expect(platform().fake.sentTo('/api/account/delete')).toHaveLength(1);
    expect(platform().fake.stats.logins).toBe(2);
  });

  test('暂不注销 goes back', async () => {
    const page = await openPage();

    tapButton(page, '#cancel-delete');

    await waitFor(() => expect(platform().navigateBack).toHaveBeenCalledTimes(1));
    expect(platform().fake.sentTo('/api/account/delete')).toHaveLength(0);
  });
});
