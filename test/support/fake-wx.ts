/**
 * Stateful fakes of the wx APIs the auth service uses, backed by a fake developer server.
 * Create a fresh one in beforeEach: nothing is shared between tests.
 */
import type { WxLike } from '../../miniprogram/auth';

export interface FakeRequest {
  url: string;
  path: string;
  method: string;
  header: Record<string, string>;
  data: unknown;
  /** The skey from the Authorization header, if any. */
  skey?: string;
  /** The `timeout` the service passed to wx. */
  timeout?: number;
}

export interface FakeAnswer {
  statusCode: number;
  data?: unknown;
  header?: Record<string, string>;
}

/** What a route handler may answer: an HTTP answer, a wx failure, or never (until aborted). */
export type FakeOutcome = FakeAnswer | { fail: string } | 'hang';
export type FakeHandler = (req: FakeRequest) => FakeOutcome | Promise<FakeOutcome>;

export const BASE_URL = 'https://api.test';

/** A bind ticket as the fake server holds it (the real one: ACCOUNT_MODE=bind, typings/api.d.ts). */
interface FakeTicket {
  expiresAt: number;
  used: boolean;
}

const envelope = (statusCode: number, code: string, message: string, header?: Record<string, string>): FakeAnswer => ({
  statusCode,
  data: { error: { code, message } },
  header,
});

