/**
 * The HTTP contract between the mini-program and the developer server, written once.
 * Both sides import these types (`import type`), so a change here is a compile error on
 * whichever side drifts. Types only: the mini-program cannot load code from outside
 * `miniprogram/` at run time.
 */

/** Every error the server answers, with the HTTP status it comes with. */
export interface ErrorCodeStatus {
  /**
   * 408: the request (headers and body) did not arrive within the server's request timeout.
   * 421: its Host names a site this server does not answer to (ALLOWED_HOSTS).
   */
  BAD_REQUEST: 400 | 408 | 421;
  /** 401: the login code is invalid, expired or used. */
  INVALID_CODE: 401;
  /**
   * 400: the phone code (from `getPhoneNumber`) is invalid, expired or used. Not 401: the auth
   * service reads any 401 as an expired session, and would log in again and resend a used code.
   */
  INVALID_PHONE_CODE: 400;
  SESSION_EXPIRED: 401;
  /**
   * 401: a push to /wechat/events that cannot be shown to come from WeChat for this mini-program
   * (signature, msg_signature, appid or timestamp). Only WeChat calls that route; the mini-program never sees it.
   */
  INVALID_SIGNATURE: 401;
  INVALID_USER_DATA: 400;
  USER_BLOCKED: 403;
  /** The server requires a bound phone (REQUIRE_PHONE) for this route and the user has none: show the phone step. */
  PHONE_REQUIRED: 403;
  /** The phone number is already bound to another account. */
  PHONE_IN_USE: 409;
  /**
   * 401 from POST /auth/bind: no such account, or the wrong password (one answer for both, so that
   * it tells nobody which accounts exist). Not a session expiry: bind is not an authenticated
   * request, and the auth service treats its 401s as failures of the bind, never as a reason to log in.
   */
  INVALID_CREDENTIALS: 401;
  /**
   * 401 from POST /auth/bind: the bind ticket is unknown, used or expired. The auth service then
   * logs in once more for a fresh ticket (BindRequiredResponse) instead of reading it as a session expiry.
   */
  INVALID_BIND_TICKET: 401;
  /** 409 from POST /auth/bind: the platform account is already bound to another WeChat user. */
  ACCOUNT_ALREADY_BOUND: 409;
  /** 403: the user's roles lack the permission this route needs (see MenuItem for what they may open). */
  FORBIDDEN: 403;
  NOT_FOUND: 404;
  /** The path exists, but not for this method: the answer's `Allow` header lists the methods it takes. */
  METHOD_NOT_ALLOWED: 405;
  PAYLOAD_TOO_LARGE: 413;
  /** The body's content type, or a Content-Encoding other than identity, is not one the route reads. */
  UNSUPPORTED_MEDIA_TYPE: 415;
  /** A path segment of the URL is longer than the server accepts. */
  URI_TOO_LONG: 414;
  /** Request line or headers beyond the server's limit. */
  HEADERS_TOO_LARGE: 431;
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

/**
 * The platform account a WeChat user is bound to (ACCOUNT_MODE=bind): one that existed before the
 * mini-program, such as a staff number, a student number or a member id.
 */
export interface BoundAccount {
  /** What the user types to bind: the account's name on the platform (工号, 学号, 会员号). */
  name: string;
  /** The person's name as the platform knows it (张三), for showing; may be empty. */
  displayName: string;
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
  /**
   * The bound phone number, masked (`138****8000`; `+852 51****67` outside mainland China), or
   * null. The full number never leaves the server.
   */
  phone: string | null;
  /** True when the server requires a bound phone (REQUIRE_PHONE) and this user has none: business routes answer 403 PHONE_REQUIRED until then. */
  phoneRequired: boolean;
  /**
   * The user's roles, which decide the permissions and `menus` the server grants. Users of `open`
   * mode (no platform account) have the server's default role, `member`.
   */
  roles: string[];
  /** The platform account this WeChat user is bound to; null when none (always, in `open` mode). */
  account: BoundAccount | null;
  /** Epoch ms. */
  createdAt: number;
}

/**
 * One entry of the user's menu (the tutorial's `menuList`): what their roles let them open. The
 * server decides the list; the mini-program shows it in this order.
 */
export interface MenuItem {
  /** Stable id of the entry (`orders`, `approvals`). */
  key: string;
  /** What the entry says (我的订单, 审批). */
  title: string;
  /** The mini-program page it opens, absolute (`/pages/approvals/approvals`). */
  path: string;
  /** A Vant icon name (`orders-o`, `todo-list-o`). */
  icon: string;
}

/** POST /auth/login */
export interface LoginRequest {
  code: string;
}
/** A session: what POST /auth/login answers for a known (or, in `open` mode, new) user, and POST /auth/bind. */
export interface LoginResponse {
  /** Opaque bearer token: send as `Authorization: Bearer <skey>`. */
  skey: string;
  /** Epoch ms after which the skey is no longer accepted (absolute lifetime). */
  expiresAt: number;
  user: User;
  /** True when this login created the user. */
  isNewUser: boolean;
  /** What the user's roles let them open. */
  menus: MenuItem[];
}
/**
 * What POST /auth/login answers (200) in `bind` mode for a WeChat user bound to no platform
 * account: no session, and no user created. The ticket stands for this WeChat identity on the
 * server (the openid never leaves it) until a bind uses it or it expires.
 */
export interface BindRequiredResponse {
  bindRequired: true;
  /** Single use, opaque; send it in BindRequest. */
  bindTicket: string;
  /** Epoch ms (server clock) after which the ticket is refused with INVALID_BIND_TICKET. */
  expiresAt: number;
}
/** Everything POST /auth/login may answer with 200: tell them apart by `bindRequired`. */
export type LoginAnswer = LoginResponse | BindRequiredResponse;

/**
 * POST /auth/bind (not authenticated: the ticket stands for the WeChat user): binds the WeChat
 * identity behind the ticket to the platform account, then answers a session (LoginResponse)
 * as a login does; later logins of this WeChat user go straight in. Errors: 401
 * INVALID_CREDENTIALS, 401 INVALID_BIND_TICKET, 409 ACCOUNT_ALREADY_BOUND, 403 USER_BLOCKED
 * (the account is disabled), 429 RATE_LIMITED with Retry-After (seconds).
 */
export interface BindRequest {
  bindTicket: string;
  /** The account's name (BoundAccount.name). */
  account: string;
  /** Sent only here, over HTTPS; never logged or stored as is. */
  password: string;
}

/**
 * DELETE /auth/binding (authenticated): unbinds the WeChat user from the platform account; every
 * session of that binding ends, and the next login answers BindRequiredResponse again.
 */
export interface UnbindResponse {
  ok: true;
}

/** GET /auth/session */
export interface SessionResponse {
  user: User;
  expiresAt: number;
  /** What the user's roles let them open now (roles may have changed since the login). */
  menus: MenuItem[];
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

/**
 * POST /auth/phone (authenticated): binds the phone number behind a `getPhoneNumber` code to the
 * user. Errors: 400 INVALID_PHONE_CODE, 409 PHONE_IN_USE, 429 RATE_LIMITED, 502/503
 * WECHAT_UNAVAILABLE, 504 WECHAT_TIMEOUT.
 */
export interface PhoneBindRequest {
  /** `event.detail.code` of `<button open-type="getPhoneNumber">`: single use, valid 5 minutes. */
  code: string;
}
export interface PhoneBindResponse {
  user: User;
}

/** One thing the user is known by, as GET /api/account/export lists it. */
export interface AccountIdentity {
  /**
   * `wechat`: the value is the openid (of this mini-program; `appid:openid` for another app of
   * the same database). `unionid`: the unionid. `phone`: the number in full, `+86 13800138000`
   * (the user's own data). `account`: the bound platform account's name (BoundAccount.name).
   */
  kind: 'wechat' | 'unionid' | 'phone' | 'account';
  value: string;
  /** Epoch ms: when the server first linked it to the user. */
  createdAt: number;
}

/** One of the user's live sessions, as GET /api/account/export lists it: no skey, no session_key. */
export interface AccountSession {
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  /** True for the session that asked for the export. */
  current: boolean;
}

/** One entry of the user's audit trail, as GET /api/account/export lists it. */
export interface AccountAuditEntry {
  /** Epoch ms. */
  at: number;
  /** What happened (`login`, `phone.bound`, `exported`, `deleted`, …). */
  action: string;
  actor: 'user' | 'operator' | 'wechat' | 'system';
  outcome: 'ok' | 'refused' | 'failed';
  /** The client's network (an IPv4 /24 or IPv6 /48), never its full address; null when not known. */
  clientNetwork: string | null;
}

/**
 * GET /api/account/export (authenticated): everything the server holds about the user, secrets
 * excepted (session_key, skey hashes, password hash).
 */
export interface AccountExport {
  /** Epoch ms (server clock). */
  exportedAt: number;
  user: { id: string; nickname: string; avatarUrl: string; createdAt: number; roles: string[] };
  identities: AccountIdentity[];
  /** The platform account the user is bound to (bind mode); null when none. */
  account: BoundAccount | null;
  /** The user's live sessions, oldest first. */
  sessions: AccountSession[];
  /** The user's audit entries, oldest first. */
  audit: AccountAuditEntry[];
}

/**
 * POST /api/account/delete (authenticated): deletes the account (注销). `code` re-authenticates:
 * a fresh `wx.login` code of the session's own WeChat user, so that a stolen skey alone cannot
 * delete an account. Errors: 401 INVALID_CODE (invalid, used, or another WeChat user's code:
 * nothing is deleted), 401 SESSION_EXPIRED, 429 RATE_LIMITED with Retry-After (seconds), 502/503
 * WECHAT_UNAVAILABLE, 504 WECHAT_TIMEOUT.
 */
export interface AccountDeleteRequest {
  code: string;
}
/**
 * Every session of the user has ended (the skey is 401 from now on). `kept`: `nothing` when the
 * user and everything about them is gone (a later login of the same WeChat user starts a new,
 * empty account); `platform-account` in bind mode, where the WeChat binding and the data the
 * mini-program collected are gone but the platform account stays (it is the organisation's), and
 * a later login answers BindRequiredResponse.
 */
export interface AccountDeleteResponse {
  deleted: true;
  kept: 'nothing' | 'platform-account';
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

/** GET /api/approvals: needs the permission `approvals:read` (role `staff`), else 403 FORBIDDEN. Demo data. */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected';
export interface Approval {
  id: string;
  /** What is asked for (差旅报销 ¥1,280.00, 年假 3 天). */
  title: string;
  /** Who asked, by name. */
  applicant: string;
  status: ApprovalStatus;
  /** Epoch ms. */
  submittedAt: number;
}
export interface ApprovalsResponse {
  /** Newest first. */
  approvals: Approval[];
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
  /**
   * The unionid WeChat reports for this user (as when the mini-program is bound to an Open
   * Platform account): 16 to 64 letters, digits, `-` or `_`, as WeChat's. A user keeps the first
   * unionid given; later logins carry it too.
   */
  unionid?: string;
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

/** POST /dev/phone-codes: a code as `getPhoneNumber` hands it to the page, single use, valid 5 minutes. */
export interface DevPhoneCodeRequest {
  /** The simulated user who taps the button; the development user when omitted. */
  user?: string;
  /** `13800138000` (mainland China) or `+852 51234567`; when omitted, the user's own simulated number. */
  phoneNumber?: string;
}
export interface DevPhoneCodeResponse {
  code: string;
}

/** The simulated WeChat APIs that /dev/faults can break. */
export type WeChatApi = 'jscode2session' | 'stable_token' | 'getuserphonenumber';
/**
 * Errcodes the simulated WeChat can be told to answer: -1 system busy, 40029 invalid code, 40163
 * code used, 45011 rate limit, 40226 risky user; for access tokens 40001 (not the latest), 42001
 * (expired), 40014 (invalid), and stable_token's 40013 (appid), 40125 (secret), 40164 (IP not in
 * the allow list), 45009 (daily quota).
 */
export type WeChatErrcode = -1 | 40029 | 40163 | 45011 | 40226 | 40001 | 42001 | 40014 | 40013 | 40125 | 40164 | 45009;
/** POST /dev/faults: the next `times` (default 1) calls of `api` (default jscode2session) wait `delayMs`, then fail with `errcode` if given. */
export interface DevFaultRequest {
  api?: WeChatApi;
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

/** The account events WeChat pushes to the message-push URL (authorized_user_information_changes). */
export type WeChatAccountEvent = 'user_authorization_revoke' | 'user_authorization_cancellation' | 'user_info_modified';
/**
 * POST /dev/wechat-events: the simulated WeChat pushes an account event about this user to the
 * server's /wechat/events, signed and encrypted as WeChat does (安全模式). Needs WX_PUSH_TOKEN and
 * WX_PUSH_AES_KEY (npm start sets them); answers once the server has acted on the event.
 */
export interface DevWeChatEventRequest {
  /** Simulated user name; the default development user when omitted. */
  user?: string;
  event: WeChatAccountEvent;
  /**
   * user_authorization_revoke only, and required there: WeChat's RevokeInfo, what was withdrawn,
   * as its codes: `8` phone number, `6` nickname and avatar, `19` nickname, `20` avatar (others,
   * such as `13` location, are data this server does not hold); several separated by commas.
   */
  revokeInfo?: string;
}
export interface DevWeChatEventResponse {
  /** What /wechat/events answered: 200 and `success` when it took the event. */
  status: number;
  answer: string;
}
