import { AuthError, isAuthError } from './errors';
import { readSession, writeSession } from './storage';
import { callWx, createSlots, send } from './transport';
import type {
  AuthClient,
  AuthEvents,
  AuthOptions,
  LoginAnswer,
  PendingCall,
  RequestOptions,
  Response,
  Session,
  UploadOptions,
  WxLike,
} from './types';

const IDEMPOTENT = /^(GET|HEAD|OPTIONS|PUT|DELETE)$/;

export function createAuth<U = unknown>(options: AuthOptions): AuthClient<U> {
  const {
    baseURL,
    loginPath = '/auth/login',
    logoutPath = '/auth/logout',
    storageKey = 'auth_session',
    timeout = 10000,
    maxConcurrent = 10,
    retries = 2,
    retryDelay = 300,
    expiryMargin = 30000,
    isSessionExpired = (response: Response) => response.statusCode === 401,
  } = options;
  // Read at call time, never at import: the module loads where no global wx exists.
  const getWx = (): WxLike => options.wx || wx;
  const slots = createSlots(maxConcurrent);
  const listeners: { [E in keyof AuthEvents<U>]?: AuthEvents<U>[E][] } = {};
  /** undefined until first read from storage; null when logged out. */
  let session: Session<U> | null | undefined;
  let pendingLogin: Promise<Session<U>> | null = null;
  /** Bumped by logout, so a login that straddles a logout is discarded. */
  let epoch = 0;

  function emit<E extends keyof AuthEvents<U>>(event: E, ...args: Parameters<AuthEvents<U>[E]>): void {
    for (const listener of (listeners[event] || []).slice()) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        // A faulty listener must not break the login flow; surface it to App.onError instead.
        setTimeout(() => {
          throw error;
        });
      }
    }
  }

  function current(): Session<U> | null {
    if (session === undefined) session = readSession<U>(getWx(), storageKey);
    return session;
  }

  function store(next: Session<U> | null): void {
    session = next;
    writeSession(getWx(), storageKey, next);
  }

  const isFresh = (s: Session<U> | null): s is Session<U> => !!s && s.expiresAt - expiryMargin > Date.now();

  function login(): Promise<Session<U>> {
    if (!pendingLogin) {
      const started = epoch;
      const where = `POST ${baseURL}${loginPath}`;
      pendingLogin = exchangeCode(where).then(
        (fresh) => {
          pendingLogin = null;
          if (started !== epoch) throw new AuthError('CANCELLED', where, 'logged out during login');
          store(fresh);
          emit('login', fresh);
          return fresh;
        },
        (cause: unknown) => {
          pendingLogin = null;
          const error = isAuthError(cause, 'LOGIN_FAILED')
            ? cause
            : new AuthError('LOGIN_FAILED', where, isAuthError(cause) ? cause.message : String(cause), cause,
                isAuthError(cause) ? cause.statusCode : undefined, isAuthError(cause) ? cause.data : undefined);
          emit('loginFailed', error);
          throw error;
        },
      );
    }
    return pendingLogin;
  }

  async function exchangeCode(where: string): Promise<Session<U>> {
    const { code } = await callWx<{ code: string }>('wx.login', timeout, (cb) => getWx().login({ ...cb, timeout }), 'LOGIN_FAILED');
    if (!code) throw new AuthError('LOGIN_FAILED', 'wx.login', 'no code');
    const answer = await call<Partial<LoginAnswer<U>>>({ url: loginPath, method: 'POST', data: { code }, auth: false }, false, true);
    const { skey, expiresAt, user } = answer.data || {};
    if (typeof skey !== 'string' || !skey || typeof expiresAt !== 'number' || user === undefined) {
      throw new AuthError('LOGIN_FAILED', where, 'malformed login answer', undefined, answer.statusCode);
    }
    // Phones' clocks drift: move expiresAt onto this device's clock using the answer's Date header.
    const serverNow = Date.parse(answer.header.Date || answer.header.date);
    return { skey, expiresAt: serverNow ? expiresAt - serverNow + Date.now() : expiresAt, user };
  }

  function ensureSession(): Promise<Session<U>> {
    const s = current();
    return pendingLogin || (isFresh(s) ? Promise.resolve(s) : login());
  }

  /**
   * The request pipeline: wait for a session (holding no slot), take a slot, send with the skey
   * current at that moment, and heal an expired session with one shared login and one retry.
   */
  function call<T>(o: RequestOptions | UploadOptions, upload: boolean, isLogin?: boolean): PendingCall<Response<T>> {
    const method = upload ? 'POST' : (o as RequestOptions).method || 'GET';
    const where = `${method} ${baseURL}${o.url}`;
    const authed = o.auth !== false;
    const { signal } = o;
    // Built only when needed: most calls are never aborted, and an Error's stack is not free.
    const cancelled = () => new AuthError('CANCELLED', where, 'aborted');
    let isCancelled = false;
    let abortStage = () => {};
    let rejectCall: (e: unknown) => void = () => {};
    const abort = () => {
      if (isCancelled) return;
      isCancelled = true;
      abortStage();
      rejectCall(cancelled());
    };

    async function run(): Promise<Response<T>> {
      let renewed = false;
      let failures = 0;
      for (let round = 0; round < retries + 4; round++) {
        if (authed) await ensureSession();
        if (isCancelled) throw cancelled();
        await slots.acquire(!!isLogin, (leave) => (abortStage = leave));
        let sent: Session<U> | null = null;
        let response: Response | undefined;
        let failure: unknown;
        try {
          if (isCancelled) throw cancelled();
          if (authed) {
            sent = current();
            // Cleared while this call waited in line: log in first, without holding the slot.
            if (!sent) continue;
          }
          const header = sent ? { ...o.header, Authorization: `Bearer ${sent.skey}` } : o.header;
          const { auth: _a, signal: _s, timeout: _t, ...wxOptions } = o;
          response = await send(getWx(), upload, where, { ...wxOptions, url: baseURL + o.url, method, header }, o.timeout || timeout, (a) => (abortStage = a));
        } catch (error) {
          failure = error;
        } finally {
          slots.release();
        }
        if (!response) {
          // Backoff happens after the slot is released, so others go ahead meanwhile.
          if (isAuthError(failure, 'NETWORK') && IDEMPOTENT.test(method) && failures < retries) {
            await new Promise((resolve) => setTimeout(resolve, retryDelay * 2 ** failures++));
            continue;
          }
          throw failure;
        }
        if (sent && isSessionExpired(response)) {
          // Only the skey that was rejected is cleared: a late 401 for an older skey leaves a newer one alone.
          if (current() && current()!.skey === sent.skey) {
            store(null);
            emit('sessionExpired');
          }
          if (renewed) throw new AuthError('SESSION_EXPIRED', where, 'rejected after a fresh login', undefined, response.statusCode, response.data);
          renewed = true;
          continue;
        }
        if (response.statusCode >= 200 && response.statusCode < 300) return response as Response<T>;
        throw new AuthError('HTTP', where, `HTTP ${response.statusCode}`, undefined, response.statusCode, response.data);
      }
      throw new AuthError('SESSION_EXPIRED', where, 'no usable session');
    }

    const pending = new Promise<Response<T>>((resolve, reject) => {
      rejectCall = reject;
      if (signal) {
        if (signal.aborted) return reject(cancelled());
        signal.addEventListener('abort', abort);
      }
      run().then(resolve, reject);
    }) as PendingCall<Response<T>>;
    if (signal) {
      const detach = () => signal.removeEventListener('abort', abort);
      pending.then(detach, detach);
    }
    pending.abort = abort;
    return pending;
  }

  return {
    login,
    ensureSession,
    ensureWechatSession: () =>
      ensureSession().then((s) =>
        callWx('wx.checkSession', timeout, (cb) => getWx().checkSession(cb), 'LOGIN_FAILED').then(() => s, login),
      ),
    ready: () => (pendingLogin || Promise.resolve(current())).then((s) => (isFresh(s) ? s : null), () => null),
    getSession: current,
    updateUser(user) {
      const s = current();
      if (s) store({ ...s, user });
    },
    request: (o) => call(o, false),
    uploadFile: (o) => call(o, true),
    logout() {
      const s = current();
      epoch++;
      store(null);
      emit('logout');
      if (!s) return Promise.resolve();
      // Best effort, after the local logout: the skey is sent explicitly, and a 401 here means nothing.
      const told = call({ url: logoutPath, method: 'POST', auth: false, header: { Authorization: `Bearer ${s.skey}` } }, false);
      return told.then(() => undefined, () => undefined);
    },
    on(event, listener) {
      const list = (listeners[event] = listeners[event] || []) as (typeof listener)[];
      list.push(listener);
      return () => {
        const i = list.indexOf(listener);
        if (i >= 0) list.splice(i, 1);
      };
    },
  };
}