export function createFakeWx() {
  const storage = new Map<string, string>();
  const validSkeys = new Set<string>();
  const routes = new Map<string, FakeHandler>();
  const stats = { logins: 0, loginRequests: 0, requests: 0, uploads: 0, inFlight: 0, peakInFlight: 0, aborted: 0, checkSessions: 0, storageWrites: 0 };
  const sent: FakeRequest[] = [];
  let issued = 0;
  const behaviour = {
    /** errMsg to fail wx.login with, or null. */
    loginFails: null as string | null,
    /** wx.checkSession result; a wx.login starts a new WeChat session, as on a phone. */
    wechatSessionValid: true,
    /**
     * WeChat DevTools' tourist mode (`appid: "touristappid"`): wx.login answers the same mock code
     * every time and wx.checkSession always fails.
     */
    touristMode: false,
    /** Throw from setStorageSync (quota). */
    storageWriteThrows: false,
    /** Server session lifetime in ms. */
    sessionLifetime: 2 * 60 * 60 * 1000,
    /** Date header the server sends with the login answer, if any. */
    serverDate: undefined as string | undefined,
  };
  /**
   * The server's bind mode (ACCOUNT_MODE=bind), answering as typings/api.d.ts says the real one
   * will: while `required` and the WeChat user is not `bound`, a login answers a bind ticket;
   * POST /auth/bind takes a ticket and an account of `accounts`; DELETE /auth/binding unbinds.
   */
  const binding = {
    required: false,
    bound: false,
    /** Account name → password. */
    accounts: { A1001: 'right-password' } as Record<string, string>,
    /** Accounts another WeChat user has bound: 409 ACCOUNT_ALREADY_BOUND. */
    boundElsewhere: new Set<string>(),
    /** Seconds the next bind attempt must wait (429 RATE_LIMITED with Retry-After), or 0. */
    retryAfterSeconds: 0,
    ticketLifetime: 10 * 60 * 1000,
    tickets: new Map<string, FakeTicket>(),
    /** The account the user bound, as the server answers it in `user.account`. */
    account: null as { name: string; displayName: string } | null,
  };
  let ticketsIssued = 0;

  /** A fresh session for the user, as a login or a bind answers it. */
  function newSession(): FakeAnswer {
    const skey = `skey-${++issued}`;
    validSkeys.add(skey);
    return {
      statusCode: 200,
      data: sessionBody(skey, Date.now() + behaviour.sessionLifetime, issued === 1),
      header: behaviour.serverDate ? { Date: behaviour.serverDate } : {},
    };
  }
  /** The body of a session answer; a suite with its own users replaces it (setSessionBody). */
  let sessionBody = (skey: string, expiresAt: number, isNewUser: boolean): object => ({ skey, expiresAt, user: { id: 'u1', nickname: '', account: binding.account }, isNewUser });

  /** What POST /auth/login answers once WeChat's code checks out. */
  function loginAnswer(): FakeAnswer {
    if (!binding.required || binding.bound) return newSession();
    const bindTicket = `ticket-${++ticketsIssued}`;
    const expiresAt = Date.now() + binding.ticketLifetime;
    binding.tickets.set(bindTicket, { expiresAt, used: false });
    return { statusCode: 200, data: { bindRequired: true, bindTicket, expiresAt }, header: behaviour.serverDate ? { Date: behaviour.serverDate } : {} };
  }

  /** POST /auth/bind, in the real server's order: rate limit, ticket, credentials, the account's own binding. */
  function bindAnswer(req: FakeRequest): FakeAnswer {
    const { bindTicket, account, password } = (req.data || {}) as { bindTicket?: string; account?: string; password?: string };
    if (binding.retryAfterSeconds > 0) return envelope(429, 'RATE_LIMITED', 'too many attempts', { 'Retry-After': String(binding.retryAfterSeconds) });
    const ticket = binding.tickets.get(bindTicket || '');
    if (!ticket || ticket.used || ticket.expiresAt <= Date.now()) return envelope(401, 'INVALID_BIND_TICKET', 'the bind ticket is unknown, used or expired');
    if (!account || binding.accounts[account] === undefined || binding.accounts[account] !== password) {
      return envelope(401, 'INVALID_CREDENTIALS', 'wrong account or password');
    }
    if (binding.boundElsewhere.has(account)) return envelope(409, 'ACCOUNT_ALREADY_BOUND', 'the account is bound to another WeChat user');
    ticket.used = true;
    binding.bound = true;
    binding.account = { name: account, displayName: '张三' };
    return newSession();
  }

  /** The default fake developer server: login issues skeys, everything else needs a valid one. */
  function defaultRoute(req: FakeRequest): FakeOutcome {
    if (req.path === '/auth/login') {
      const code = (req.data as { code?: string }).code;
      if (!code) return { statusCode: 400, data: { error: { code: 'BAD_REQUEST', message: 'code required' } } };
      return loginAnswer();
    }
    if (req.path === '/auth/bind') return bindAnswer(req);
    if (req.path === '/public') return { statusCode: 200, data: { public: true } };
    if (!req.skey || !validSkeys.has(req.skey)) {
      return { statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: 'log in again' } } };
    }
    if (req.path === '/auth/logout') validSkeys.delete(req.skey);
    if (req.path === '/auth/binding' && req.method === 'DELETE') {
      // Every session of the binding ends; the next login asks for a bind again.
      binding.bound = false;
      binding.account = null;
      validSkeys.clear();
      return { statusCode: 200, data: { ok: true } };
    }
    return { statusCode: 200, data: { path: req.path, skey: req.skey } };
  }

  function serve(req: FakeRequest, done: (outcome: FakeOutcome) => void): void {
    const handler = routes.get(req.path) || defaultRoute;
    // Answer on a later turn, as the network would.
    setTimeout(() => Promise.resolve(handler(req)).then(done), 0);
  }

  function startCall(
    url: string,
    method: string,
    header: Record<string, string> | undefined,
    data: unknown,
    success: ((r: { statusCode: number; data: unknown; header: Record<string, string> }) => void) | undefined,
    fail: ((e: { errMsg: string }) => void) | undefined,
    api: 'request' | 'uploadFile',
    timeout: number | undefined,
  ) {
    const path = url.startsWith(BASE_URL) ? url.slice(BASE_URL.length) : url;
    const auth = (header && header.Authorization) || '';
    const req: FakeRequest = { url, path, method, header: { ...header }, data, skey: auth.startsWith('Bearer ') ? auth.slice(7) : undefined, timeout };
    sent.push(req);
    if (path === '/auth/login') stats.loginRequests++;
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    let settled = false;
    const finish = (outcome: FakeOutcome | { abort: true }) => {
      if (settled) return;
      settled = true;
      stats.inFlight--;
      if (outcome === 'hang') return;
      if ('abort' in outcome) return fail?.({ errMsg: `${api}:fail abort` });
      if ('fail' in outcome) return fail?.({ errMsg: outcome.fail });
      const body = api === 'uploadFile' ? JSON.stringify(outcome.data) : outcome.data;
      if (success) success({ statusCode: outcome.statusCode, data: body, header: outcome.header || {} });
    };
    serve(req, (outcome) => {
      if (outcome === 'hang') return; // stays in flight until aborted
      finish(outcome);
    });
    return {
      abort() {
        if (settled) return;
        stats.aborted++;
        finish({ abort: true });
      },
    };
  }

  const wx: WxLike = {
    login({ success, fail }) {
      stats.logins++;
      setTimeout(() => {
        if (behaviour.loginFails) return fail?.({ errMsg: behaviour.loginFails });
        behaviour.wechatSessionValid = true;
        success?.({ code: behaviour.touristMode ? 'the code is a mock one' : `code-${stats.logins}` });
      }, 0);
    },
    checkSession({ success, fail }) {
      stats.checkSessions++;
      const valid = behaviour.wechatSessionValid && !behaviour.touristMode;
      setTimeout(() => (valid ? success?.({}) : fail?.({ errMsg: 'checkSession:fail session expired' })), 0);
    },
    request({ url, method = 'GET', header, data, timeout, success, fail }) {
      stats.requests++;
      return startCall(url, method, header, data, success, fail, 'request', timeout);
    },
    uploadFile({ url, header, formData, filePath, name, timeout, success, fail }) {
      stats.uploads++;
      return startCall(url, 'POST', header, { formData, filePath, name }, success as (r: { statusCode: number; data: unknown }) => void, fail, 'uploadFile', timeout);
    },
    getStorageSync(key) {
      const raw = storage.get(key);
      return raw === undefined ? '' : JSON.parse(raw);
    },
    setStorageSync(key, value) {
      stats.storageWrites++;
      if (behaviour.storageWriteThrows) throw new Error('setStorageSync:fail exceed storage max size 10Mb');
      storage.set(key, JSON.stringify(value));
    },
    removeStorageSync(key) {
      storage.delete(key);
    },
  };

  return {
    wx,
    stats,
    behaviour,
    binding,
    /** Every ticket the server holds expires (as ten minutes passing would). */
    expireTickets() {
      for (const ticket of binding.tickets.values()) ticket.expiresAt = 0;
    },
    /** The server's answer to a login or bind, for routes of a suite that answers its own users. */
    loginAnswer,
    bindAnswer,
    /** Replaces what a session answer's body holds besides skey and expiresAt (its user, menus). */
    setSessionBody(body: (skey: string, expiresAt: number, isNewUser: boolean) => object) {
      sessionBody = body;
    },
    /** Every request the server received, in order. */
    sent,
    storage,
    /** Replace the answer for one path. */
    route(path: string, handler: FakeHandler) {
      routes.set(path, handler);
    },
    /** The server forgets every session (what a restart of an in-memory server does). */
    expireAllSessions() {
      validSkeys.clear();
    },
    /** Issue a session directly on the server, as if a login happened before this run. */
    issueSession(skey: string) {
      validSkeys.add(skey);
    },
    isValid: (skey: string) => validSkeys.has(skey),
    /** Requests of one path. */
    sentTo: (path: string) => sent.filter((r) => r.path === path),
  };
}

export type FakeWx = ReturnType<typeof createFakeWx>;

/** A promise and the functions that settle it, for answers a test releases by hand. */
export function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
