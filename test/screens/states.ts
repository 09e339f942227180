/**
 * Every screen the app shows, as one table: the preview (`npm run preview`) draws each state and
 * the layout checks measure each at three widths. A state is reached the way a user gets there,
 * through the project's own simulate setup and fakes (test/miniprogram/support): the fake server
 * answers, fails or hangs; the page is mounted; taps go to the real buttons.
 */
import type { AuthError } from '../../miniprogram/auth/index';
import type { AccountExport, Approval, Order } from '../../typings/api';
import { exportOf, makeUser, platform, requestPrivacyConsent } from '../miniprogram/support/platform';
import { answerDialog, exists, select, tapButton, textOf, waitFor, type Rendered } from '../miniprogram/support/render';

export type ScreenPage =
  | 'pages/index/index'
  | 'pages/profile/profile'
  | 'pages/orders/orders'
  | 'pages/bind/bind'
  | 'pages/approvals/approvals'
  | 'pages/account-security/account-security'
  | 'pages/account-data/account-data'
  | 'pages/account-delete/account-delete';

export interface ScreenState {
  /** File name of its screenshot. */
  id: string;
  /** Caption, in the app's language. */
  title: string;
  page: ScreenPage;
  /** Before the page is mounted: who is logged in, what the server will answer. */
  before?: () => Promise<unknown> | void;
  /** After it is mounted: what the user does; resolves once the screen shows the state. */
  drive: (page: Rendered) => Promise<unknown>;
  /**
   * Why the screen offers nothing to tap, on a screen that does not. The layout checks must
   * measure at least one tap target on every other screen (a 44 px check that met none proves
   * nothing), and none on this one.
   */
  nothingToTap?: string;
}

const HOUR = 3600_000;
const NOW = new Date(2026, 10, 21, 9, 41).getTime();

const ORDERS: Order[] = [
  { id: 'o1', title: '云南普洱熟茶 2019 年勐海古树料 357g 饼茶（礼盒装，附茶刀与收纳袋）', amountFen: 26800, status: 'pending', createdAt: NOW - 2 * HOUR },
  { id: 'o2', title: '手冲咖啡豆 250g', amountFen: 6800, status: 'paid', createdAt: NOW - 26 * HOUR },
  { id: 'o3', title: '陶瓷滤杯 V60 01 号', amountFen: 12900, status: 'shipped', createdAt: NOW - 3 * 24 * HOUR },
  { id: 'o4', title: '玻璃分享壶 600ml', amountFen: 9900, status: 'completed', createdAt: NOW - 12 * 24 * HOUR },
];

const APPROVALS: Approval[] = [
  { id: 'ap-1', title: '差旅报销 ¥1,280.00（上海客户拜访，含往返高铁与两晚住宿）', applicant: '王芳', status: 'pending', submittedAt: NOW - 25 * 60_000 },
  { id: 'ap-2', title: '年假 3 天（12 月 22 日至 24 日）', applicant: '李强', status: 'pending', submittedAt: NOW - 3 * HOUR },
  { id: 'ap-3', title: '采购申请：27 英寸显示器 2 台', applicant: '陈静', status: 'approved', submittedAt: NOW - 26 * HOUR },
  { id: 'ap-4', title: '加班调休 1 天', applicant: '赵磊', status: 'rejected', submittedAt: NOW - 3 * 24 * HOUR },
];

const XIAOMING = () => makeUser({ id: 'u1', nickname: '小明 🍵', avatarUrl: 'https://cdn.test/avatars/xm.png', phone: '138****8000' });
/** A staff member bound to the platform account A1001 (the server's bind mode). */
const LAOWANG = () =>
  makeUser({ id: 'u3', nickname: '老王', avatarUrl: 'https://cdn.test/avatars/xm.png', roles: ['staff'], account: { name: 'A1001', displayName: '王建国' } });
/** A new user on a server that requires a phone (REQUIRE_PHONE=true). */
const PHONE_REQUIRED_USER = () => makeUser({ id: 'u2', phoneRequired: true });

async function loggedInAs(user = XIAOMING()): Promise<void> {
  platform().server.user = user;
  await platform().auth.login();
}

