import { AuthError, isAuthError } from './errors';
import { isSkey, readSession, writeSession } from './storage';
import { APP_LIMIT, callWx, clear, enqueue, leave, send, type Share, type Ticket, type Timer } from './transport';
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
/** A path on baseURL: nothing after the base can name another host or userinfo. */
const PATH = /^\/(?![/\\])[^@\\]*$/;
const BASE = /^https?:\/\/[^/?#@\\\s]+(\/[^?#@\\\s]*)?$/;
/** Epoch ms before 1973: an `expiresAt` this small was sent in seconds. */
const MIN_EPOCH_MS = 1e11;
/** How long a failed wx.checkSession is not believed after this run's own wx.login (see ensureWechatSession). */
const FRESH_LOGIN_TRUSTED_MS = 5 * 60 * 1000;

const MS = 'a number of ms above 0';
const isPositive = (v: unknown) => typeof v === 'number' && v > 0 && v < Infinity;
const isAtLeast0 = (v: unknown) => typeof v === 'number' && v >= 0 && v < Infinity;
const isWhole = (v: unknown, min: number, max: number) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const invalid = (where: string, name: string, rule: string, value: unknown) =>
  new TypeError(`${where}: ${name} must be ${rule}, got ${typeof value === 'function' ? 'a function' : JSON.stringify(value)}`);

/** What a call saw when it began: the logouts and the renewals so far. */
interface Origin {
  epoch: number;
  renewals: number;
}

export function createAuth<U = unknown>(options: AuthOptions): AuthClient<U> {
  const {
    baseURL,
    loginPath = '/auth/login',
    logoutPath = '/auth/logout',
    storageKey = 'auth_session',
    timeout = 10000,
    uploadTimeout = 60000,
    maxConcurrent = APP_LIMIT,
    retries = 2,
    retryDelay = 300,
    expiryMargin = 30000,
    isSessionExpired = (response: Response) => response.statusCode === 401,
  } = options || ({} as AuthOptions);
  // A mistake here would otherwise surface as every call hanging or failing, far from its cause.
  const rules: [string, unknown, boolean, string][] = [
    ['baseURL', baseURL, typeof baseURL === 'string' && BASE.test(baseURL), 'an http(s) URL like "https://api.example.com"'],
    ['loginPath', loginPath, PATH.test(loginPath), 'a path like "/auth/login"'],
    ['logoutPath', logoutPath, PATH.test(logoutPath), 'a path like "/auth/logout"'],
    ['storageKey', storageKey, typeof storageKey === 'string' && storageKey !== '', 'a non-empty string'],
    ['timeout', timeout, isPositive(timeout), MS],
    ['uploadTimeout', uploadTimeout, isPositive(uploadTimeout), MS],
    ['maxConcurrent', maxConcurrent, isWhole(maxConcurrent, 1, APP_LIMIT), `an integer from 1 to ${APP_LIMIT}`],
    ['retries', retries, isWhole(retries, 0, 10), 'an integer from 0 to 10'],
    ['retryDelay', retryDelay, isAtLeast0(retryDelay), 'a number of ms, 0 or more'],
    ['expiryMargin', expiryMargin, isAtLeast0(expiryMargin), 'a number of ms, 0 or more'],
    ['isSessionExpired', isSessionExpired, typeof isSessionExpired === 'function', 'a function'],
  ];
  for (const [name, value, ok, rule] of rules) if (!ok) throw invalid('createAuth', name, rule, value);

  const base = baseURL.replace(/\/$/, '');
  // Read at call time, never at import: the module loads where no global wx exists.
  const getWx = (): WxLike => options.wx || wx;
  const share: Share = { max: maxConcurrent, active: 0 };
  const listeners: { [E in keyof AuthEvents<U>]?: AuthEvents<U>[E][] } = {};
  /** undefined until first read from storage; null when logged out. Frozen: getSession hands it out. */
  let session: Session<U> | null | undefined;
  /** A user is signed in, as far as the app knows: a session was held and no logout has come since. */
  let signedIn = false;
  /** Logouts so far. Nothing begun before a logout may log in, store a session or send with one. */
  let epoch = 0;
  /**
   * Sessions cleared because the server refused them, so far; and how many there had been when the
   * login that made the session held now began (0 for one from storage).
   */
  let renewals = 0;
  let sessionRenewals = 0;
  /** The session this run's wx.login made that no wx.checkSession has confirmed yet, and when it was made. */
  let unconfirmed: { skey: string; at: number } | null = null;
  let pendingLogin: { promise: Promise<Session<U>>; cancel(): void } | null = null;

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
    if (session === undefined) {
      const stored = readSession<U>(getWx(), storageKey);
      session = stored && Object.freeze(stored);
      signedIn = !!stored;
    }
    return session;
  }

  function store(next: Session<U> | null): void {
    session = next && Object.freeze(next);
    writeSession(getWx(), storageKey, next);
  }

  const isFresh = (s: Session<U> | null): s is Session<U> => !!s && s.expiresAt - expiryMargin > Date.now();

  const origin = (): Origin => ({ epoch, renewals });

  /** The session a call begun at `from` may send now, or null. One begun before the last logout may send none. */
  function usable(from: Origin, where: string): Session<U> | null {
    if (from.epoch !== epoch) throw new AuthError('CANCELLED', where, 'logged out after the call began');
    const s = current();
    return isFresh(s) ? s : null;
  }

  function ensureSession(): Promise<Session<U>> {
    const s = current();
    return pendingLogin ? pendingLogin.promise : isFresh(s) ? Promise.resolve(s) : login();
  }

  /** One login shared by every caller; a logout cancels it at once, and its outcome is then ignored. */
  function login(): Promise<Session<U>> {
    if (pendingLogin) return pendingLogin.promise;
    const where = `POST ${base}${loginPath}`;
    const began = epoch;
    const renewalsAtStart = renewals;
    const cancelled = () => new AuthError('CANCELLED', where, 'logged out during the login');
    // Each step checks, in the same turn as it acts, that no logout came in between.
    const live = <R>(value: R): R => {
      if (began !== epoch) throw cancelled();
      return value;
    };
    let post: PendingCall<Response> | undefined;
    const attempt = {} as { promise: Promise<Session<U>>; cancel(): void };
    const end = () => {
      if (pendingLogin === attempt) pendingLogin = null;
    };
    attempt.promise = new Promise<Session<U>>((resolve, reject) => {
      attempt.cancel = () => {
        reject(cancelled());
        if (post) post.abort();
      };
      callWx<{ code: string }>('wx.login', timeout, (cb) => getWx().login({ ...cb, timeout }), 'LOGIN_FAILED')
        .then((result) => {
          const { code } = live(result);
          if (!code) throw new AuthError('LOGIN_FAILED', 'wx.login', 'no code');
          return (post = call({ url: loginPath, method: 'POST', data: { code }, auth: false }, false, true));
        })
        .then((answer) => {
          const fresh = accept(live(answer), where);
          end();
          store(fresh);
          sessionRenewals = renewalsAtStart;
          unconfirmed = { skey: fresh.skey, at: Date.now() };
          signedIn = true;
          emit('login', fresh);
          // A login listener may have logged out: then this login is cancelled, not resolved with no session.
          return live(fresh);
        })
        .then(
          resolve,
          (cause: unknown) => {
            end();
            if (began !== epoch) return reject(cancelled());
            const inner = isAuthError(cause) ? cause : undefined;
            const error =
              inner && inner.code === 'LOGIN_FAILED'
                ? inner
                : new AuthError('LOGIN_FAILED', where, inner ? inner.message : String(cause), cause, inner && inner.statusCode, inner && inner.data);
            emit('loginFailed', error);
            reject(error);
          },
        );
    });
    pendingLogin = attempt;
    return attempt.promise;
  }

  /**
   * A login answer becomes a session only if it is usable; otherwise LOGIN_FAILED naming the field,
   * and nothing is stored. Its body is kept out of the error: it holds the skey.
   */
  function accept(answer: Response, where: string): Session<U> {
    const body = answer.data;
    const { skey, expiresAt, user } = (body && typeof body === 'object' ? body : {}) as Partial<LoginAnswer<U>>;
    const refuse = (detail: string) => new AuthError('LOGIN_FAILED', where, `unusable login answer: ${detail}`, undefined, answer.statusCode);
    if (!isSkey(skey)) throw refuse('skey must be a non-empty string, visible ASCII, at most 1024 characters');
    if (user === undefined) throw refuse('user is missing');
    if (!isAtLeast0(expiresAt)) throw refuse('expiresAt must be a number, epoch ms');
    if ((expiresAt as number) < MIN_EPOCH_MS) throw refuse(`expiresAt must be epoch ms; ${expiresAt} looks like seconds`);
    // Phones' clocks drift: move expiresAt onto this device's clock using the answer's Date header.
    const now = Date.now();
    const serverNow = Date.parse(answer.header.Date || answer.header.date);
    const local = serverNow ? (expiresAt as number) - serverNow + now : (expiresAt as number);
    if (local - expiryMargin <= now) {
      throw refuse(`expiresAt is ${Math.round((local - now) / 1000)} s away (device clock), within expiryMargin`);
    }
    return { skey, expiresAt: local, user: user as U };
  }

  function expired(answer: Response, where: string): boolean {
    try {
      return isSessionExpired(answer);
    } catch (e) {
      throw new AuthError('HTTP', where, `isSessionExpired threw: ${e}`, e, answer.statusCode, answer.data);
    }
  }

  /**
   * The request pipeline. Each attempt goes through the states numbered below; a call leaves the
   * loop only by an answer or an error, and goes round again only to back off (at most `retries`
   * times) or to renew (at most once: a session renewed after the call began is never renewed by it).
   */
  function call<T>(o: RequestOptions | UploadOptions, upload: boolean, isLogin?: boolean): PendingCall<Response<T>> {
    const method = upload ? 'POST' : (o as RequestOptions).method || 'GET';
    const where = `${method} ${base}${o.url}`;
    const authed = o.auth !== false;
    const from = origin();
    const limit = o.timeout || (upload ? uploadTimeout : timeout);
    const { signal } = o;
    /** Set by abort or timeout: no stage starts after it, and the current one is left at once. */
    let stopped: AuthError | undefined;
    let over = false;
    let leaveStage: () => void = () => {};
    let rejectCall: (e: AuthError) => void = () => {};
    // The attempt's clock runs while the call waits on the network: for a session, or for its answer.
    let timeLeft = limit;
    let clockStart = 0;
    let timer: Timer;

    const stop = (error: AuthError) => {
      if (stopped || over) return;
      stopped = error;
      clear(timer);
      leaveStage();
      rejectCall(error);
    };
    const startClock = (detail: string) => {
      clockStart = Date.now();
      timer = setTimeout(() => stop(new AuthError('TIMEOUT', where, `${detail} within ${limit} ms`)), timeLeft);
    };
    const stopClock = () => {
      clear(timer);
      timeLeft = Math.max(1, timeLeft - (Date.now() - clockStart));
    };
    /** Enters one stage unless the call was stopped; a stop leaves it at once, after `undo`. */
    const stage = <R>(start: () => Promise<R>, undo?: () => void): Promise<R> =>
      stopped
        ? Promise.reject(stopped)
        : new Promise<R>((resolve, reject) => {
            leaveStage = () => {
              if (undo) undo();
              reject(stopped);
            };
            start().then(resolve, reject);
          });

    const { auth: _a, signal: _s, timeout: _t, ...wxOptions } = o;

    async function run(): Promise<Response<T>> {
      if (typeof o.url !== 'string' || !PATH.test(o.url)) throw invalid(where, 'url', 'a path like "/api/orders"', o.url);
      if (o.timeout !== undefined && !isPositive(o.timeout)) throw invalid(where, 'timeout', MS, o.timeout);
      if (authed && o.header && Object.keys(o.header).some((name) => /^authorization$/i.test(name))) {
        throw new TypeError(`${where}: Authorization is the session's here; send your own with auth: false`);
      }
      for (let failures = 0; ; ) {
        timeLeft = limit;
        // 1. Waiting for a session, holding no slot: the cached one, or the login shared by every caller.
        if (authed && (!usable(from, where) || pendingLogin)) {
          startClock('no session');
          await stage(ensureSession);
          stopClock();
        }

        // 2. Queued for a slot of the app's pool (a login goes first). The clock does not run: the
        //    line moves as the calls ahead of it answer or time out.
        let ticket!: Ticket;
        await stage(() => new Promise<void>((go) => enqueue((ticket = { share, go }), !!isLogin)), () => leave(ticket));

        // 3. In flight, with the session current as the call leaves the line.
        let sent: Session<U> | null = null;
        let sentRenewals = 0;
        let answer: Response | undefined;
        let failure: unknown;
        try {
          sent = authed ? usable(from, where) : null;
          sentRenewals = sessionRenewals;
          if (authed && !sent) continue; // lost to another call's renewal while in line: back to 1
          const header = sent ? { ...o.header, Authorization: `Bearer ${sent.skey}` } : o.header;
          let abortTask = () => {};
          startClock('no answer');
          answer = await stage(
            () => send(getWx(), upload, where, { ...wxOptions, url: base + o.url, method, header }, timeLeft, (abort) => (abortTask = abort)),
            () => abortTask(),
          );
        } catch (error) {
          failure = error;
        } finally {
          clear(timer);
          leave(ticket);
        }

        if (!answer) {
          // 4. Backing off after a network failure, idempotent methods only, holding no slot.
          if (isAuthError(failure, 'NETWORK') && IDEMPOTENT.test(method) && failures < retries) {
            let backoff: Timer;
            await stage(() => new Promise((wake) => (backoff = setTimeout(wake, retryDelay * 2 ** failures++))), () => clear(backoff));
            continue;
          }
          throw failure;
        }

        if (sent && expired(answer, where)) {
          // 5. Renewing. A call begun before a logout stops here (CANCELLED). A session that a
          //    renewal since the call began logged in, refused too, shows the server refuses fresh
          //    sessions: another login would only loop, so the call ends. Else back to 1 for a login.
          usable(from, where);
          if (sentRenewals > from.renewals) {
            throw new AuthError('SESSION_EXPIRED', where, 'refused the session renewed for this call', undefined, answer.statusCode, answer.data);
          }
          // Only the skey that was refused is cleared: a late 401 for an older skey leaves a newer one alone.
          if (session && session.skey === sent.skey) {
            renewals++;
            store(null);
            emit('sessionExpired');
          }
          continue;
        }
        if (answer.statusCode >= 200 && answer.statusCode < 300) return answer as Response<T>;
        throw new AuthError('HTTP', where, `HTTP ${answer.statusCode}`, undefined, answer.statusCode, answer.data);
      }
    }

    // Built only when needed: most calls are never aborted, and an Error's stack is not free.
    const abort = () => stop(new AuthError('CANCELLED', where, 'aborted'));
    const pending = new Promise<Response<T>>((resolve, reject) => {
      rejectCall = reject;
      if (signal) {
        if (signal.aborted) return abort();
        signal.addEventListener('abort', abort);
      }
      run().then(resolve, reject);
    }) as PendingCall<Response<T>>;
    const finish = () => {
      over = true;
      clear(timer);
      if (signal) signal.removeEventListener('abort', abort);
    };
    pending.then(finish, finish);
    pending.abort = abort;
    return pending;
  }

  return {
    login,
    ensureSession,
    ensureWechatSession() {
      const from = origin();
      const where = 'wx.checkSession';
      return ensureSession().then((s) =>
        callWx(where, timeout, (cb) => getWx().checkSession(cb), 'LOGIN_FAILED').then(
          () => true,
          () => false,
        ).then((confirmed) => {
          usable(from, where); // begun before a logout: CANCELLED, and no login
          if (confirmed) {
            unconfirmed = null;
            return s;
          }
          // WeChat's session_key cannot have expired minutes after this run's own wx.login made it:
          // a failure then shows checkSession can't be trusted here (DevTools' tourist mode fails
          // it every time). The fresh session stands, instead of a login per call; past that
          // window the failure is believed, so tourist mode costs a login per window at most.
          const madeJustNow = unconfirmed && unconfirmed.skey === s.skey && Date.now() - unconfirmed.at < FRESH_LOGIN_TRUSTED_MS;
          return madeJustNow ? s : login();
        }),
      );
    },
    ready: () => (pendingLogin ? pendingLogin.promise : Promise.resolve(current())).then((s) => (isFresh(s) ? s : null), () => null),
    getSession: current,
    updateUser(user) {
      const s = current();
      if (s) store({ ...s, user });
    },
    request: (o) => call(o, false),
    uploadFile: (o) => call(o, true),
    logout() {
      const s = current();
      // A session cleared by a refusal leaves the user signed in: logging out from the
      // sessionExpired event still ends something.
      const ending = signedIn || !!pendingLogin;
      signedIn = false;
      epoch++;
      if (pendingLogin) {
        pendingLogin.cancel();
        pendingLogin = null;
      }
      if (!ending) return Promise.resolve();
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
