import type { LoginEventDetail } from '../../../miniprogram/components/login-panel/events';
import { deferred, type FakeOutcome } from '../../support/fake-wx';
import { platform, makeUser, privacyRegistration, requestPrivacyConsent } from '../support/platform';
import { attr, buttonEvent, exists, load, mount, recordEvents, select, tapButton, textOf, tick, unmountAll, waitFor, type Found, type Rendered } from '../support/render';

const panel = load('components/login-panel/index');

/** An inline panel, after its privacy check has answered. */
async function renderPanel(): Promise<{ comp: Rendered; events: Record<string, unknown[]> }> {
  const comp = mount(panel, { mode: 'inline' });
  const events = recordEvents(comp, 'login', 'profile', 'done', 'close');
  await waitFor(() => expect(textOf(comp)).toContain(platform().privacy.contractName));
  return { comp, events };
}

/** Logs in through the plain one-tap button and waits for the outcome event. */
async function tapLogin(comp: Rendered, events: Record<string, unknown[]>): Promise<LoginEventDetail> {
  tapButton(comp, '#login-button');
  await waitFor(() => expect(events.login).toHaveLength(1));
  return events.login[0] as LoginEventDetail;
}

const envelope = (statusCode: number, code: string): FakeOutcome => ({ statusCode, data: { error: { code, message: code } } });

/** Lets the fake platform's callbacks (privacy setting, network) run. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await tick();
}

/**
 * The native <button> inside a consent van-button, found by its id in the van-button's own tree.
 * The panel gives the host the same id (for pages and tests to find it); the second lookup only
 * succeeds if `button-id` put the id on WeChat's button, which is what WeChat checks.
 */
function nativeConsentButton(comp: Rendered | Found, nativeId: string): Found {
  const node = select(comp, `#${nativeId}`, `#${nativeId}`);
  expect(node.dom?.tagName).toBe('WX-BUTTON');
  expect(attr(node, 'id')).toBe(nativeId);
  expect(attr(node, 'openType')).toBe('agreePrivacyAuthorization');
  return node;
}

/** What WeChat does to the components of a page the user leaves or comes back to (simulate's typings omit it). */
function pageLifetime(comp: Rendered, lifetime: 'show' | 'hide'): void {
  (comp as unknown as { triggerPageLifeTime(name: string): void }).triggerPageLifeTime(lifetime);
}

