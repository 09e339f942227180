/**
 * Stateful fakes of the platform around the pages: the app object behind getApp(), the page
 * stack, navigation, privacy consent and pull-down refresh. The network and storage the auth
 * service sees come from test/support/fake-wx.ts instead (each test creates its own).
 */
import { createAuth, type AuthClient, type AuthError, type BindTicket } from '../../../miniprogram/auth/index';
import { isSessionExpiredAnswer } from '../../../miniprogram/utils/session-expiry';
import { menusFor } from '../../../server/roles';
import type { AccountExport, Approval, Order, User } from '../../../typings/api';
import { BASE_URL, createFakeWx, type FakeAnswer, type FakeWx } from '../../support/fake-wx';

/** What the fake developer server knows, on top of fake-wx's sessions. */
export interface ServerState {
  /** The user every login answers with; PUT /api/profile updates it. */
  user: User;
  orders: Order[];
  /** What GET /api/approvals answers a staff user; everyone else gets 403 FORBIDDEN, as from the server. */
  approvals: Approval[];
  /** What POST /api/avatar answers. */
  avatarUrl: string;
  /** The masked number POST /auth/phone binds; the codes it was called with, in order. */
  phone: string;
  phoneCodes: string[];
  /** What GET /api/account/export answers; built from `user` when null. */
  accountExport: AccountExport | null;
  /** The codes POST /api/account/delete was called with, in order, and whether it deleted. */
  deleteCodes: string[];
  deleted: boolean;
}

export interface Platform {
  fake: FakeWx;
  server: ServerState;
  auth: AuthClient<User>;
  /** What getApp() returns: the shape of IAppOption (typings/index.d.ts). */
  app: { globalData: { launchError: AuthError | null; bindTicket: BindTicket | null }; auth: AuthClient<User> };
  /** wx.navigateTo / redirectTo / switchTab calls, in order. */
  navigations: { api: 'navigateTo' | 'redirectTo' | 'switchTab'; url: string }[];
  privacy: {
    /** What wx.getPrivacySetting answers. */
    needAuthorization: boolean;
    contractName: string;
    contractOpened: number;
  };
  stopPullDownRefresh: jest.Mock;
  /** wx.navigateBack calls. */
  navigateBack: jest.Mock;
  /** What wx.showToast showed, in order. */
  toasts: string[];
  /** What wx.setClipboardData was given, in order. */
  clipboard: string[];
}

let current: Platform | null = null;

export type PrivacyAnswer = { event: 'agree' | 'disagree'; buttonId?: string };
type PrivacyListener = (resolve: (answer: PrivacyAnswer) => void, eventInfo: { referrer: string }) => void;

/**
 * The app's wx.onNeedPrivacyAuthorization listener. Registered when a module first loads, so it
 * lives as long as the test file's module registry, not one test.
 */
export const privacyRegistration = { listener: null as PrivacyListener | null, count: 0 };

/**
 * What WeChat does when a privacy API (here `referrer`) runs before consent: calls the app's
 * listener and holds the API until the returned answer settles.
 */
export function requestPrivacyConsent(referrer = 'chooseAvatar'): Promise<PrivacyAnswer> {
  const { listener } = privacyRegistration;
  if (!listener) throw new Error('no wx.onNeedPrivacyAuthorization listener is registered');
  return new Promise((resolve) => listener(resolve, { referrer }));
}

/** The platform of the running test; created fresh by beforeEach. */
export function platform(): Platform {
  if (!current) throw new Error('platform() used outside a test');
  return current;
}

const USER: User = { id: 'u1', nickname: '', avatarUrl: '', profileComplete: false, createdAt: 1763700000000, phone: null, phoneRequired: false, roles: ['member'], account: null };

/** A user as the fake server stores it. */
export function makeUser(fields: Partial<User> = {}): User {
  const user = { ...USER, ...fields };
  user.profileComplete = !!(user.nickname && user.avatarUrl);
  return user;
}

/**
 * Routes of the developer server the UI calls, over fake-wx's session bookkeeping. Logins (and,
 * in bind mode, binds) are fake-wx's; their answers carry this server's user and the menus the
 * real server's role table (server/roles.ts) grants the user's roles.
 */