/** The server's bind mode, with this WeChat user bound to no account yet. */
const PASSWORD = 'Pa55word';
const WRONG_PASSWORD = 'wrong123';
const bindMode = () => {
  platform().fake.binding.required = true;
  // A password of a length people use: its dots fit the field at 320 px, as they would on a phone.
  platform().fake.binding.accounts = { A1001: PASSWORD };
};

/** 绑定已有账号 with the account and password typed in and 绑定并登录 tapped; resolves once the page shows `text`. */
async function bindAttempt(page: Rendered, password: string, text: string): Promise<void> {
  const type = (field: string, value: string) => {
    select(page, field, '.input-class').dispatchEvent('input', { detail: { value } });
    // The native input shows what was typed; van-field's template value stands in for it here.
    select(page, field).instance.setData({ innerValue: value });
  };
  type('#account', 'A1001');
  type('#password', password);
  await waitFor(() => expect(page.instance.data.password).toBe(password));
  tapButton(page, '#bind-button');
  await see(page, text);
}

/** A bind state: the server set up by `arrange`, the user's attempt showing `text`. */
function bindState(state: Pick<ScreenState, 'id' | 'title'>, arrange: () => void, password: string, text: string): ScreenState {
  return {
    ...state,
    page: 'pages/bind/bind',
    before: () => {
      bindMode();
      arrange();
    },
    drive: (page) => bindAttempt(page, password, text),
  };
}

const fail = (path: string) => platform().fake.route(path, () => ({ fail: 'request:fail network is down' }));
const hang = (path: string) => platform().fake.route(path, () => 'hang');
const see = (page: Rendered, text: string) => waitFor(() => expect(textOf(page)).toContain(text));

/**
 * The login panel once wx.getPrivacySetting has answered: it names the guideline as declared, not
 * with the generic name it shows until then (a still of that moment would not match the others).
 */
const privacyAnswered = (page: Rendered) =>
  waitFor(() => expect(select(page, '#login').instance.data.privacyContractName).toBe(platform().privacy.contractName));

/** 我的 with the login popup open (the header's 登录 button). */
async function openLoginPopup(page: Rendered): Promise<void> {
  await waitFor(() => expect(page.instance.data.checking).toBe(false));
  tapButton(page, '#header-login');
  await waitFor(() => expect(textOf(select(page, '#login'))).toContain('微信一键登录'));
  await privacyAnswered(page);
}

/** 我的 → 登录 → 微信一键登录 as a new user: the completion step in the popup. */
async function atCompletion(page: Rendered): Promise<void> {
  await openLoginPopup(page);
  tapButton(page, '#login', '#login-button');
  await waitFor(() => expect(textOf(select(page, '#login'))).toContain('完善资料'));
}

/** 我的 → 登录 → 微信一键登录 on a server that requires a phone: the phone step in the popup. */
async function atPhoneStep(page: Rendered): Promise<void> {
  platform().server.user = PHONE_REQUIRED_USER();
  await openLoginPopup(page);
  tapButton(page, '#login', '#login-button');
  await waitFor(() => expect(exists(page, '#login', '#phone-button')).toBe(true));
}

/** The phone step once WeChat's getPhoneNumber button answered `detail` and the step shows `text`. */
function phoneAnswered(state: Pick<ScreenState, 'id' | 'title'>, detail: object, text: string, before?: ScreenState['before']): ScreenState {
  return {
    ...state,
    page: 'pages/profile/profile',
    before,
    drive: async (page) => {
      await atPhoneStep(page);
      select(page, '#login', '#phone-button', '.van-button').dispatchEvent('getphonenumber', { detail });
      await see(page, text);
    },
  };
}

/** 首页's inline panel, once its privacy check has answered. */
async function inlinePanelReady(page: Rendered, button: string): Promise<void> {
  await waitFor(() => expect(exists(page, '#login', button)).toBe(true));
  await privacyAnswered(page);
}
const inlineLoginReady = (page: Rendered) => inlinePanelReady(page, '#login-button');

/** A login tapped in the panel `open` brings up, caught while the server hangs or after it failed. */
function loginAttempt(state: Pick<ScreenState, 'id' | 'title' | 'page'>, open: (page: Rendered) => Promise<void>, outcome: 'loading' | 'failed'): ScreenState {
  return {
    ...state,
    before: () => (outcome === 'loading' ? hang('/auth/login') : fail('/auth/login')),
    drive: async (page) => {
      await open(page);
      tapButton(page, '#login', '#login-button');
      await see(page, outcome === 'loading' ? '登录中…' : '网络不可用');
    },
  };
}

