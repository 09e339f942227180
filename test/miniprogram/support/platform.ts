/**
 * Stateful fakes of the platform around the pages: the app object behind getApp(), the page
 * stack, navigation, privacy consent and pull-down refresh. The network and storage the auth
 * service sees come from test/support/fake-wx.ts instead (each test creates its own).
 */
import { createAuth, type AuthClient, type AuthError, type BindTicket } from '../../../miniprogram/auth/index';
import { menusFor } from '../../../server/roles';
import type { Approval, Order, User } from '../../../typings/api';
import { BASE_URL, createFakeWx, type FakeWx } from '../../support/fake-wx';

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
  fake.route('/auth/phone', (req) => {
    if (!req.skey || !fake.isValid(req.skey)) return unauthorized;
    server.phoneCodes.push((req.data as { code: string }).code);
    server.user = makeUser({ ...server.user, phone: server.phone, phoneRequired: false });
    return { statusCode: 200, data: { user: server.user } };
  });
}

function createPlatform(): Platform {
  const fake = createFakeWx();
  const server: ServerState = { user: makeUser(), orders: [], approvals: [], avatarUrl: 'https://cdn.test/avatars/u1.png', phone: '138****8000', phoneCodes: [] };
  serve(fake, server);
  const auth = createAuth<User>({ baseURL: BASE_URL, wx: fake.wx, retryDelay: 1 });
  const app: Platform['app'] = { globalData: { launchError: null, bindTicket: null }, auth };
  const p: Platform = {
    fake,
    server,
    auth,
    app,
    navigations: [],
    privacy: { needAuthorization: false, contractName: '《示例隐私保护指引》', contractOpened: 0 },
    stopPullDownRefresh: jest.fn(),
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