function serve(fake: FakeWx, server: ServerState): void {
  const unauthorized = { statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: 'log in again' } } };
  const currentUser = (): User => (fake.binding.account ? { ...server.user, account: fake.binding.account } : server.user);
  fake.setSessionBody((skey, expiresAt) => ({ skey, expiresAt, user: currentUser(), isNewUser: !server.user.profileComplete, menus: menusFor(server.user.roles) }));
  fake.route('/auth/session', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    return { statusCode: 200, data: { user: currentUser(), expiresAt: Date.now() + 3600_000, menus: menusFor(server.user.roles) } };
  });
  fake.route('/api/approvals', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    if (!server.user.roles.includes('staff')) return { statusCode: 403, data: { error: { code: 'FORBIDDEN', message: 'this needs the permission approvals:read' } } };
    return { statusCode: 200, data: { approvals: server.approvals } };
  });
  fake.route('/api/profile', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    if (req.method === 'PUT') server.user = makeUser({ ...server.user, ...(req.data as Partial<User>) });
    return { statusCode: 200, data: { user: server.user } };
  });
  fake.route('/api/avatar', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    return { statusCode: 200, data: { avatarUrl: server.avatarUrl } };
  });
  fake.route('/api/orders', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    // As the server with REQUIRE_PHONE=true: business routes wait for a bound phone.
    if (server.user.phoneRequired) return { statusCode: 403, data: { error: { code: 'PHONE_REQUIRED', message: 'bind a phone number first' } } };
    return { statusCode: 200, data: { orders: server.orders } };
  });
  serveAccount(fake, server, unauthorized);
  fake.route('/auth/phone', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    server.phoneCodes.push((req.data as { code: string }).code);
    server.user = makeUser({ ...server.user, phone: server.phone, phoneRequired: false });
    return { statusCode: 200, data: { user: server.user } };
  });
}

/** The export as the real server builds it, from the fake's user: a WeChat identity, the phone, the account, this session. */
export function exportOf(user: User, now = Date.now()): AccountExport {
  const identities: AccountExport['identities'] = [{ kind: 'wechat', value: 'oFAKE-openid-of-u1', createdAt: user.createdAt }];
  if (user.phone) identities.push({ kind: 'phone', value: '+86 13800138000', createdAt: user.createdAt + 60_000 });
  if (user.account) identities.push({ kind: 'account', value: user.account.name, createdAt: user.createdAt });
  return {
    exportedAt: now,
    user: { id: user.id, nickname: user.nickname, avatarUrl: user.avatarUrl, createdAt: user.createdAt, roles: user.roles },
    identities,
    account: user.account,
    sessions: [{ createdAt: now - 3600_000, lastSeenAt: now, expiresAt: now + 7 * 24 * 3600_000, current: true }],
    audit: [{ at: now - 3600_000, action: 'login', actor: 'user', outcome: 'ok', clientNetwork: '203.0.113.0/24' }],
  };
}

/**
 * The account routes (GET /api/account/export, POST /api/account/delete) as the real server
 * answers them: the deletion takes a fresh wx.login code of this fake's (`code-N`; anything else is
 * 401 INVALID_CODE, nothing deleted), ends every session and, in bind mode, the binding.
 */
function serveAccount(fake: FakeWx, server: ServerState, unauthorized: FakeAnswer): void {
  fake.route('/api/account/export', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    return { statusCode: 200, data: server.accountExport || exportOf(server.user) };
  });
  fake.route('/api/account/delete', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    const { code } = (req.data || {}) as { code?: unknown };
    server.deleteCodes.push(String(code));
    if (typeof code !== 'string' || !/^code-\d+$/.test(code)) return { statusCode: 401, data: { error: { code: 'INVALID_CODE', message: 'the code is not this user\'s' } } };
    const kept = fake.binding.account ? 'platform-account' : 'nothing';
    server.deleted = true;
    fake.binding.bound = false;
    fake.binding.account = null;
    fake.expireAllSessions();
    return { statusCode: 200, data: { deleted: true, kept } };
  });
}

