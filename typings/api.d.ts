/**
 * The HTTP contract between the mini-program and the developer server, written once.
 * Both sides import these types (`import type`), so a change here is a compile error on
 * whichever side drifts. Types only: the mini-program cannot load code from outside
 * `miniprogram/` at run time.
 */

/** Every error the server answers, with the HTTP status it comes with. */
export interface ErrorCodeStatus {
  /** 408: the request (headers and body) did not arrive within the server's request timeout. */
  BAD_REQUEST: 400 | 408;
  INVALID_CODE: 401;
  SESSION_EXPIRED: 401;
  INVALID_USER_DATA: 400;
  USER_BLOCKED: 403;
  NOT_FOUND: 404;
  PAYLOAD_TOO_LARGE: 413;
  UNSUPPORTED_MEDIA_TYPE: 415;
  /** Request line or headers beyond the server's limit; 414 for an over-long URL path segment. */
  HEADERS_TOO_LARGE: 431 | 414;
  RATE_LIMITED: 429;
  /** 503: the server is shutting down; try again (a load balancer sends the retry elsewhere). */
  INTERNAL: 500 | 503;
  WECHAT_UNAVAILABLE: 502 | 503;
  WECHAT_TIMEOUT: 504;
  STORE_UNAVAILABLE: 503;
}
export type ApiErrorCode = keyof ErrorCodeStatus;

/** The one error envelope: every non-2xx answer has exactly this body. */
export interface ApiErrorBody {
  error: { code: ApiErrorCode; message: string };
}

/** The user as the client sees it. Never carries openid, unionid or session_key. */
export interface User {
  /** Opaque, stable id chosen by the server. */
  id: string;
  /** User-typed; empty until the user sets it. */
  nickname: string;
  /** Empty until the user uploads an avatar. */
  avatarUrl: string;
  /** True once both nickname and avatarUrl are set. */
  profileComplete: boolean;
  /** Epoch ms. */
  createdAt: number;
}

/** POST /auth/login */
export interface LoginRequest {
  code: string;
}
export interface LoginResponse {
  /** Opaque bearer token: send as `Authorization: Bearer <skey>`. */
  skey: string;
  /** Epoch ms after which the skey is no longer accepted (absolute lifetime). */
  expiresAt: number;
  user: User;
  /** True when this login created the user. */
  isNewUser: boolean;
}

/** GET /auth/session */
export interface SessionResponse {
  user: User;
  expiresAt: number;
}

/** POST /auth/logout */
export interface LogoutResponse {
  ok: true;
}

/** POST /auth/user-info: what WeChat hands the client, passed through unchanged. */
export interface UserInfoRequest {
  rawData: string;
  signature: string;
  encryptedData: string;
  iv: string;
}
export interface UserInfoResponse {
  user: User;
}

/** GET /api/profile, PUT /api/profile */
export interface ProfileResponse {
  user: User;
}
export interface ProfileUpdateRequest {
  nickname?: string;
  /** '' removes the avatar; otherwise the user's current avatarUrl (as POST /api/avatar answered it) or a WeChat avatar URL. */
  avatarUrl?: string;
}

/**
 * POST /api/avatar (multipart, field `file`). The upload becomes the user's avatar at once (the
 * previous uploaded file is deleted); the URL may then be sent in ProfileUpdateRequest unchanged.
 */
export interface AvatarUploadResponse {
  avatarUrl: string;
}

/** GET /api/orders */
export type OrderStatus = 'pending' | 'paid' | 'shipped' | 'completed';
export interface Order {
  id: string;
  title: string;
  /** Price in fen (1/100 yuan), an integer. */
  amountFen: number;
  status: OrderStatus;
  createdAt: number;
}
export interface OrdersResponse {
  orders: Order[];
}

/** GET /healthz: the process is alive (for a liveness probe). */
export interface HealthResponse {
  status: 'ok';
}

/**
 * GET /readyz: the server can serve (its store answers). Otherwise 503 in the error envelope:
 * STORE_UNAVAILABLE when the store does not answer, INTERNAL while shutting down.
 */
export interface ReadinessResponse {
  status: 'ready';
}

/**
 * Development routes (simulated WeChat only; absent in real mode). They answer only requests from
 * this machine (loopback address, loopback Host) with a JSON content type; others get 404 or 415.
 */
export interface DevCodeRequest {
  /** Simulated user name; the same name always maps to the same openid. */
  user?: string;
}
export interface DevCodeResponse {
  code: string;
}
export interface DevExpireRequest {
  /** Expire only this session; all sessions when omitted. */
  skey?: string;
}
export interface DevExpireResponse {
  expired: number;
}

/** POST /dev/faults: the next `times` (default 1) code exchanges wait `delayMs`, then fail with `errcode` if given. */
export type WeChatErrcode = -1 | 40029 | 40163 | 45011 | 40226;
export interface DevFaultRequest {
  errcode?: WeChatErrcode;
  delayMs?: number;
  times?: number;
}
export interface DevFaultResponse {
  /** Faults queued, including these. */
  pending: number;
}

/** POST /dev/user-data: what WeChat would hand the client (a UserInfoRequest) for this user's current session_key. */
export interface DevUserDataRequest {
  /** Simulated user name; the default development user when omitted. */
  user?: string;
}
