import type { AuthError } from './errors';

export type HttpMethod = 'GET' | 'HEAD' | 'OPTIONS' | 'POST' | 'PUT' | 'DELETE' | 'TRACE' | 'CONNECT';
type Header = Record<string, string>;

/** What a wx API calls `fail` with. */
export interface WxFailure {
  errMsg: string;
}
interface WxCallbacks<R> {
  success?: (result: R) => void;
  fail?: (error: WxFailure) => void;
}
interface WxAnswer {
  statusCode: number;
  data: unknown;
  header: Header;
}
interface WxTask {
  abort(): void;
}

/**
 * The part of `wx` the service uses, callback style as WeChat defines it. The real `wx`
 * satisfies it; tests and Node adapters provide their own.
 */
export interface WxLike {
  login(options: WxCallbacks<{ code: string }> & { timeout?: number }): void;
  checkSession(options: WxCallbacks<unknown>): void;
  request(
    options: WxCallbacks<WxAnswer> & {
      url: string;
      method?: HttpMethod;
      data?: string | object | ArrayBuffer;
      header?: Header;
      timeout?: number;
      dataType?: string;
      responseType?: 'text' | 'arraybuffer';
    },
  ): WxTask;
  uploadFile(
    options: WxCallbacks<{ statusCode: number; data: string }> & {
      url: string;
      filePath: string;
      name: string;
      header?: Header;
      formData?: Record<string, unknown>;
      timeout?: number;
    },
  ): WxTask;
  getStorageSync(key: string): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- wx's own signature
  setStorageSync(key: string, data: unknown): void;
  removeStorageSync(key: string): void;
}

/** The login state the developer's server issued. */
export interface Session<U = unknown> {
  /** Opaque token sent as `Authorization: Bearer <skey>`. */
  skey: string;
  /** Epoch ms, on this device's clock (corrected for the server's clock at login). */
  expiresAt: number;
  user: U;
}

/** Body of the server's 200 answer to `POST {loginPath}`: at least these fields. */
export interface LoginAnswer<U = unknown> {
  skey: string;
  /** Epoch ms on the server's clock. */
  expiresAt: number;
  user: U;
}

/**
 * The server's other 200 answer to `POST {loginPath}`: this WeChat user must be bound to an
 * account first (login() rejects BIND_REQUIRED with the ticket).
 */
export interface BindRequiredAnswer {
  bindRequired: true;
  bindTicket: string;
  /** Epoch ms on the server's clock. */
  expiresAt: number;
}

/** What `bind()` sends to `POST {bindPath}`; the server answers it as a login (LoginAnswer). */
export interface BindRequest {
  /** From the BIND_REQUIRED error's `ticket`. */
  bindTicket: string;
  /** The account's name on the server's platform. */
  account: string;
  password: string;
}

/** Anything shaped like the standard AbortSignal (AbortController is not in every base library). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface Response<T = unknown> {
  statusCode: number;
  data: T;
  header: Header;
}

interface CallOptions {
  /**
   * A path on `baseURL`: one leading `/`, and no `//`, `@` or `\` (anything else rejects with a
   * TypeError before any wx call), so the skey only ever goes to `baseURL`'s host.
   */
  url: string;
  /** On an authenticated call `Authorization` is the service's: supplying one is a TypeError. */
  header?: Header;
  /**
   * Per attempt, ms: covers the wait for a login and the request in flight (not the wait for a
   * free slot). Defaults to the client's `timeout` (`uploadTimeout` for uploads).
   */
  timeout?: number;
  /** `false` for public endpoints: no skey, no login, no expiry handling. */
  auth?: boolean;
  signal?: AbortSignalLike;
}

export interface RequestOptions extends CallOptions {
  method?: HttpMethod;
  data?: string | object | ArrayBuffer;
  dataType?: string;
  responseType?: 'text' | 'arraybuffer';
}

export interface UploadOptions extends CallOptions {
  filePath: string;
  /** Multipart field name of the file. */
  name: string;
  formData?: Record<string, unknown>;
}

/** A pending call that can be aborted: it then rejects with a CANCELLED error. */
export interface PendingCall<T> extends Promise<T> {
  abort(): void;
}

