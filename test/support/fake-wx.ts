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

  /** The default fake developer server: login issues skeys, everything else needs a valid one. */
  function defaultRoute(req: FakeRequest): FakeOutcome {
    if (req.path === '/auth/login') {
      const code = (req.data as { code?: string }).code;
      if (!code) return { statusCode: 400, data: { error: { code: 'BAD_REQUEST', message: 'code required' } } };
      const skey = `skey-${++issued}`;
      validSkeys.add(skey);
      return {
        statusCode: 200,
        data: { skey, expiresAt: Date.now() + behaviour.sessionLifetime, user: { id: 'u1', nickname: '' }, isNewUser: issued === 1 },
        header: behaviour.serverDate ? { Date: behaviour.serverDate } : {},
      };
    }
    if (req.path === '/public') return { statusCode: 200, data: { public: true } };
    if (!req.skey || !validSkeys.has(req.skey)) {
      return { statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: 'log in again' } } };
    }
    if (req.path === '/auth/logout') validSkeys.delete(req.skey);
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
