/**
 * The JSON schemas of every route, each typed by its contract type in typings/api.d.ts.
 * Response schemas also decide what is serialized: a field that is not in the contract
 * (session_key, openid) cannot leak into an answer by accident.
 */
import type {
  AccountAuditEntry,
  AccountDeleteRequest,
  AccountDeleteResponse,
  AccountExport,
  AccountIdentity,
  AccountSession,
  Approval,
  ApprovalsResponse,
  AvatarUploadResponse,
  BindRequest,
  BindRequiredResponse,
  BoundAccount,
  DevCodeRequest,
  DevCodeResponse,
  DevExpireRequest,
  DevExpireResponse,
  DevFaultRequest,
  DevFaultResponse,
  DevPhoneCodeRequest,
  DevPhoneCodeResponse,
  DevUserDataRequest,
  DevWeChatEventRequest,
  DevWeChatEventResponse,
  HealthResponse,
  LoginRequest,
  LoginResponse,
  LogoutResponse,
  MenuItem,
  Order,
  OrdersResponse,
  PhoneBindRequest,
  PhoneBindResponse,
  ProfileResponse,
  ProfileUpdateRequest,
  ReadinessResponse,
  SessionResponse,
  UnbindResponse,
  User,
  UserInfoRequest,
  UserInfoResponse,
} from '../typings/api';
import { array, boolean, constant, integer, nullable, nullableString, object, oneOf, optional, string } from './schema';

/** Long enough for any real value, short enough that nothing absurd reaches a handler. */
const text = (maxLength: number) => string({ maxLength });

const user = object<User>({
  id: string(),
  nickname: string(),
  avatarUrl: string(),
  profileComplete: boolean(),
  createdAt: integer(),
  phone: nullableString(),
  phoneRequired: boolean(),
  roles: array(string()),
  account: nullable(object<BoundAccount>({ name: string(), displayName: string() })),
});
const menus = array(object<MenuItem>({ key: string(), title: string(), path: string(), icon: string() }));

export const loginRequest = object<LoginRequest>({ code: string({ minLength: 1, maxLength: 128 }) });
export const loginResponse = object<LoginResponse>({ skey: string(), expiresAt: integer(), user, isNewUser: boolean(), menus });
/** POST /auth/login's other answer, in bind mode (LoginAnswer is either). */
export const bindRequiredResponse = object<BindRequiredResponse>({ bindRequired: constant(true), bindTicket: string(), expiresAt: integer() });
/**
 * What POST /auth/login answers: a session, or (bind mode) a bind ticket. A condition on
 * `bindRequired` rather than anyOf: the serializer then checks one property to pick the branch,
 * not the whole answer against each.
 */
export const loginAnswer = {
  if: { type: 'object', properties: { bindRequired: { const: true } }, required: ['bindRequired'] },
  then: bindRequiredResponse,
  else: loginResponse,
} as const;
export const sessionResponse = object<SessionResponse>({ user, expiresAt: integer(), menus });
export const logoutResponse = object<LogoutResponse>({ ok: constant(true) });

/** The bounds keep absurd input out (a megabyte "password" would cost the hash that much); the values are checked by the bind itself. */
export const bindRequest = object<BindRequest>({
  bindTicket: string({ minLength: 1, maxLength: 128 }),
  account: string({ minLength: 1, maxLength: 64 }),
  password: string({ minLength: 1, maxLength: 256 }),
});
export const unbindResponse = object<UnbindResponse>({ ok: constant(true) });

export const userInfoRequest = object<UserInfoRequest>({
  rawData: text(4096),
  signature: text(64),
  encryptedData: text(16384),
  iv: text(64),
});
export const userInfoResponse = object<UserInfoResponse>({ user });

// A phone code is 64 hex digits today; the bound leaves room for a longer format.
export const phoneBindRequest = object<PhoneBindRequest>({ code: string({ minLength: 1, maxLength: 256 }) });
export const phoneBindResponse = object<PhoneBindResponse>({ user });