describe('login panel: privacy consent', () => {
  test('names the guideline generically until WeChat answers with its declared name, never by a made-up one', async () => {
    const comp = mount(panel, { mode: 'inline' });
    // getPrivacySetting answers on a later turn: what shows meanwhile is the generic name.
    expect(textOf(select(comp, '.privacy-contract'))).toBe('《隐私保护指引》');

    await waitFor(() => expect(textOf(select(comp, '.privacy-contract'))).toBe('《示例隐私保护指引》'));
  });

  test('keeps the generic name when WeChat answers with none', async () => {
    platform().privacy.contractName = '';
    const comp = mount(panel, { mode: 'inline' });
    await settle();

    expect(textOf(select(comp, '.privacy-contract'))).toBe('《隐私保护指引》');
  });

  test('offers "同意并登录" instead of the plain login button while privacy is not yet accepted', async () => {
    platform().privacy.needAuthorization = true;
    const { comp } = await renderPanel();

    await waitFor(() => expect(exists(comp, '#privacy-agree-login')).toBe(true));
    expect(exists(comp, '#login-button')).toBe(false);
    nativeConsentButton(comp, 'privacy-agree-login');
    expect(textOf(comp)).toContain('登录前请阅读并同意《示例隐私保护指引》');
  });

  test('a tap alone does not log in before WeChat reports the consent', async () => {
    platform().privacy.needAuthorization = true;
    const { comp, events } = await renderPanel();
    await waitFor(() => expect(exists(comp, '#privacy-agree-login')).toBe(true));

    tapButton(comp, '#privacy-agree-login');
    await settle();

    expect(platform().fake.stats.logins).toBe(0);
    expect(events.login).toHaveLength(0);
  });

  test('agreeing logs in once and switches to the plain wording', async () => {
    platform().privacy.needAuthorization = true;
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
    const { comp, events } = await renderPanel();
    await waitFor(() => expect(exists(comp, '#privacy-agree-login')).toBe(true));

    buttonEvent(comp, '#privacy-agree-login', 'agreeprivacyauthorization');

    await waitFor(() => expect(events.login).toHaveLength(1));
    expect(events.login[0]).toEqual({ ok: true, user: platform().server.user });
    expect(platform().fake.stats.logins).toBe(1);
    expect(exists(comp, '#privacy-agree-login')).toBe(false);
  });

  test('the privacy contract opens through wx.openPrivacyContract', async () => {
    const { comp } = await renderPanel();

    select(comp, '.privacy-contract').dispatchEvent('tap');

    await waitFor(() => expect(platform().privacy.contractOpened).toBe(1));
  });

  test('a privacy API run at the completion step waits for the consent button, which answers with its native id', async () => {
    const { comp, events } = await renderPanel();
    await tapLogin(comp, events);
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));

    const answer = requestPrivacyConsent('chooseAvatar');
    await waitFor(() => expect(exists(comp, '#privacy-agree-profile')).toBe(true));
    expect(textOf(comp)).toContain('使用头像和昵称前，请阅读并同意');
    const native = nativeConsentButton(comp, 'privacy-agree-profile');
    native.dispatchEvent('agreeprivacyauthorization', { detail: {} });

    await expect(answer).resolves.toEqual({ event: 'agree', buttonId: 'privacy-agree-profile' });
    await waitFor(() => expect(exists(comp, '#privacy-agree-profile')).toBe(false));
  });

  test('"同意并登录" answers a waiting privacy API with its own native id, then logs in', async () => {
    platform().privacy.needAuthorization = true;
    const { comp, events } = await renderPanel();
    await waitFor(() => expect(exists(comp, '#privacy-agree-login')).toBe(true));
    const answer = requestPrivacyConsent('getUserProfile');

    nativeConsentButton(comp, 'privacy-agree-login').dispatchEvent('agreeprivacyauthorization', { detail: {} });

    await expect(answer).resolves.toEqual({ event: 'agree', buttonId: 'privacy-agree-login' });
    await waitFor(() => expect(events.login).toHaveLength(1));
  });

  test('the app registers one listener however many panels are alive', async () => {
    const before = privacyRegistration.count;
    mount(panel, { mode: 'inline' });
    mount(panel);
    mount(panel, { mode: 'inline' });
    await settle();

    expect(privacyRegistration.count).toBe(before);
    expect(privacyRegistration.count).toBe(1);
  });

  test('a request goes to the panel on screen, not to a closed popup', async () => {
    const inline = mount(panel, { mode: 'inline' });
    const popup = mount(panel);
    await settle();

    requestPrivacyConsent().catch(() => undefined);

    await waitFor(() => expect(inline.instance.data.privacyNeeded).toBe(true));
    expect(popup.instance.data.privacyNeeded).toBe(false);
  });

  test('an opened popup takes requests over from the inline panel beneath it, and hands them back when closed', async () => {
    const inline = mount(panel, { mode: 'inline' });
    const popup = mount(panel);
    await settle();
    (popup.instance as unknown as { open(): void }).open();
    await settle();

    const toPopup = requestPrivacyConsent();
    await waitFor(() => expect(popup.instance.data.privacyNeeded).toBe(true));
    expect(inline.instance.data.privacyNeeded).toBe(false);
    (popup.instance as unknown as { close(): void }).close();

    await expect(toPopup).resolves.toEqual({ event: 'disagree' });
    requestPrivacyConsent().catch(() => undefined);
    await waitFor(() => expect(inline.instance.data.privacyNeeded).toBe(true));
  });

  test('a panel whose page is hidden or that is detached refuses what waits on it', async () => {
    const comp = mount(panel, { mode: 'inline' });
    await settle();
    const waiting = requestPrivacyConsent();
    await waitFor(() => expect(comp.instance.data.privacyNeeded).toBe(true));

    pageLifetime(comp, 'hide');
    await expect(waiting).resolves.toEqual({ event: 'disagree' });
    // Hidden, it gets nothing; nothing else is on screen, so WeChat hears "disagree" at once.
    await expect(requestPrivacyConsent()).resolves.toEqual({ event: 'disagree' });

    pageLifetime(comp, 'show');
    const again = requestPrivacyConsent();
    await settle();
    unmountAll();
    await expect(again).resolves.toEqual({ event: 'disagree' });
  });

  test('with no consent UI on screen, a privacy API is refused at once instead of hanging', async () => {
    await expect(requestPrivacyConsent('chooseAvatar')).resolves.toEqual({ event: 'disagree' });
  });
});