function createPlatform(): Platform {
  const fake = createFakeWx();
  const server: ServerState = {
    user: makeUser(),
    orders: [],
    approvals: [],
    avatarUrl: 'https://cdn.test/avatars/u1.png',
    phone: '138****8000',
    phoneCodes: [],
    accountExport: null,
    deleteCodes: [],
    deleted: false,
  };
  serve(fake, server);
  // As app.ts creates it: a 401 naming another code than SESSION_EXPIRED is a failure, not an expiry.
  const auth = createAuth<User>({ baseURL: BASE_URL, wx: fake.wx, retryDelay: 1, isSessionExpired: isSessionExpiredAnswer });
  const app: Platform['app'] = { globalData: { launchError: null, bindTicket: null }, auth };
  const p: Platform = {
    fake,
    server,
    auth,
    app,
    navigations: [],
    privacy: { needAuthorization: false, contractName: '《示例隐私保护指引》', contractOpened: 0 },
    stopPullDownRefresh: jest.fn(),
    navigateBack: jest.fn(),
    toasts: [],
    clipboard: [],
  };
  return p;
}

type Callbacks = { success?: (r: unknown) => void; fail?: (e: { errMsg: string }) => void; complete?: (r: unknown) => void };
const succeed = (o: Callbacks | undefined, result: object) => {
  o?.success?.(result);
  o?.complete?.(result);
};

/** Replaces the wx APIs the UI calls and that miniprogram-simulate leaves inert or missing. */
export function installPlatform(): void {
  const g = globalThis as unknown as Record<string, unknown>;
  g.getApp = () => platform().app;
  g.getCurrentPages = () => [];
  const w = wx as unknown as Record<string, unknown>;
  Object.assign(w, {
    getPrivacySetting(o: Callbacks) {
      const { needAuthorization, contractName } = platform().privacy;
      setTimeout(() => succeed(o, { needAuthorization, privacyContractName: contractName, errMsg: 'getPrivacySetting:ok' }), 0);
    },
    openPrivacyContract(o: Callbacks) {
      platform().privacy.contractOpened++;
      setTimeout(() => succeed(o, { errMsg: 'openPrivacyContract:ok' }), 0);
    },
    onNeedPrivacyAuthorization(listener: PrivacyListener) {
      // WeChat keeps one listener: a later registration replaces the earlier one.
      privacyRegistration.listener = listener;
      privacyRegistration.count++;
    },
    navigateTo(o: Callbacks & { url: string }) {
      platform().navigations.push({ api: 'navigateTo', url: o.url });
      setTimeout(() => succeed(o, { errMsg: 'navigateTo:ok' }), 0);
    },
    redirectTo(o: Callbacks & { url: string }) {
      platform().navigations.push({ api: 'redirectTo', url: o.url });
      setTimeout(() => succeed(o, { errMsg: 'redirectTo:ok' }), 0);
    },
    switchTab(o: Callbacks & { url: string }) {
      platform().navigations.push({ api: 'switchTab', url: o.url });
      setTimeout(() => succeed(o, { errMsg: 'switchTab:ok' }), 0);
    },
    navigateBack(o?: Callbacks) {
      platform().navigateBack();
      setTimeout(() => succeed(o, { errMsg: 'navigateBack:ok' }), 0);
    },
    showToast(o: Callbacks & { title: string }) {
      platform().toasts.push(o.title);
      succeed(o, { errMsg: 'showToast:ok' });
    },
    setClipboardData(o: Callbacks & { data: string }) {
      platform().clipboard.push(o.data);
      setTimeout(() => succeed(o, { errMsg: 'setClipboardData:ok' }), 0);
    },
    /** The app's own wx.login (a re-authentication code): the same fake WeChat the auth service logs in with, counted with its logins. */
    login(o: Parameters<FakeWx['wx']['login']>[0]) {
      platform().fake.wx.login(o);
    },
    stopPullDownRefresh(o?: Callbacks) {
      platform().stopPullDownRefresh();
      succeed(o, { errMsg: 'stopPullDownRefresh:ok' });
    },
  });

  beforeEach(() => {
    current = createPlatform();
  });
  afterEach(() => {
    current = null;
  });
}
