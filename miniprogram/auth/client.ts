import { AuthError, isAuthError } from './errors';
import { isSkey, readSession, writeSession } from './storage';
import { createStages, type Stages } from './stages';
import { APP_LIMIT, callWx, clear, enqueue, leave, send, type Share, type Ticket, type Timer } from './transport';
import type {
  AuthClient,
  AuthEvents,
  AuthOptions,
  BindRequest,
  BindRequiredAnswer,
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
const FRESH_LOGIN_TRUSTED_MS = 300_000; // 5 minutes

const MS = 'a number of ms above 0';
const isPositive = (v: unknown) => Number.isFinite(v) && (v as number) > 0;
const isAtLeast0 = (v: unknown) => Number.isFinite(v) && (v as number) >= 0;
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
    bindPath = '/auth/bind',
    bindingPath = '/auth/binding',
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
  for (const [name, path] of Object.entries({ loginPath, logoutPath, bindPath, bindingPath })) {
    if (!PATH.test(path)) throw invalid('createAuth', name, 'a path like "/auth/login"', path);
  }

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
  /** The server wants a bind (BIND_REQUIRED): calls reject with this instead of logging in, until bind() or login(). */
  let bindWait: AuthError | null = null;

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
    if (from.epoch !== epoch) throw new AuthError('CANCELLED', where, 'logged out');
    const s = current();
    return isFresh(s) ? s : null;
  }

  function ensureSession(): Promise<Session<U>> {
    const s = current();
    return pendingLogin ? pendingLogin.promise : isFresh(s) ? Promise.resolve(s) : bindWait ? Promise.reject(bindWait) : login();
  }

  /**
   * One login shared by every caller, or a bind (`request`), which takes the login's place; a
   * logout cancels either at once, and its outcome is then ignored.
   */
  function login(request?: BindRequest): Promise<Session<U>> {
    if (pendingLogin && !request) return pendingLogin.promise;
    const path = request ? bindPath : loginPath;
    const where = `POST ${base}${path}`;
    const began = epoch;
    const renewalsAtStart = renewals;
    const cancelled = () => new AuthError('CANCELLED', where, 'logged out');
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
      // A bind posts at once, so that a logout finds the request to abort.
      const postTo = (data: object) => (post = call({ url: path, method: 'POST', data, auth: false }, false, true));
      (request
        ? postTo(request)
        : callWx<{ code: string }>('wx.login', timeout, (cb) => getWx().login({ ...cb, timeout }), 'LOGIN_FAILED').then((result) => {
            const { code } = live(result);
            if (!code) throw new AuthError('LOGIN_FAILED', 'wx.login', 'no code');
            return postTo({ code });
          })
      )
        .then((answer) => {
          const fresh = accept(live(answer), where);
          end();
          bindWait = null;
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
            const latest = pendingLogin === attempt;
            end();
            if (began !== epoch) return reject(cancelled());
            const inner = isAuthError(cause) ? cause : undefined;
            const envelope = (inner && inner.data) as { error?: { code?: unknown } } | undefined;
            // A ticket expired or used: one more login, for a fresh one (or a session, if bound meanwhile).
            if (request && envelope && envelope.error && envelope.error.code === 'INVALID_BIND_TICKET') return login().then(resolve, reject);
            const error =
              inner && (inner.code === 'LOGIN_FAILED' || inner.code === 'BIND_REQUIRED')
                ? inner
                : new AuthError('LOGIN_FAILED', where, inner ? inner.message : String(cause), cause, inner);
            // A bind wanted (only BIND_REQUIRED has a ticket), or the user refused outright (403
            // USER_BLOCKED): another login would only be refused again, so none starts until the
            // app asks (login(), bind(), logout()).
            if (latest && (error.ticket || error.statusCode === 403)) bindWait = error;
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
   * and nothing is stored. Its body is kept out of the error: it holds the skey. An answer that
   * asks for a bind is BIND_REQUIRED, with its ticket.
   */
  function accept(answer: Response, where: string): Session<U> {
    const body = answer.data;
    const { skey, expiresAt, user, bindRequired, bindTicket } = (body && typeof body === 'object' ? body : {}) as Partial<LoginAnswer<U> & BindRequiredAnswer>;
    const refuse = (detail: string) => new AuthError('LOGIN_FAILED', where, `unusable login answer: ${detail}`, undefined, { statusCode: answer.statusCode });
    const binding = bindRequired === true;
    const token = binding ? bindTicket : skey;
    if (!isSkey(token)) throw refuse(`${binding ? 'bindTicket' : 'skey'} must be a non-empty string, visible ASCII, at most 1024 characters`);
    if (user === undefined && !binding) throw refuse('user is missing');
    if (!isAtLeast0(expiresAt)) throw refuse('expiresAt must be a number, epoch ms');
    if ((expiresAt as number) < MIN_EPOCH_MS) throw refuse(`expiresAt must be epoch ms; ${expiresAt} looks like seconds`);
    // Phones' clocks drift: move expiresAt onto this device's clock using the answer's Date header.
    const now = Date.now();
    const serverNow = Date.parse(answer.header.Date || answer.header.date);
    const local = serverNow ? (expiresAt as number) - serverNow + now : (expiresAt as number);
    if (local - expiryMargin <= now) {
      throw refuse(`expiresAt is ${Math.round((local - now) / 1000)} s away (device clock), within expiryMargin`);
    }
    if (binding) {
      throw new AuthError('BIND_REQUIRED', where, 'bind first', undefined, undefined, { bindTicket: token, expiresAt: local });
    }
    return { skey: token, expiresAt: local, user: user as U };
  }

  function expired(answer: Response, where: string): boolean {
    try {
      return isSessionExpired(answer);
    } catch (e) {
      throw new AuthError('HTTP', where, `isSessionExpired threw: ${e}`, e, answer);
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
    // An abort or the timeout leaves the stage the call is in at once, rejecting the call. The
    // attempt's clock runs while the call waits on the network: for a session, or for its answer.
    let stages!: Stages;

    const { auth: _a, signal: _s, timeout: _t, ...wxOptions } = o;

    async function run(): Promise<Response<T>> {
      const { stage } = stages;
      if (typeof o.url !== 'string' || !PATH.test(o.url)) throw invalid(where, 'url', 'a path like "/api/orders"', o.url);
      if (o.timeout !== undefined && !isPositive(o.timeout)) throw invalid(where, 'timeout', MS, o.timeout);
      if (authed && o.header && Object.keys(o.header).some((name) => /^authorization$/i.test(name))) {
        throw new TypeError(`${where}: Authorization is the session's here; send your own with auth: false`);
      }
      for (let failures = 0; ; ) {
        // 1. Waiting for a session, holding no slot: the cached one, or the login shared by every caller.
        if (authed && (!usable(from, where) || pendingLogin)) {
          stages.startClock('no session');
          await stage(ensureSession);
          stages.pauseClock();
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
          const timeLeft = stages.startClock('no answer');
          answer = await stage(
            () => send(getWx(), upload, where, { ...wxOptions, url: base + o.url, method, header }, timeLeft, (abort) => (abortTask = abort)),
            () => abortTask(),
          );
        } catch (error) {
          failure = error;
        } finally {
          // Whatever comes next is a new attempt (after a backoff or a renewal), or the end.
          stages.pauseClock(true);
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
            throw new AuthError('SESSION_EXPIRED', where, 'renewed session refused', undefined, answer);
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
        throw new AuthError('HTTP', where, `HTTP ${answer.statusCode}`, undefined, answer);
      }
    }

    // Built only when needed: most calls are never aborted, and an Error's stack is not free.
    const abort = () => stages.stop(new AuthError('CANCELLED', where, 'aborted'));
    const pending = new Promise<Response<T>>((resolve, reject) => {
      stages = createStages(where, limit, reject);
      if (signal) {
        if (signal.aborted) return abort();
        signal.addEventListener('abort', abort);
      }
      run().then(resolve, reject);
    }) as PendingCall<Response<T>>;
    const finish = () => {
      stages.pauseClock(true);
      if (signal) signal.removeEventListener('abort', abort);
    };
    pending.then(finish, finish);
    pending.abort = abort;
    return pending;
  }

  return {
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
    login: () => {
      bindWait = null;
      return login();
    },
    bind: login,
    // The server ended every session of the binding: nothing to tell it after.
    unbind: () => call({ url: bindingPath, method: 'DELETE' }, false).then(() => signOut(false)),
    logout: () => signOut(true),
    on(event, listener) {
      const list = (listeners[event] = listeners[event] || []) as (typeof listener)[];
      list.push(listener);
      return () => {
        const i = list.indexOf(listener);
        if (i >= 0) list.splice(i, 1);
      };
    },
  };

  /** Logs out here (see AuthClient.logout); `tell`: then tells the server, best effort. */
  function signOut(tell: boolean): Promise<void> {
    const s = current();
    // A session cleared by a refusal leaves the user signed in: logging out from the
    // sessionExpired event still ends something.
    const ending = signedIn || !!pendingLogin;
    signedIn = false;
    epoch++;
    bindWait = null;
    if (pendingLogin) {
      pendingLogin.cancel();
      pendingLogin = null;
    }
    if (!ending) return Promise.resolve();
    store(null);
    emit('logout');
    if (!s || !tell) return Promise.resolve();
    // Best effort, after the local logout: the skey is sent explicitly, and a 401 here means nothing.
    const told = call({ url: logoutPath, method: 'POST', auth: false, header: { Authorization: `Bearer ${s.skey}` } }, false);
    return told.then(() => undefined, () => undefined);
  }
}