/** LAOWANG logged in on a server in bind mode, bound to A1001, as the fake server answers it. */
async function loggedInBound(): Promise<void> {
  const { binding } = platform().fake;
  binding.required = true;
  binding.bound = true;
  binding.account = { name: 'A1001', displayName: '王建国' };
  await loggedInAs(LAOWANG());
}

/** What the server holds about 小明: two identities, two devices, a few account events. */
function xiaomingExport(): AccountExport {
  const user = XIAOMING();
  const createdAt = NOW - 20 * 24 * HOUR;
  return {
    ...exportOf({ ...user, createdAt }, NOW),
    identities: [
      { kind: 'wechat', value: 'oGZUI0egBJY1zhBYw2KhdUfwVJJE', createdAt },
      { kind: 'unionid', value: 'oVOc_0fIi5Ua1-XlKcF4sBu5aZTQ', createdAt },
      { kind: 'phone', value: '+86 13800138000', createdAt: createdAt + 2 * HOUR },
    ],
    sessions: [
      { createdAt: NOW - 2 * HOUR, lastSeenAt: NOW - 60_000, expiresAt: NOW + 7 * 24 * HOUR - 2 * HOUR, current: true },
      { createdAt: NOW - 3 * 24 * HOUR, lastSeenAt: NOW - 2 * 24 * HOUR, expiresAt: NOW + 4 * 24 * HOUR, current: false },
    ],
    audit: [
      { at: NOW - 2 * HOUR, action: 'login', actor: 'user', outcome: 'ok', clientNetwork: '203.0.113.0/24' },
      { at: NOW - 3 * 24 * HOUR, action: 'login', actor: 'user', outcome: 'ok', clientNetwork: '198.51.100.0/24' },
      { at: NOW - 10 * 24 * HOUR, action: 'profile.changed', actor: 'user', outcome: 'ok', clientNetwork: '203.0.113.0/24' },
      { at: createdAt + 2 * HOUR, action: 'phone.bound', actor: 'user', outcome: 'ok', clientNetwork: '203.0.113.0/24' },
    ],
  };
}

/** 注销账号 → 确认注销 in the second confirmation; resolves once the page shows `text`. */
async function deletionConfirmed(page: Rendered, text: string): Promise<void> {
  tapButton(page, '#delete-button');
  await waitFor(() => expect(select(page, '#van-dialog').data.show).toBe(true));
  answerDialog(page, 'confirm');
  await see(page, text);
}