export interface AuthOptions {
  /** Origin (and optional path prefix) of the developer's server, e.g. `https://api.example.com`. */
  baseURL: string;
  /** The wx API; defaults to the global `wx`, looked up when a call runs. */
  wx?: WxLike;
  /** Default `/auth/login`. */
  loginPath?: string;
  /** Default `/auth/logout`. */
  logoutPath?: string;
  /** Where `bind()` posts. Default `/auth/bind`. */
  bindPath?: string;
  /** What `unbind()` deletes. Default `/auth/binding`. */
  bindingPath?: string;
  /** Storage key of the session record; give each client its own. Default `auth_session`. */
  storageKey?: string;
  /** Per attempt of a request, ms (see `RequestOptions.timeout`); also bounds `wx.login`. Default 10000. */
  timeout?: number;
  /** Per attempt of an upload, ms. Default 60000, WeChat's own default for network calls. */
  uploadTimeout?: number;
  /**
   * Most of this client's calls in flight at once, 1 to 10. Every client of the app also shares
   * one pool of 10 (WeChat's limit for `wx.request`, `wx.uploadFile` and `wx.downloadFile`
   * together), so this can only lower a client's share. Default 10.
   */
  maxConcurrent?: number;
  /** Does this answer mean "log in again"? Default: HTTP 401. If it throws, the call rejects with HTTP. */
  isSessionExpired?(response: Response): boolean;
  /** Extra attempts after a network failure, for idempotent methods only. Default 2. */
  retries?: number;
  /** First backoff delay in ms, doubled on each retry. Default 300. */
  retryDelay?: number;
  /** A stored session this close (ms) to its expiry counts as expired. Default 30000. */
  expiryMargin?: number;
}

export interface AuthEvents<U> {
  login: (session: Session<U>) => void;
  logout: () => void;
  /** The server rejected the current skey; a new login follows when a request needs one. */
  sessionExpired: () => void;
  loginFailed: (error: AuthError) => void;
}

export interface AuthClient<U = unknown> {
  /**
   * Forces a fresh login; concurrent callers share one. Rejects with LOGIN_FAILED (or CANCELLED),
   * or BIND_REQUIRED when the server asks for a bind first: nothing is stored then, and calls that
   * need a session reject with that same error, starting no login, until bind() or login().
   */
  login(): Promise<Session<U>>;
  /**
   * Binds this WeChat user to an account of the server's and logs in: the session is stored and
   * `login` emitted, as by login(). A wrong account or password rejects LOGIN_FAILED with the
   * server's answer in `statusCode` and `data` (a bind's 401 is never taken for an expired
   * session). A ticket the server no longer takes costs one more login: BIND_REQUIRED again, with
   * a fresh ticket (or the session, if the user was bound meanwhile).
   */
  bind(request: BindRequest): Promise<Session<U>>;
  /**
   * Asks the server to unbind this WeChat user from its account (`DELETE {bindingPath}`), then logs
   * out here as logout() does (the server has ended the sessions itself). Rejects, and keeps the
   * session, when the server did not unbind.
   */
  unbind(): Promise<void>;
  /** The cached session if still valid (no network), else a login (BIND_REQUIRED at once while a bind is awaited). */
  ensureSession(): Promise<Session<U>>;
  /**
   * Like ensureSession, and also asks `wx.checkSession` whether WeChat's session_key (which the
   * server holds for this session) is still valid, logging in again if not. Use it before sending
   * data WeChat encrypted with that key, not before ordinary requests. A failure for a session that
   * this run's own `wx.login` just made is not believed (DevTools' tourist mode fails every
   * checkSession): that session is kept instead of logging in again on every call.
   */
  ensureWechatSession(): Promise<Session<U>>;
  /** Settles with the launch-time login's outcome: the session, or null. Never rejects. */
  ready(): Promise<Session<U> | null>;
  /** The session held now (a frozen object), without checking expiry or touching the network. */
  getSession(): Session<U> | null;
  /** Replaces the cached user (after a profile update), in memory and storage. No-op when logged out. */
  updateUser(user: U): void;
  request<T = unknown>(options: RequestOptions): PendingCall<Response<T>>;
  uploadFile<T = unknown>(options: UploadOptions): PendingCall<Response<T>>;
  /**
   * Clears the session at once, then tells the server (best effort). Never rejects. A login in
   * flight is cancelled, and nothing begun before the logout may log in, store a session, emit
   * `login` or send with a session afterwards: such calls end CANCELLED (or with the answer that
   * was already on its way). Emits `logout` only when there was a session or a login to end.
   */
  logout(): Promise<void>;
  on<E extends keyof AuthEvents<U>>(event: E, listener: AuthEvents<U>[E]): () => void;
}