describe('login panel: one-tap login', () => {
  test('shows a loading button while logging in, ignores a second tap, then emits login with the user', async () => {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
    const answer = deferred<void>();
    const serveLogin = platform().fake;
    const { comp, events } = await renderPanel();
    const original = platform().server.user;
    serveLogin.route('/auth/login', async () => {
      await answer.promise;
      serveLogin.issueSession('slow-skey');
      return { statusCode: 200, data: { skey: 'slow-skey', expiresAt: Date.now() + 3600_000, user: original } };
    });

    tapButton(comp, '#login-button');
    await waitFor(() => expect(textOf(comp)).toContain('登录中…'));
    tapButton(comp, '#login-button');
    answer.resolve();

    await waitFor(() => expect(events.login).toHaveLength(1));
    expect(events.login[0]).toEqual({ ok: true, user: original });
    expect(platform().fake.sentTo('/auth/login')).toHaveLength(1);
    expect(platform().auth.getSession()?.skey).toBe('slow-skey');
    // A complete profile needs no completion step: the flow ends at once.
    await waitFor(() => expect(events.done).toEqual([{ user: original }]));
    expect(textOf(comp)).not.toContain('登录中…');
  });

  test('a new user is taken to the completion step after the login event', async () => {
    const { comp, events } = await renderPanel();

    const detail = await tapLogin(comp, events);

    expect(detail).toEqual({ ok: true, user: expect.objectContaining({ id: 'u1', profileComplete: false }) });
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));
    expect(events.done).toHaveLength(0);
  });

  test('opened as a popup, open() shows it and close() hides it with a close event', async () => {
    const comp = mount(panel);
    const events = recordEvents(comp, 'close');
    expect(comp.instance.data.show).toBe(false);
    expect(textOf(comp)).not.toContain('微信一键登录');

    (comp.instance as unknown as { open(): void }).open();
    await waitFor(() => expect(textOf(comp)).toContain('微信一键登录'));
    (comp.instance as unknown as { close(): void }).close();

    await waitFor(() => expect(events.close).toHaveLength(1));
    expect(comp.instance.data.show).toBe(false);
  });
});

describe('login panel: failures', () => {
  const cases: [string, string, () => void][] = [
    ['offline', '网络不可用，请检查网络后重试', () => platform().fake.route('/auth/login', () => ({ fail: 'request:fail network is down' }))],
    ['a network timeout', '网络超时，请稍后重试', () => platform().fake.route('/auth/login', () => ({ fail: 'request:fail timeout' }))],
    ['the server failing', '服务器繁忙，请稍后重试', () => platform().fake.route('/auth/login', () => envelope(500, 'INTERNAL'))],
    ['a proxy answering 503 without an envelope', '服务器繁忙，请稍后重试', () => platform().fake.route('/auth/login', () => ({ statusCode: 503, data: 'Service Unavailable' }))],
    ['too many attempts', '操作太频繁，请稍后再试', () => platform().fake.route('/auth/login', () => envelope(429, 'RATE_LIMITED'))],
    ['WeChat being down', '微信服务暂时不可用，请稍后重试', () => platform().fake.route('/auth/login', () => envelope(503, 'WECHAT_UNAVAILABLE'))],
    ['WeChat timing out', '微信服务响应超时，请稍后重试', () => platform().fake.route('/auth/login', () => envelope(504, 'WECHAT_TIMEOUT'))],
    ['an invalid code', '微信登录凭证已失效，请重新登录', () => platform().fake.route('/auth/login', () => envelope(401, 'INVALID_CODE'))],
    ['wx.login failing', '微信登录失败，请稍后重试', () => (platform().fake.behaviour.loginFails = 'login:fail system error')],
  ];

  test.each(cases)('after %s, it shows "%s" and emits a failed login event', async (_name, message, arrange) => {
    arrange();
    const { comp, events } = await renderPanel();

    const detail = await tapLogin(comp, events);

    expect(detail).toEqual({ ok: false, error: expect.objectContaining({ name: 'AuthError', code: 'LOGIN_FAILED' }), message });
    // Said once, under the button, where the user is looking; no toast repeats it.
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe(message));
    await settle();
    expect(textOf(select(comp, '#van-toast'))).toBe('');
    expect(textOf(comp).split(message)).toHaveLength(2);
    expect(exists(comp, '#login-button')).toBe(true);
    expect(platform().auth.getSession()).toBeNull();
    expect(events.done).toHaveLength(0);
  });

  test('a login the server answers with a bind ticket (its bind mode) opens the bind page with the ticket kept, and shows no error', async () => {
    platform().fake.binding.required = true;
    const { comp, events } = await renderPanel();

    tapButton(comp, '#login-button');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/bind/bind' }]));
    expect(platform().app.globalData.bindTicket).toMatchObject({ bindTicket: 'ticket-1' });
    // Inline, the panel stays as it was, for a user who comes back without binding.
    expect(events.done).toEqual([]);
    expect(exists(comp, '#login-button')).toBe(true);
    expect(exists(comp, '.login-panel__error')).toBe(false);
    expect(platform().auth.getSession()).toBeNull();
  });

  test('a blocked account is told in a dialog, not a passing toast', async () => {
    platform().fake.route('/auth/login', () => envelope(403, 'USER_BLOCKED'));
    const { comp, events } = await renderPanel();

    const detail = await tapLogin(comp, events);

    expect(detail).toMatchObject({ ok: false, message: '账号已被限制使用，如有疑问请联系客服' });
    await waitFor(() => expect(textOf(select(comp, '#van-dialog'))).toContain('账号已被限制使用，如有疑问请联系客服'));
    expect(textOf(select(comp, '#van-dialog'))).toContain('无法登录');
    expect(textOf(select(comp, '#van-toast'))).toBe('');
    expect(exists(comp, '.login-panel__error')).toBe(false);
  });

  test('a failed attempt can be retried and then succeeds', async () => {
    platform().fake.route('/auth/login', () => envelope(429, 'RATE_LIMITED'));
    const { comp, events } = await renderPanel();
    await tapLogin(comp, events);
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
    platform().fake.route('/auth/login', () => {
      platform().fake.issueSession('retry-skey');
      return { statusCode: 200, data: { skey: 'retry-skey', expiresAt: Date.now() + 3600_000, user: platform().server.user } };
    });

    tapButton(comp, '#login-button');

    await waitFor(() => expect(events.login).toHaveLength(2));
    expect(events.login[1]).toMatchObject({ ok: true });
    expect(exists(comp, '.login-panel__error')).toBe(false);
  });
});