export const accountDeleteRequest = object<AccountDeleteRequest>({ code: string({ minLength: 1, maxLength: 128 }) });
export const accountDeleteResponse = object<AccountDeleteResponse>({ deleted: constant(true), kept: oneOf({ nothing: true, 'platform-account': true }) });
export const accountExport = object<AccountExport>({
  exportedAt: integer(),
  user: object<AccountExport['user']>({ id: string(), nickname: string(), avatarUrl: string(), createdAt: integer(), roles: array(string()) }),
  identities: array(object<AccountIdentity>({ kind: oneOf({ wechat: true, unionid: true, phone: true, account: true }), value: string(), createdAt: integer() })),
  account: nullable(object<BoundAccount>({ name: string(), displayName: string() })),
  sessions: array(object<AccountSession>({ createdAt: integer(), lastSeenAt: integer(), expiresAt: integer(), current: boolean() })),
  audit: array(
    object<AccountAuditEntry>({
      at: integer(),
      action: string(),
      actor: oneOf({ user: true, operator: true, wechat: true, system: true }),
      outcome: oneOf({ ok: true, refused: true, failed: true }),
      clientNetwork: nullableString(),
    }),
  ),
});

export const profileResponse = object<ProfileResponse>({ user });
export const profileUpdateRequest = object<ProfileUpdateRequest>(
  { nickname: optional(text(256)), avatarUrl: optional(text(2048)) },
  { minProperties: 1 },
);
export const avatarUploadResponse = object<AvatarUploadResponse>({ avatarUrl: string() });

const order = object<Order>({
  id: string(),
  title: string(),
  amountFen: integer(),
  status: oneOf({ pending: true, paid: true, shipped: true, completed: true }),
  createdAt: integer(),
});
export const ordersResponse = object<OrdersResponse>({ orders: array(order) });

const approval = object<Approval>({
  id: string(),
  title: string(),
  applicant: string(),
  status: oneOf({ pending: true, approved: true, rejected: true }),
  submittedAt: integer(),
});
export const approvalsResponse = object<ApprovalsResponse>({ approvals: array(approval) });

export const healthResponse = object<HealthResponse>({ status: oneOf({ ok: true }) });
export const readinessResponse = object<ReadinessResponse>({ status: oneOf({ ready: true }) });

const userName = string({ minLength: 1, maxLength: 64 });
export const devCodeRequest = object<DevCodeRequest>({ user: optional(userName), unionid: optional(string({ pattern: '^[A-Za-z0-9_-]{16,64}$' })) });
export const devPhoneCodeRequest = object<DevPhoneCodeRequest>({
  user: optional(userName),
  // Checked in full by the simulator; this only keeps absurd input out.
  phoneNumber: optional(string({ minLength: 4, maxLength: 24 })),
});
export const devPhoneCodeResponse = object<DevPhoneCodeResponse>({ code: string() });
export const devCodeResponse = object<DevCodeResponse>({ code: string() });
export const devExpireRequest = object<DevExpireRequest>({ skey: optional(text(256)) });
export const devExpireResponse = object<DevExpireResponse>({ expired: integer() });
export const devFaultRequest = object<DevFaultRequest>({
  api: optional(oneOf({ jscode2session: true, stable_token: true, getuserphonenumber: true })),
  errcode: optional({ type: 'integer', enum: [-1, 40029, 40163, 45011, 40226, 40001, 42001, 40014, 40013, 40125, 40164, 45009] }),
  delayMs: optional(integer({ minimum: 0, maximum: 60_000 })),
  times: optional(integer({ minimum: 1, maximum: 100 })),
});
export const devFaultResponse = object<DevFaultResponse>({ pending: integer() });
export const devUserDataRequest = object<DevUserDataRequest>({ user: optional(userName) });
export const devWeChatEventRequest = object<DevWeChatEventRequest>({
  user: optional(userName),
  event: oneOf({ user_authorization_revoke: true, user_authorization_cancellation: true, user_info_modified: true }),
  revokeInfo: optional(string({ pattern: '^[0-9]{1,3}(,[0-9]{1,3}){0,19}$' })),
});
export const devWeChatEventResponse = object<DevWeChatEventResponse>({ status: integer(), answer: string() });
export const devUserDataResponse = object<UserInfoRequest>({ rawData: string(), signature: string(), encryptedData: string(), iv: string() });
