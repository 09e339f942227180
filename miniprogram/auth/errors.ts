/** Every way an auth-service call can fail. A closed set: switch on it exhaustively. */
export type AuthErrorCode =
  /** The request never got an answer (offline, DNS, `request:fail interrupted` in background). Idempotent methods are retried first. */
  | 'NETWORK'
  /** No session or no answer within `timeout`, or WeChat said it timed out; never retried. */
  | 'TIMEOUT'
  /** The server answered with a non-2xx status (or `isSessionExpired` threw on it); see `statusCode` and `data`. */
  | 'HTTP'
  /**
   * The server refused the session a renewal since the call began logged in: a fresh login was
   * refused too, so another would not help. Each call renews at most once.
   */
  | 'SESSION_EXPIRED'
  /**
   * `wx.login` or the login request failed, or its answer was unusable (the message names the
   * field); `cause` holds the underlying error. A login the server refused with 403 (its
   * USER_BLOCKED: the operator blocked the user; `data.error.code` says so) is held: calls that
   * need a session reject with it and start no `wx.login`, until `login()`, `bind()` or `logout()`.
   */
  | 'LOGIN_FAILED'
  /** The caller aborted, or a logout ended a call (or login) begun before it. */
  | 'CANCELLED'
  /**
   * The server knows this WeChat user but no account of its own for them (its `bind` mode): no
   * session, until `bind()` with `ticket` and the account's name and password. Calls that need a
   * session reject with this too, and start no login, until `bind()` or an explicit `login()`.
   */
  | 'BIND_REQUIRED';

/** What a BIND_REQUIRED error carries: the ticket for `bind()`, and until when it is good. */
export interface BindTicket {
  bindTicket: string;
  /** Epoch ms, on this device's clock (corrected for the server's, as a session's expiresAt). */
  expiresAt: number;
}

/** What an error keeps of the answer behind it. */
interface AnswerParts {
  statusCode?: number;
  data?: unknown;
  header?: Record<string, string>;
}

export class AuthError extends Error {
  /** Stable across bundles: `instanceof` breaks when two copies of this file are loaded. */
  override readonly name = 'AuthError';
  readonly code: AuthErrorCode;
  /** HTTP status, when an answer arrived (HTTP, SESSION_EXPIRED, and LOGIN_FAILED from an HTTP error). */
  readonly statusCode?: number;
  /** The response body, when an answer arrived. */
  readonly data?: unknown;
  /** The response headers, when an answer arrived: `Retry-After` of a 429, for one. */
  readonly header?: Record<string, string>;
  readonly cause?: unknown;
  /** BIND_REQUIRED only: the ticket to bind with. */
  readonly ticket?: BindTicket;

  /** `answer`: the HTTP answer behind the error (or an error that carried one), whose status, body and headers it keeps. */
  constructor(code: AuthErrorCode, where: string, detail: string, cause?: unknown, answer?: AnswerParts, ticket?: BindTicket) {
    super(`${where}: ${detail}`);
    this.code = code;
    this.cause = cause;
    this.ticket = ticket;
    if (answer) {
      this.statusCode = answer.statusCode;
      this.data = answer.data;
      this.header = answer.header;
    }
  }
}

/** True for any error this service rejects with; narrows to one code when `code` is given. */
export function isAuthError(error: unknown, code?: AuthErrorCode): error is AuthError {
  return error instanceof Error && error.name === 'AuthError' && (!code || (error as AuthError).code === code);
}
