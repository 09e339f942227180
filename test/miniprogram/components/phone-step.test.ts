/**
 * The login panel's phone step (手机号快捷登录): when it appears, what WeChat's getPhoneNumber
 * button can answer (a code, the user declining, a used-up quota, an account without the
 * capability), the ways on when no number comes, and the exchange of the code at the server,
 * one at a time, failures included.
 */
import type { LoginEventDetail, PhoneEventDetail } from '../../../miniprogram/components/login-panel/events';
import { offerPhoneFallback } from '../../../miniprogram/services/phone';
import type { User } from '../../../typings/api';
import { deferred, type FakeOutcome } from '../../support/fake-wx';
import { createPhoneSheet } from '../support/phone-sheet';
import { makeUser, platform, requestPrivacyConsent } from '../support/platform';
import { attr, buttonEvent, exists, load, mount, recordEvents, select, tapButton, textOf, tick, waitFor, type Rendered } from '../support/render';

const panel = load('components/login-panel/index');

const OK = { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' };
const DENIED = { errMsg: 'getPhoneNumber:fail user deny' };
const NO_PERMISSION = { errMsg: 'getPhoneNumber:fail no permission' };
const QUOTA_USED_UP = { errMsg: 'getPhoneNumber:fail', errno: 1400001 };
const envelope = (statusCode: number, code: string): FakeOutcome => ({ statusCode, data: { error: { code, message: code } } });

/** An inline panel, after its privacy check has answered. */
async function renderPanel(): Promise<{ comp: Rendered; events: Record<string, unknown[]> }> {
  const comp = mount(panel, { mode: 'inline' });
  const events = recordEvents(comp, 'login', 'phone', 'profile', 'done');
  await waitFor(() => expect(exists(comp, '#login-button')).toBe(true));
  return { comp, events };
}

/** Logs in as a user the server requires a phone of; resolves at the phone step. */
async function atPhoneStep(user = makeUser({ phoneRequired: true })) {
  platform().server.user = user;
  const rendered = await renderPanel();
  tapButton(rendered.comp, '#login-button');
  await waitFor(() => expect(exists(rendered.comp, '#phone-button')).toBe(true));
  return rendered;
}

const phoneRequests = () => platform().server.phoneCodes.length;
const phoneButton = (comp: Rendered) => select(comp, '#phone-button', '.van-button');
/** The codes POST /auth/phone received, answered or not. */
const codesSent = () => platform().fake.sentTo('/auth/phone').map((req) => (req.data as { code: string }).code);

/** Logged in (profile complete, so the step then closes) and the step opened from 我的 → 手机号. */
async function openedFromProfile(fields: Partial<User> = {}) {
  platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', ...fields });
  await platform().auth.login();
  const rendered = await renderPanel();
  (rendered.comp.instance as unknown as { open(step: string, user: unknown): void }).open('phone', platform().auth.getSession()!.user);
  await waitFor(() => expect(exists(rendered.comp, '#phone-button')).toBe(true));
  return rendered;
}

/** The developer's hint in the console, which every refusal writes (kept out of the test output). */
let consoleWarn: jest.SpyInstance;
beforeEach(() => {
  consoleWarn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  consoleWarn.mockRestore();
  offerPhoneFallback(null);
});

describe('login panel: phone step', () => {
  test('follows a login the server requires a phone for, with WeChat’s getPhoneNumber button', async () => {
    const { comp, events } = await atPhoneStep();

    expect((events.login[0] as LoginEventDetail).ok).toBe(true);
    // The number completes the login this panel just made: 手机号快捷登录 is the right name here.
    expect(textOf(select(comp, '.login-panel__title'))).toBe('完成登录');
    expect(textOf(select(comp, '#phone-button'))).toBe('手机号快捷登录');
    expect(textOf(comp)).toContain('暂不绑定');
    expect(attr(phoneButton(comp), 'openType')).toBe('getPhoneNumber');
    expect(events.done).toHaveLength(0);
  });

  test('is skipped when the server does not require a phone', async () => {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
    const { comp, events } = await renderPanel();
    tapButton(comp, '#login-button');
    await waitFor(() => expect(events.done).toHaveLength(1));
    expect(exists(comp, '#phone-button')).toBe(false);
  });

  test('binds with the code the button handed over: one request, the bound user announced, then the profile step', async () => {
    const { comp, events } = await atPhoneStep();

    buttonEvent(comp, '#phone-button', 'getphonenumber', OK);

    await waitFor(() => expect(events.phone).toHaveLength(1));
    expect(platform().server.phoneCodes).toEqual(['phone-code-1']);
    expect((events.phone[0] as PhoneEventDetail).user).toMatchObject({ phone: '138****8000', phoneRequired: false });
    expect(platform().auth.getSession()!.user.phone).toBe('138****8000');
    // A new user's profile is incomplete: the login flow goes on to it.
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));
  });

  test('finishes after binding when the profile is already complete, and says so', async () => {
    const { comp, events } = await atPhoneStep(makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', phoneRequired: true }));

    buttonEvent(comp, '#phone-button', 'getphonenumber', OK);

    await waitFor(() => expect(events.done).toHaveLength(1));
    await waitFor(() => expect(textOf(select(comp, '#van-toast'))).toContain('手机号已绑定'));
    expect(events.done[0]).toEqual({ user: expect.objectContaining({ phone: '138****8000' }) });
    expect(phoneRequests()).toBe(1);
  });

  test('a user who declines gets no error, no request, a calm note and a way on', async () => {
    const { comp, events } = await atPhoneStep();

    buttonEvent(comp, '#phone-button', 'getphonenumber', DENIED);

    await waitFor(() => expect(textOf(comp)).toContain('未获取手机号'));
    expect(exists(comp, '.login-panel__error')).toBe(false);
    expect(textOf(select(comp, '#van-toast'))).toBe('');
    expect(phoneRequests()).toBe(0);
    tapButton(comp, '#skip-phone');
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));
    expect(events.phone).toHaveLength(0);
  });

  test('an account without the capability (no permission) is explained, not blamed on the user, and the login goes on without a phone', async () => {
    const { comp, events } = await atPhoneStep();

    buttonEvent(comp, '#phone-button', 'getphonenumber', NO_PERMISSION);

    await waitFor(() => expect(textOf(comp)).toContain('本小程序暂未开通微信手机号验证，无法获取手机号'));
    // Required here, and the app offers no other way: said plainly, with where to turn.
    expect(textOf(comp)).toContain('需要手机号的功能暂时无法使用，如需帮助请联系客服');
    expect(exists(comp, '.login-panel__error')).toBe(false);
    // Another tap cannot help: the button is gone, and moving on is the one action left.
    expect(exists(comp, '#phone-button')).toBe(false);
    expect(exists(comp, '#phone-fallback')).toBe(false);
    expect(textOf(select(comp, '#skip-phone'))).toBe('暂不绑定');
    expect(select(comp, '#skip-phone').data).toMatchObject({ type: 'primary', plain: false });
    expect(consoleWarn).toHaveBeenCalledWith(expect.stringContaining('no permission'));
    expect(phoneRequests()).toBe(0);

    tapButton(comp, '#skip-phone');
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));
    expect(events.phone).toHaveLength(0);
    expect(platform().auth.getSession()!.user.id).toBe('u1');
  });

  test('a used-up quota (errno 1400001) at the login is explained, sends nothing, and the login goes on without a phone', async () => {
    const sheet = createPhoneSheet();
    sheet.quota = 0;
    const { comp, events } = await atPhoneStep();

    sheet.tap(comp, '#phone-button');

    await waitFor(() => expect(textOf(comp)).toContain('本小程序的手机号验证次数已用完，暂时无法获取手机号。需要手机号的功能暂时无法使用，请稍后在「我的」中绑定'));
    expect(exists(comp, '.login-panel__error')).toBe(false);
    expect(exists(comp, '#phone-button')).toBe(false);
    expect(consoleWarn).toHaveBeenCalledWith(expect.stringContaining('1400001'));
    expect({ asked: sheet.asked, charged: sheet.charged, requests: codesSent().length }).toEqual({ asked: 1, charged: 0, requests: 0 });

    tapButton(comp, '#skip-phone');
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));
    expect(events.phone).toHaveLength(0);
    expect(events.done).toHaveLength(0);
  });

  test('a used-up quota when binding from 我的 says to try later, the step closes on 知道了, and the next opening offers the button again', async () => {
    const sheet = createPhoneSheet();
    sheet.quota = 0;
    const { comp, events } = await openedFromProfile();

    sheet.tap(comp, '#phone-button');

    await waitFor(() => expect(textOf(comp)).toContain('本小程序的手机号验证次数已用完，暂时无法获取手机号。请稍后再绑定'));
    expect(textOf(comp)).not.toContain('需要手机号');
    expect(textOf(select(comp, '#skip-phone'))).toBe('知道了');
    tapButton(comp, '#skip-phone');
    await waitFor(() => expect(events.done).toHaveLength(1));
    expect(events.done[0]).toEqual({ user: expect.objectContaining({ phone: null }) });

    // The operator may have bought more meanwhile: the step starts afresh, button and all.
    sheet.quota = 10;
    (comp.instance as unknown as { open(step: string, user: unknown): void }).open('phone', platform().auth.getSession()!.user);
    await waitFor(() => expect(exists(comp, '#phone-button')).toBe(true));
    expect(textOf(comp)).not.toContain('次数已用完');
    expect(textOf(select(comp, '#skip-phone'))).toBe('取消');
    sheet.tap(comp, '#phone-button');
    await waitFor(() => expect(events.done).toHaveLength(2));
    expect({ charged: sheet.charged, codes: codesSent() }).toEqual({ charged: 1, codes: ['phone-code-1'] });
  });

  test('a refusal while changing a bound number says the current number stays', async () => {
    const { comp } = await openedFromProfile({ phone: '139****0000' });

    buttonEvent(comp, '#phone-button', 'getphonenumber', QUOTA_USED_UP);

    await waitFor(() => expect(textOf(comp)).toContain('仍使用当前号码，请稍后再更换'));
    expect(textOf(select(comp, '#skip-phone'))).toBe('知道了');
  });

  test('an app’s own fallback (a support form) is offered when a required phone cannot be verified, and opens its page', async () => {
    offerPhoneFallback({ button: '联系客服验证', hint: '也可以联系客服人工验证后继续使用', url: '/pages/support/support' });
    const { comp, events } = await atPhoneStep();

    buttonEvent(comp, '#phone-button', 'getphonenumber', NO_PERMISSION);

    await waitFor(() => expect(textOf(comp)).toContain('本小程序暂未开通微信手机号验证，无法获取手机号。也可以联系客服人工验证后继续使用'));
    expect(textOf(select(comp, '#phone-fallback'))).toBe('联系客服验证');
    // Skipping stays possible, as the quieter choice.
    expect(textOf(select(comp, '#skip-phone'))).toBe('暂不绑定');
    expect(select(comp, '#skip-phone').data).toMatchObject({ type: 'default', plain: true });

    tapButton(comp, '#phone-fallback');

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/support/support' }]));
    expect(events.done).toEqual([{ user: expect.objectContaining({ id: 'u1' }) }]);
    expect(platform().auth.getSession()).not.toBeNull();
    expect(phoneRequests()).toBe(0);
  });

  test('the fallback is not offered where the phone is optional: binding from 我的 just closes', async () => {
    offerPhoneFallback({ button: '联系客服验证', hint: '也可以联系客服人工验证后继续使用', url: '/pages/support/support' });
    const { comp } = await openedFromProfile();

    buttonEvent(comp, '#phone-button', 'getphonenumber', NO_PERMISSION);

    await waitFor(() => expect(textOf(comp)).toContain('本小程序暂未开通微信手机号验证，无法获取手机号'));
    expect(textOf(comp)).not.toContain('联系客服验证');
    expect(exists(comp, '#phone-fallback')).toBe(false);
    expect(textOf(select(comp, '#skip-phone'))).toBe('知道了');
  });

  test('any other failure of the button asks to try again', async () => {
    const { comp } = await atPhoneStep();
    buttonEvent(comp, '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:fail system error' });
    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toBe('获取手机号失败，请重试'));
    // "ok" without a code is no code: the same message, and nothing is sent (given the turns a
    // request would take to reach the fake server).
    buttonEvent(comp, '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:ok' });
    for (let turn = 0; turn < 10; turn++) await tick();
    expect(textOf(select(comp, '.login-panel__error'))).toBe('获取手机号失败，请重试');
    expect(textOf(comp)).not.toContain('绑定中…');
    expect(phoneRequests()).toBe(0);
  });

  test.each([
    [envelope(400, 'INVALID_PHONE_CODE'), '手机号验证已失效，请重新获取'],
    [envelope(409, 'PHONE_IN_USE'), '该手机号已绑定其他账号'],
    [envelope(503, 'WECHAT_UNAVAILABLE'), '微信服务暂时不可用'],
    [envelope(504, 'WECHAT_TIMEOUT'), '微信服务响应超时'],
    [{ fail: 'request:fail network is down' } as FakeOutcome, '网络不可用'],
  ])('a failed exchange (%j) shows the message for its code under the button, and the step stays', async (answer, message) => {
    const { comp, events } = await atPhoneStep();
    platform().fake.route('/auth/phone', () => answer);

    buttonEvent(comp, '#phone-button', 'getphonenumber', OK);

    await waitFor(() => expect(textOf(select(comp, '.login-panel__error'))).toContain(message));
    expect(exists(comp, '#phone-button')).toBe(true);
    expect(events.phone).toHaveLength(0);
    expect(platform().auth.getSession()!.user.phone).toBeNull();
    // A failed exchange is never taken for an expired session: no second login.
    expect(platform().fake.stats.logins).toBe(1);
  });

  test('two taps while the first code is exchanged: WeChat is asked once, one verification is paid, one request reaches the server, one number is handled', async () => {
    const sheet = createPhoneSheet();
    const { comp, events } = await atPhoneStep(makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', phoneRequired: true }));
    const held = deferred<void>();
    platform().fake.route('/auth/phone', async () => {
      await held.promise;
      return { statusCode: 200, data: { user: makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png', phone: '138****8000' }) } };
    });

    sheet.tap(comp, '#phone-button');
    await waitFor(() => expect(codesSent()).toHaveLength(1));
    expect(textOf(comp)).toContain('绑定中…');
    sheet.tap(comp, '#phone-button');
    held.resolve();

    await waitFor(() => expect(events.done).toHaveLength(1));
    expect({ taps: sheet.taps, asked: sheet.asked, charged: sheet.charged }).toEqual({ taps: 2, asked: 1, charged: 1 });
    expect(codesSent()).toEqual(['phone-code-1']);
    expect(events.phone).toHaveLength(1);
  });

  test('an answer WeChat delivers twice (a double tap taken twice) is exchanged once: the second code is dropped before any request', async () => {
    const { comp, events } = await atPhoneStep();

    buttonEvent(comp, '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:ok', code: 'phone-code-1' });
    buttonEvent(comp, '#phone-button', 'getphonenumber', { errMsg: 'getPhoneNumber:ok', code: 'phone-code-2' });

    await waitFor(() => expect(events.phone).toHaveLength(1));
    await waitFor(() => expect(textOf(comp)).toContain('完善资料'));
    expect(codesSent()).toEqual(['phone-code-1']);
    expect(events.phone).toHaveLength(1);
    expect(exists(comp, '.login-panel__error')).toBe(false);
  });

  test('shows "绑定中…" while the exchange runs, and WeChat’s button is inert meanwhile', async () => {
    const { comp } = await atPhoneStep();
    platform().fake.route('/auth/phone', () => 'hang');

    buttonEvent(comp, '#phone-button', 'getphonenumber', OK);

    await waitFor(() => expect(textOf(comp)).toContain('绑定中…'));
    // Vant drops open-type while loading: a second tap cannot ask WeChat for another code.
    expect(attr(phoneButton(comp), 'openType')).toBe('');
  });

  test('opened for a logged-in user, it binds or changes the phone and then closes', async () => {
    platform().server.user = makeUser({ nickname: '小明', avatarUrl: 'https://cdn.test/a.png' });
    await platform().auth.login();
    const { comp, events } = await renderPanel();

    (comp.instance as unknown as { open(step: string, user: unknown): void }).open('phone', platform().auth.getSession()!.user);
    await waitFor(() => expect(exists(comp, '#phone-button')).toBe(true));
    // Already logged in, the user binds a number: no login wording, and no promise the product does not keep.
    expect(textOf(select(comp, '.login-panel__title'))).toBe('绑定手机号');
    expect(textOf(select(comp, '#phone-button'))).toBe('使用微信手机号');
    expect(textOf(comp)).not.toMatch(/登录|找回/);
    buttonEvent(comp, '#phone-button', 'getphonenumber', DENIED);
    await waitFor(() => expect(textOf(comp)).toContain('未获取手机号，可以稍后再绑定'));
    buttonEvent(comp, '#phone-button', 'getphonenumber', OK);
    await waitFor(() => expect(events.done).toHaveLength(1));

    (comp.instance as unknown as { open(step: string, user: unknown): void }).open('phone', platform().auth.getSession()!.user);
    await waitFor(() => expect(textOf(comp)).toContain('更换手机号'));
    expect(textOf(comp)).toContain('当前绑定 138****8000');
    expect(textOf(select(comp, '#phone-button'))).toBe('使用微信手机号');
  });

  test('a getPhoneNumber held for privacy consent waits for the phone step’s own consent button', async () => {
    const { comp } = await atPhoneStep();

    const answer = requestPrivacyConsent('getPhoneNumber');
    await waitFor(() => expect(exists(comp, '#privacy-agree-phone')).toBe(true));
    expect(textOf(comp)).toContain('使用手机号前，请阅读并同意');
    select(comp, '#privacy-agree-phone', '#privacy-agree-phone').dispatchEvent('agreeprivacyauthorization', { detail: {} });

    await expect(answer).resolves.toEqual({ event: 'agree', buttonId: 'privacy-agree-phone' });
  });
});