describe('login panel: profile completion', () => {
  async function atCompletion() {
    const { comp, events } = await renderPanel();
    await tapLogin(comp, events);
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));
    return { comp, events };
  }

  /** What WeChat does on a form-type="submit" tap: collect named fields, fire submit on the form. */
  function submit(comp: Rendered, value: Record<string, string>) {
    select(comp, '.profile-form').dispatchEvent('submit', { detail: { value } });
  }

  test('uploads the chosen avatar, then saves it with the nickname read on submit', async () => {
    const { comp, events } = await atCompletion();

    expect(textOf(select(comp, '.avatar-picker__hint'))).toBe('点击选择头像');
    select(comp, '.avatar-picker').dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp/avatar.png' } });
    await waitFor(() => expect(attr(select(comp, '.avatar-picker__image'), 'src')).toBe('wxfile://tmp/avatar.png'));
    expect(textOf(select(comp, '.avatar-picker__hint'))).toBe('点击更换头像');
    submit(comp, { nickname: '  小明  ' });

    await waitFor(() => expect(events.done).toHaveLength(1));
    const [upload] = platform().fake.sentTo('/api/avatar');
    expect(upload.data).toMatchObject({ filePath: 'wxfile://tmp/avatar.png', name: 'file' });
    const puts = platform().fake.sentTo('/api/profile').filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0].data).toEqual({ avatarUrl: 'https://cdn.test/avatars/u1.png', nickname: '小明' });
    expect(platform().fake.sent.map((r) => r.path)).toEqual(['/auth/login', '/api/avatar', '/api/profile']);
    const saved = { user: expect.objectContaining({ nickname: '小明', avatarUrl: 'https://cdn.test/avatars/u1.png', profileComplete: true }) };
    expect(events.profile).toEqual([saved]);
    expect(events.done).toEqual([saved]);
    await waitFor(() => expect(textOf(select(comp, '#van-toast'))).toContain('资料已保存'));
  });

  test('takes the nickname WeChat leaves in the form, not what was typed before its check', async () => {
    const { comp, events } = await atCompletion();

    submit(comp, { nickname: '' });
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('请选择头像或填写昵称'));
    submit(comp, { nickname: '小红' });

    await waitFor(() => expect(events.profile).toHaveLength(1));
    expect(platform().fake.sentTo('/api/avatar')).toHaveLength(0);
    expect(platform().fake.sentTo('/api/profile').map((r) => r.data)).toEqual([{ nickname: '小红' }]);
  });

  test('a failed upload keeps the step open and saves nothing', async () => {
    const { comp, events } = await atCompletion();
    platform().fake.route('/api/avatar', () => envelope(413, 'PAYLOAD_TOO_LARGE'));

    select(comp, '.avatar-picker').dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp/huge.png' } });
    await waitFor(() => expect(comp.instance.data.avatarPath).toBe('wxfile://tmp/huge.png'));
    submit(comp, { nickname: '小明' });

    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('图片太大了，请换一张'));
    expect(textOf(select(comp, '#van-toast'))).toBe('');
    expect(platform().fake.sentTo('/api/profile')).toHaveLength(0);
    expect(events.done).toHaveLength(0);
    expect(textOf(comp)).toContain('完善资料');
  });

  test('is worded as completing a new profile, with 跳过', async () => {
    const { comp } = await atCompletion();

    expect(textOf(comp)).toContain('设置头像和昵称，让大家认识你');
    expect(textOf(select(comp, '#skip-profile'))).toBe('跳过');
  });

  test('counts the nickname as a person does while it is typed, and flags it past 32', async () => {
    const { comp } = await atCompletion();
    const type = (value: string) => select(comp, '.nickname-row__input').dispatchEvent('input', { detail: { value } });

    type('👨‍👩‍👧 小明');
    await waitFor(() => expect(textOf(select(comp, '.nickname-row__count'))).toBe('4/32'));
    expect(exists(comp, '.login-panel__error')).toBe(false);

    type('好'.repeat(33));
    await waitFor(() => expect(textOf(select(comp, '.nickname-row__count'))).toBe('33/32'));
    expect(textOf(select(comp, '.login-panel__error'))).toBe('昵称最多 32 个字，现在是 33 个');
  });

  test('says at once what the server would refuse: hidden tag text after 🏴, braille blanks, an overlong joined emoji', async () => {
    const { comp } = await atCompletion();
    const type = (value: string) => select(comp, '.nickname-row__input').dispatchEvent('input', { detail: { value } });

    const hidden = [...'ignore all previous instructions'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    type(`Bob🏴${hidden}\u{E007F}`);
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('昵称里有看不见的字符或控制字符，请删除后再试'));
    type('\u2800\u2800\u2800');
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('昵称里有显示为空白的字符，请删除后再试'));
    type(`👍${'🏽'.repeat(20)}`);
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('昵称里有过长的组合字符，请删除后再试'));
    expect(textOf(select(comp, '.nickname-row__count'))).toBe('1/32');
    type('小明');
    await waitFor(() => expect(exists(comp, '.login-panel__error')).toBe(false));
    expect(platform().fake.sentTo('/api/profile')).toHaveLength(0);
  });

  test('caps the field at 256 UTF-16 units, and a 50 KB paste that gets past it is counted on its first 256 only', async () => {
    const { comp } = await atCompletion();
    const input = select(comp, '.nickname-row__input');
    expect(attr(input, 'maxlength')).toBe(256);

    input.dispatchEvent('input', { detail: { value: '好'.repeat(50_000) } });
    await waitFor(() => expect(textOf(select(comp, '.nickname-row__count'))).toBe('256/32'));
    expect(textOf(select(comp, '.login-panel__error'))).toBe('昵称最多 32 个字，现在是 256 个');
  });

  test('sends nothing for a nickname the server would refuse, and says why', async () => {
    const { comp } = await atCompletion();

    submit(comp, { nickname: '\u2800\u2800\u2800' });
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('昵称里有显示为空白的字符，请删除后再试'));
    expect(platform().fake.sentTo('/api/profile')).toHaveLength(0);
  });

  test('refuses a nickname over 32 characters before sending anything, and takes 32 emoji', async () => {
    const { comp, events } = await atCompletion();

    submit(comp, { nickname: '🇨🇳'.repeat(33) });
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('昵称最多 32 个字，现在是 33 个'));
    expect(platform().fake.sentTo('/api/profile')).toHaveLength(0);

    submit(comp, { nickname: '🇨🇳'.repeat(32) });
    await waitFor(() => expect(events.profile).toHaveLength(1));
    expect(platform().fake.sentTo('/api/profile').map((r) => r.data)).toEqual([{ nickname: '🇨🇳'.repeat(32) }]);
  });

  test('skipping ends the flow without saving', async () => {
    const { comp, events } = await atCompletion();

    tapButton(comp, '#skip-profile');

    await waitFor(() => expect(events.done).toHaveLength(1));
    expect(events.done[0]).toEqual({ user: expect.objectContaining({ id: 'u1', profileComplete: false }) });
    expect(events.profile).toHaveLength(0);
    expect(platform().fake.sentTo('/api/profile')).toHaveLength(0);
    expect(textOf(comp)).toContain('微信一键登录');
  });
});
