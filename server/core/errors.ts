/**
 * The errors of the login core: an ApiError carries the contract's code and the HTTP status it
 * stands for, so that any adapter (fastify, express, a host's own) answers it the same way.
 */
import type { ApiErrorCode, ErrorCodeStatus } from '../../typings/api';

/** The default HTTP status of each error code (the contract allows a few codes two statuses). */
const STATUS: { [C in ApiErrorCode]: ErrorCodeStatus[C] } = {
  BAD_REQUEST: 400,
  INVALID_CODE: 401,
  INVALID_PHONE_CODE: 400,
  SESSION_EXPIRED: 401,
  INVALID_SIGNATURE: 401,
  INVALID_USER_DATA: 400,
  USER_BLOCKED: 403,
  PHONE_REQUIRED: 403,
  PHONE_IN_USE: 409,
  INVALID_CREDENTIALS: 401,
  INVALID_BIND_TICKET: 401,
  ACCOUNT_ALREADY_BOUND: 409,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  URI_TOO_LONG: 414,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  WECHAT_UNAVAILABLE: 502,
  WECHAT_TIMEOUT: 504,
  STORE_UNAVAILABLE: 503,
};

/** An error the client is meant to see: its code, message and status go out in the envelope. */
export class ApiError<C extends ApiErrorCode = ApiErrorCode> extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(readonly code: C, message: string, options: { status?: ErrorCodeStatus[C]; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = options.status ?? STATUS[code];
    this.headers = options.headers ?? {};
  }
}

/** A mistake in the options given to createLoginService or an adapter; the message names the option. */
export class OptionError extends TypeError {
  constructor(readonly option: string, problem: string) {
    super(`wx-login-server: option ${option} ${problem}`);
    this.name = 'OptionError';
  }
}