export const SCREEN_STATES: ScreenState[] = [
  // 首页
  {
    id: 'home-logged-out',
    title: '首页 · 未登录',
    page: 'pages/index/index',
    drive: inlineLoginReady,
  },
  {
    id: 'home-privacy',
    title: '首页 · 需同意隐私',
    page: 'pages/index/index',
    before: () => {
      platform().privacy.needAuthorization = true;
    },
    drive: (page) => inlinePanelReady(page, '#privacy-agree-login'),
  },
  loginAttempt({ id: 'home-login-loading', title: '首页 · 登录中', page: 'pages/index/index' }, inlineLoginReady, 'loading'),
  loginAttempt({ id: 'home-login-failed', title: '首页 · 登录失败', page: 'pages/index/index' }, inlineLoginReady, 'failed'),
  {
    id: 'home-logged-in',
    title: '首页 · 已登录',
    page: 'pages/index/index',
    before: () => loggedInAs(),
    drive: (page) => see(page, '你好，小明'),
  },
  {
    id: 'home-new-user',
    title: '首页 · 新用户',
    page: 'pages/index/index',
    before: () => loggedInAs(makeUser()),
    drive: (page) => waitFor(() => expect(exists(page, '#complete-profile')).toBe(true)),
  },
  {
    id: 'home-staff',
    title: '首页 · 员工',
    page: 'pages/index/index',
    before: () => loggedInAs(LAOWANG()),
    drive: (page) => waitFor(() => expect(exists(page, '#home-approvals')).toBe(true)),
  },

  // 我的, and the login panel as a popup over it
  {
    id: 'profile-logged-out',
    title: '我的 · 未登录',
    page: 'pages/profile/profile',
    drive: (page) => waitFor(() => expect(page.instance.data.checking).toBe(false)),
  },
  {
    id: 'profile-launch-failed',
    title: '我的 · 自动登录失败',
    page: 'pages/profile/profile',
    before: () => {
      fail('/auth/login');
      // What app.ts does at launch: log in silently, keep the failure for pages to explain.
      platform()
        .auth.ensureSession()
        .catch((error) => (platform().app.globalData.launchError = error));
    },
    drive: (page) => see(page, '自动登录失败'),
  },
  {
    id: 'profile-logged-in',
    title: '我的 · 已登录',
    page: 'pages/profile/profile',
    before: () => loggedInAs(),
    drive: (page) => waitFor(() => expect(textOf(select(page, '.nickname'))).toBe('小明 🍵')),
  },
  {
    id: 'profile-logout-dialog',
    title: '我的 · 退出确认',
    page: 'pages/profile/profile',
    before: () => loggedInAs(),
    drive: async (page) => {
      await waitFor(() => expect(exists(page, '#logout')).toBe(true));
      select(page, '#logout', '.van-cell').dispatchEvent('tap');
      await see(page, '查看订单需要重新登录');
    },
  },
  {
    id: 'profile-bound',
    title: '我的 · 已绑定账号',
    page: 'pages/profile/profile',
    before: () => loggedInAs(LAOWANG()),
    drive: (page) => waitFor(() => expect(textOf(select(page, '#bound-account'))).toContain('王建国（A1001）')),
  },
  {
    id: 'profile-unbind-dialog',
    title: '我的 · 解除绑定确认',
    page: 'pages/profile/profile',
    before: () => loggedInAs(LAOWANG()),
    drive: async (page) => {
      await waitFor(() => expect(exists(page, '#unbind')).toBe(true));
      select(page, '#unbind', '.van-cell').dispatchEvent('tap');
      await see(page, '再次使用需要重新绑定');
    },
  },
  {
    id: 'login-popup',
    title: '登录弹窗',
    page: 'pages/profile/profile',
    drive: openLoginPopup,
  },
  loginAttempt({ id: 'login-popup-loading', title: '登录弹窗 · 登录中', page: 'pages/profile/profile' }, openLoginPopup, 'loading'),
  loginAttempt({ id: 'login-popup-failed', title: '登录弹窗 · 登录失败', page: 'pages/profile/profile' }, openLoginPopup, 'failed'),
  {
    id: 'phone-step',
    title: '完成登录 · 手机号',
    page: 'pages/profile/profile',
    drive: atPhoneStep,
  },
  phoneAnswered({ id: 'phone-step-denied', title: '完成登录 · 未获取手机号' }, { errMsg: 'getPhoneNumber:fail user deny' }, '未获取手机号'),
  phoneAnswered({ id: 'phone-step-in-use', title: '完成登录 · 手机号已被占用' }, { errMsg: 'getPhoneNumber:ok', code: 'preview-code' }, '该手机号已绑定其他账号', () =>
    platform().fake.route('/auth/phone', () => ({ statusCode: 409, data: { error: { code: 'PHONE_IN_USE', message: 'in use' } } })),
  ),
  // WeChat refuses at the tap: the mini-program's quota of verifications is used up, or it may not ask at all.
  phoneAnswered({ id: 'phone-step-quota', title: '完成登录 · 验证次数已用完' }, { errMsg: 'getPhoneNumber:fail', errno: 1400001 }, '验证次数已用完'),
  phoneAnswered({ id: 'phone-step-no-permission', title: '完成登录 · 未开通手机号验证' }, { errMsg: 'getPhoneNumber:fail no permission' }, '暂未开通微信手机号验证'),
  {
    id: 'phone-bind',
    title: '我的 · 绑定手机号',
    page: 'pages/profile/profile',
    before: () => loggedInAs(makeUser({ id: 'u1', nickname: '小明 🍵', avatarUrl: 'https://cdn.test/avatars/xm.png' })),
    drive: async (page) => {
      await waitFor(() => expect(textOf(select(page, '#entry-phone'))).toContain('未绑定'));
      select(page, '#entry-phone', '.van-cell').dispatchEvent('tap');
      await waitFor(() => expect(textOf(select(page, '#login'))).toContain('使用微信手机号'));
    },
  },
  {
    id: 'complete-profile-empty',
    title: '完善资料',
    page: 'pages/profile/profile',
    drive: atCompletion,
  },
  {
    id: 'complete-profile-consent',
    title: '完善资料 · 待同意隐私',
    page: 'pages/profile/profile',
    drive: async (page) => {
      await atCompletion(page);
      // The user taps the avatar before agreeing: WeChat holds chooseAvatar and asks the app.
      requestPrivacyConsent('chooseAvatar').catch(() => undefined);
      await waitFor(() => expect(exists(page, '#login', '#privacy-agree-profile')).toBe(true));
    },
  },
  {
    id: 'complete-profile-filled',
    title: '完善资料 · 已填写',
    page: 'pages/profile/profile',
    drive: async (page) => {
      await atCompletion(page);
      const panel = select(page, '#login');
      select(panel, '.avatar-picker').dispatchEvent('chooseavatar', { detail: { avatarUrl: 'wxfile://tmp/picked.jpg' } });
      select(panel, '.nickname-row__input').dispatchEvent('input', { detail: { value: '小红' } });
      // The native input shows what was typed; the template's value stands in for it here.
      panel.instance.setData({ nickname: '小红' });
      await waitFor(() => expect(textOf(panel)).toContain('2/32'));
    },
  },
  {
    id: 'edit-profile',
    title: '编辑资料',
    page: 'pages/profile/profile',
    before: () => loggedInAs(),
    drive: async (page) => {
      await waitFor(() => expect(exists(page, '.edit-profile')).toBe(true));
      select(page, '.edit-profile').dispatchEvent('tap');
      await waitFor(() => expect(textOf(select(page, '#login'))).toContain('编辑资料'));
    },
  },

  // 我的 → 账号与安全, 我的数据 and 注销账号
  {
    id: 'account-security',
    title: '账号与安全',
    page: 'pages/account-security/account-security',
    before: () => loggedInAs(),
    drive: (page) => waitFor(() => expect(textOf(select(page, '#identity-phone'))).toContain('138****8000')),
  },
  {
    id: 'account-security-bound',
    title: '账号与安全 · 已绑定账号',
    page: 'pages/account-security/account-security',
    before: loggedInBound,
    drive: (page) => waitFor(() => expect(textOf(select(page, '#identity-account'))).toContain('王建国（A1001）')),
  },
  {
    id: 'account-data',
    title: '我的数据',
    page: 'pages/account-data/account-data',
    before: async () => {
      await loggedInAs();
      platform().server.accountExport = xiaomingExport();
    },
    drive: (page) => see(page, '复制全部数据'),
  },
  {
    id: 'account-data-error',
    title: '我的数据 · 加载失败',
    page: 'pages/account-data/account-data',
    before: async () => {
      await loggedInAs();
      platform().fake.route('/api/account/export', () => ({ statusCode: 503, data: { error: { code: 'STORE_UNAVAILABLE', message: 'down' } } }));
    },
    drive: (page) => waitFor(() => expect(page.instance.data.status).toBe('error')),
  },
  {
    id: 'account-delete',
    title: '注销账号',
    page: 'pages/account-delete/account-delete',
    before: () => loggedInAs(),
    drive: (page) => see(page, '全新的空账号'),
  },
  {
    id: 'account-delete-bound',
    title: '注销账号 · 平台账号保留',
    page: 'pages/account-delete/account-delete',
    before: loggedInBound,
    drive: (page) => see(page, '平台账号 王建国（A1001）'),
  },
  {
    id: 'account-delete-confirm',
    title: '注销账号 · 再次确认',
    page: 'pages/account-delete/account-delete',
    before: () => loggedInAs(),
    drive: async (page) => {
      tapButton(page, '#delete-button');
      await see(page, '确定注销吗');
    },
  },
  {
    id: 'account-delete-deleting',
    title: '注销账号 · 注销中',
    page: 'pages/account-delete/account-delete',
    before: async () => {
      await loggedInAs();
      hang('/api/account/delete');
    },
    drive: (page) => deletionConfirmed(page, '注销中…'),
  },
  {
    id: 'account-delete-failed',
    title: '注销账号 · 验证未通过',
    page: 'pages/account-delete/account-delete',
    before: async () => {
      await loggedInAs();
      platform().fake.route('/api/account/delete', () => ({ statusCode: 401, data: { error: { code: 'INVALID_CODE', message: 'not this user’s code' } } }));
    },
    drive: (page) => deletionConfirmed(page, '微信身份验证未通过'),
  },

  // 我的订单
  {
    id: 'orders-loading',
    title: '我的订单 · 加载中',
    page: 'pages/orders/orders',
    before: async () => {
      await loggedInAs();
      hang('/api/orders');
    },
    drive: (page) => see(page, '加载中…'),
    nothingToTap: 'a spinner, until the orders arrive',
  },
  {
    id: 'orders-list',
    title: '我的订单',
    page: 'pages/orders/orders',
    before: async () => {
      await loggedInAs();
      platform().server.orders = ORDERS;
    },
    drive: (page) => see(page, '玻璃分享壶'),
    nothingToTap: 'orders are listed, not opened: there is no order page',
  },
  {
    id: 'orders-empty',
    title: '我的订单 · 暂无订单',
    page: 'pages/orders/orders',
    before: () => loggedInAs(),
    drive: (page) => see(page, '暂无订单'),
  },
  {
    id: 'orders-phone-required',
    title: '我的订单 · 需绑定手机号',
    page: 'pages/orders/orders',
    before: () => loggedInAs(makeUser({ nickname: '小明 🍵', avatarUrl: 'https://cdn.test/avatars/xm.png', phoneRequired: true })),
    drive: (page) => waitFor(() => expect(textOf(select(page, '#login'))).toContain('使用微信手机号')),
  },
  {
    id: 'orders-error',
    title: '我的订单 · 加载失败',
    page: 'pages/orders/orders',
    before: async () => {
      await loggedInAs();
      platform().fake.route('/api/orders', () => ({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } }));
    },
    drive: (page) => see(page, '服务器繁忙'),
  },

  // 绑定已有账号 (the server's bind mode)
  {
    id: 'bind',
    title: '绑定已有账号',
    page: 'pages/bind/bind',
    before: bindMode,
    drive: (page) => see(page, '绑定并登录'),
  },
  {
    id: 'bind-loading',
    title: '绑定已有账号 · 绑定中',
    page: 'pages/bind/bind',
    before: () => {
      bindMode();
      hang('/auth/bind');
    },
    drive: (page) => bindAttempt(page, PASSWORD, '绑定中…'),
  },
  bindState({ id: 'bind-wrong-password', title: '绑定已有账号 · 账号或密码错误' }, () => undefined, WRONG_PASSWORD, '账号或密码错误'),
  bindState({ id: 'bind-rate-limited', title: '绑定已有账号 · 尝试次数过多' }, () => (platform().fake.binding.retryAfterSeconds = 840), WRONG_PASSWORD, '尝试次数过多'),
  bindState({ id: 'bind-already-bound', title: '绑定已有账号 · 已绑定其他微信' }, () => void platform().fake.binding.boundElsewhere.add('A1001'), PASSWORD, '该账号已绑定其他微信'),
  {
    id: 'bind-expired',
    title: '绑定已有账号 · 绑定已过期',
    page: 'pages/bind/bind',
    before: async () => {
      bindMode();
      // The page was opened with a ticket, and the user took longer than the ticket lives.
      await platform().auth.login().catch((error: AuthError) => (platform().app.globalData.bindTicket = error.ticket!));
      platform().fake.expireTickets();
    },
    drive: (page) => bindAttempt(page, PASSWORD, '绑定已过期'),
  },

  // 审批 (staff only)
  {
    id: 'approvals-list',
    title: '审批',
    page: 'pages/approvals/approvals',
    before: async () => {
      await loggedInAs(LAOWANG());
      platform().server.approvals = APPROVALS;
    },
    drive: (page) => see(page, '加班调休'),
    nothingToTap: 'approvals are listed, not opened: the demo has no approval page',
  },
  {
    id: 'approvals-forbidden',
    title: '审批 · 无权限',
    page: 'pages/approvals/approvals',
    before: () => loggedInAs(),
    drive: (page) => see(page, '审批仅对员工开放'),
  },
];
