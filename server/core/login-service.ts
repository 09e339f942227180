/**
 * The login backend without a web framework: log in with a wx.login code, authenticate a bearer
 * skey, log out, verify and decrypt user data, bind a phone. It takes and answers the contract's
 * shapes (typings/api.d.ts) and plain values (an Authorization header, a client address); it
 * fails with ApiError, whose code and status are the contract's. The fastify plugin and the
 * express adapter are thin wrappers over it, and a host with another framework can be one too.
 */
import { randomUUID } from 'node:crypto';
import type { AccountDeleteResponse, AccountExport, BindRequest, LoginAnswer, LoginResponse, LogoutResponse, MenuItem, PhoneBindResponse, SessionResponse, UnbindResponse, User, UserInfoRequest, UserInfoResponse } from '../../typings/api';
import type { AccountPolicy } from '../account';
import { clientNetwork, createAuditTrail, type AuditTrail } from '../audit';
import { refuseIfShutOut } from '../blocking';
import { decryptData, DecryptError, isFresh, verifySignature } from '../crypto';
import { failureDetails } from '../errors';
import { enforceLimit, userLimitKeys } from '../limits';
import { PasswordChecker, type PasswordParams } from '../passwords';
import { rolesOf } from '../roles';

const noMenus = (): MenuItem[] => [];
import { authenticateBearer, authenticateComplete, hashSkey, newSkey, toApiUser, type Authenticated } from '../session';
import { isAbsentStore } from '../stores/absent';
import { createMemoryStores } from '../stores/memory';
import { DEFAULT_MAX_SESSIONS_PER_USER, whenReady, type Clock, type MaybePromise, type Stores, type UserDatabase, type UserPatch } from '../stores/types';
import { cleanNickname, wechatAvatarUrl } from '../text';
import { createAccountLifecycle, type AccountLifecycle, type UserFiles } from './account-lifecycle';
import { clientKey } from './client-key';
import { createBinding, type AccountEvent, type AccountMode } from './bind';
import { ApiError, OptionError } from './errors';
import { impliedSealKey, resolveWeChat, type WeChatOption } from './wechat-option';

/** Where the service reports what the answers leave out (a failing token renewal); a pino or fastify logger fits. */
export interface LoginLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  /** For an audit entry that could not be written (warn when absent). */
  error?(fields: Record<string, unknown>, message: string): void;
}

export interface LoginServiceOptions {
  /** createSimulatedWeChat(), `{ appId, secret }` for the real WeChat, or `{ appId, client }`. */
  wechat: WeChatOption;
  /**
   * Sessions, users, rate limits and the access token: a Stores object, or an ioredis client the
   * host created (sessions, rate limits and the access token then live in Redis, under
   * redisPrefix, and the users in `userDatabase`). Default: memory stores (one process, gone on restart).
   */
  stores?: Stores | RedisClient;
  /**
   * Where the users live when `stores` is an ioredis client (Redis keeps no users): `{ users, ping,
   * close }`, such as a Stores object on the host's database. It stays the host's, as the client
   * does: the service never closes it.
   */
  userDatabase?: UserDatabase;
  /** Namespace of the keys in Redis, when `stores` is an ioredis client. Default `wxlogin:`. */
  redisPrefix?: string;
  /**
   * 32 bytes sealing session_key and the access token in Redis. Default: derived from the
   * AppSecret (the reference server's SESSION_KEY_ENCRYPTION_KEY fallback, so both read each other's sessions).
   */
  sealKey?: Buffer;
  /** Epoch ms; defaults to Date.now (tests move their own). */
  now?: Clock;
  /** Defaults to none. */
  logger?: LoginLogger;
  /** For the stores the service makes (memory, or on an ioredis client): a session unused this long is gone. Default 7 days (at most the lifetime). */
  sessionIdleMs?: number;
  /** For the stores the service makes: live sessions one user may hold; a login beyond it ends the oldest. Default 10. */
  maxSessionsPerUser?: number;
  /** A session is gone this long after its login, used or not. Default 30 days. */
  sessionLifetimeMs?: number;
  /** Login attempts per client address (an IPv6 /64) in any sliding window of loginRateWindowMs. Default 20 a minute. */
  loginRateLimit?: number;
  loginRateWindowMs?: number;
  /** Phone binds (each a paid WeChat exchange) per user in any sliding window of phoneBindWindowMs. Default 10 an hour. */
  phoneBindLimit?: number;
  phoneBindWindowMs?: number;
  /** Every WeChat call of one phone bind within this long, else 504 WECHAT_TIMEOUT. Default 8000. */
  phoneBindTimeoutMs?: number;
  /** requireSession answers 403 PHONE_REQUIRED until the user has bound a phone number. Default false. */
  requirePhone?: boolean;
  /** Account deletions (each a WeChat code exchange) per user in any sliding window of accountDeleteWindowMs. Default 5 an hour. */
  accountDeleteLimit?: number;
  accountDeleteWindowMs?: number;
  /** Files the host keeps about a user (uploaded avatars), deleted with the account. Default: none. */
  userFiles?: UserFiles;
  /**
   * The menu entries a user's roles grant, for the login and session answers' `menus`. Default:
   * none (a host's menus are its own; the reference server passes its table, server/access.ts).
   */
  menus?: (roles: string[]) => MenuItem[];
  /**
   * `open` (default): a WeChat login creates its user. `bind`: a login that finds no user answers
   * BindRequiredResponse (a ticket, nothing created), and POST /auth/bind binds that WeChat user
   * to a platform account (stores.accounts) by its name and password.
   */
  accountMode?: AccountMode;
  /** Bind mode: how long a bind ticket stays valid. Default 10 minutes. */
  bindTicketLifetimeMs?: number;
  /** Bind mode: bind attempts per account, and per client address, in any sliding window of bindFailureWindowMs. Default 5 in 15 minutes. */
  bindFailureLimit?: number;
  bindFailureWindowMs?: number;
  /** Bind mode: the scrypt parameters passwords are hashed with (and upgraded to at a bind). Default OWASP's, N = 2^17, r = 8, p = 1. */
  passwordParams?: PasswordParams;
  /** Told of every bind and unbind once it is stored: the audit trail's hook. */
  onAccountEvent?: (event: AccountEvent) => MaybePromise<void>;
}

/** Who asks: the client's address as the host's trusted proxies saw it, for the login rate limit. */
export interface LoginClient {
  address?: string;
}

/**
 * The service; `Answer` is what login answers: LoginResponse in open mode, also
 * BindRequiredResponse (LoginAnswer) when the mode is bind or not known until run time.
 */
export interface LoginService<Answer extends LoginAnswer = LoginAnswer> {
  readonly stores: Stores;
  readonly now: Clock;
  readonly policy: AccountPolicy;
  readonly accountMode: AccountMode;
  /** POST /auth/login: a fresh session for the user behind a wx.login code (bind mode: a bind ticket when there is no such user). */
  login(code: string, client?: LoginClient): Promise<Answer>;
  /** POST /auth/bind (bind mode): the ticket's WeChat user bound to the account, and a session. */
  bind(request: BindRequest, client?: LoginClient): Promise<LoginResponse>;
  /** DELETE /auth/binding (bind mode): the user's WeChat identity unbound, every session of the user ended. */
  unbind(authorization: string | undefined, client?: LoginClient): Promise<UnbindResponse>;
  /**
   * The session and user behind `Authorization: Bearer <skey>`; 401 SESSION_EXPIRED for anything
   * else. A value (no promise) when the stores answer at once, as the memory stores do.
   */
  authenticate(authorization: string | undefined): MaybePromise<Authenticated>;
  /** authenticate, and 403 PHONE_REQUIRED for an account incomplete as requirePhone says: for business routes. */
  authenticateComplete(authorization: string | undefined): MaybePromise<Authenticated>;
  /** GET /auth/session. */
  session(authorization: string | undefined): MaybePromise<SessionResponse>;
  /** POST /auth/logout: this session only, the user's others stay. */
  logout(authorization: string | undefined): Promise<LogoutResponse>;
  /** POST /auth/user-info: WeChat's signed and encrypted user data checked against the session's session_key. */
  verifyUserInfo(authorization: string | undefined, data: UserInfoRequest): Promise<UserInfoResponse>;
  /** POST /auth/phone: the number behind a getPhoneNumber code becomes the user's. */
  bindPhone(authorization: string | undefined, code: string, client?: LoginClient): Promise<PhoneBindResponse>;
  /** The audit trail (server/audit.ts) on the stores' audit store: what the service records, and what a host's routes add. */
  readonly audit: AuditTrail;
  /**
   * POST /api/account/delete: the session's account is deleted once `code`, a fresh wx.login
   * code, shows the same WeChat user is there (401 INVALID_CODE otherwise, nothing deleted).
   */
  deleteOwnAccount(authorization: string | undefined, code: string): Promise<AccountDeleteResponse>;
  /** GET /api/account/export: everything the server holds about the session's user, secrets excepted. */
  exportOwnAccount(authorization: string | undefined): Promise<AccountExport>;
  /** Deletion and export by user id, without a session: for an operator's command and WeChat's events. */
  readonly accounts: AccountLifecycle;
  /** The user as the client sees it: no openid or unionid, the phone masked. */
  toApiUser(user: Authenticated['user']): User;
}

const DAY = 24 * 3600 * 1000;
const YEAR = 365 * DAY;

/** A whole number of `option` within bounds, or its default; a mistake names the option. */
function integer(options: object, option: string, fallback: number, min: number, max: number): number {
  const value = (options as Record<string, unknown>)[option];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new OptionError(option, `must be an integer from ${min} to ${max} (got ${typeof value === 'number' ? value : typeof value})`);
  }
  return value;
}

function isStores(value: unknown): value is Stores {
  const stores = value as Partial<Record<keyof Stores, unknown>> | null;
  return (
    typeof stores === 'object' &&
    stores !== null &&
    ['sessions', 'users', 'limits', 'credentials', 'audit'].every((part) => typeof stores[part as keyof Stores] === 'object' && stores[part as keyof Stores] !== null) &&
    typeof stores.ping === 'function' &&
    typeof stores.close === 'function'
  );
}

/** An ioredis client (Redis or Cluster), as far as telling it from a Stores object goes. */
export interface RedisClient {
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
  evalsha(...args: unknown[]): unknown;
}

function isRedisClient(value: unknown): value is RedisClient {
  const client = value as Partial<RedisClient> | null;
  return typeof client === 'object' && client !== null && typeof client.defineCommand === 'function' && typeof client.evalsha === 'function';
}

/** The stores the options name: made in memory, made on the host's Redis client, or given. */
function storesFrom(options: LoginServiceOptions, now: Clock, sessionIdleMs: number): Stores {
  const given = options.stores;
  const maxSessionsPerUser = integer(options, 'maxSessionsPerUser', DEFAULT_MAX_SESSIONS_PER_USER, 1, 1000);
  if (options.redisPrefix !== undefined && !isRedisClient(given)) throw new OptionError('redisPrefix', 'applies only when stores is an ioredis client');
  if (options.sealKey !== undefined && !isRedisClient(given)) throw new OptionError('sealKey', 'applies only when stores is an ioredis client');
  if (options.userDatabase !== undefined && !isRedisClient(given)) throw new OptionError('userDatabase', 'applies only when stores is an ioredis client');
  if (given === undefined) return createMemoryStores({ now, sessionIdleMs, maxSessionsPerUser });
  if (isRedisClient(given)) {
    const prefix = options.redisPrefix ?? 'wxlogin:';
    if (typeof prefix !== 'string' || !/^[\w:.-]{1,64}$/.test(prefix)) throw new OptionError('redisPrefix', 'must be 1 to 64 letters, digits or _:.-');
    const sealKey = options.sealKey ?? impliedSealKey(options.wechat);
    if (!Buffer.isBuffer(sealKey) || sealKey.length !== 32) {
      throw new OptionError('sealKey', options.sealKey === undefined ? 'is required with Redis stores and a WeChat client of your own: 32 random bytes' : 'must be a Buffer of 32 bytes');
    }
    const userDatabase = options.userDatabase;
    if (
      typeof userDatabase !== 'object' ||
      userDatabase === null ||
      typeof userDatabase.users !== 'object' ||
      typeof userDatabase.audit !== 'object' ||
      typeof userDatabase.ping !== 'function' ||
      typeof userDatabase.close !== 'function'
    ) {
      throw new OptionError('userDatabase', 'is required with an ioredis client: Redis keeps sessions, rate limits and the access token, the users and their audit trail live in your database ({ users, audit, ping, close })');
    }
    // Loaded only here: ioredis is the host's (a peer dependency), needed only by a host that uses it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createRedisStoresOn } = require('../stores/redis') as typeof import('../stores/redis');
    // The client is the host's: closing the stores leaves it open.
    return createRedisStoresOn(given as unknown as Parameters<typeof createRedisStoresOn>[0], { prefix, now, sessionIdleMs, maxSessionsPerUser, sealKey, userDatabase: { ...userDatabase, close: async () => undefined } }, async () => undefined);
  }
  if (!isStores(given)) {
    throw new OptionError('stores', 'must be an ioredis client, or a Stores object (sessions, users, limits, credentials, audit, ping, close)');
  }
  // Given stores decide idleness and the per-user cap themselves: a second value here would silently not apply.
  for (const option of ['sessionIdleMs', 'maxSessionsPerUser'] as const) {
    if (options[option] !== undefined) throw new OptionError(option, 'applies to the stores the service makes: give it to the stores you pass');
  }
  return given;
}

const expired = () => new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');

export function createLoginService(options: LoginServiceOptions & { accountMode: 'bind' }): LoginService;
export function createLoginService(options: LoginServiceOptions & { accountMode?: 'open' }): LoginService<LoginResponse>;
export function createLoginService(options: LoginServiceOptions): LoginService;
export function createLoginService(options: LoginServiceOptions): LoginService {
  if (typeof options !== 'object' || options === null) throw new OptionError('options', 'must be an object with at least { wechat }');
  const now = options.now ?? Date.now;
  if (typeof now !== 'function') throw new OptionError('now', 'must be a function answering epoch milliseconds');
  const logger = options.logger;
  if (logger !== undefined && (typeof logger !== 'object' || logger === null || typeof logger.warn !== 'function')) {
    throw new OptionError('logger', 'must have a warn(fields, message) method (a pino or fastify logger does)');
  }
  // Bounds that only keep out what cannot be meant (a zero, a negative, a lifetime of centuries).
  const sessionLifetimeMs = integer(options, 'sessionLifetimeMs', 30 * DAY, 1000, 10 * YEAR);
  const sessionIdleMs = integer(options, 'sessionIdleMs', Math.min(7 * DAY, sessionLifetimeMs), 1000, sessionLifetimeMs);
  const loginRateLimit = integer(options, 'loginRateLimit', 20, 1, 1_000_000_000);
  const loginRateWindowMs = integer(options, 'loginRateWindowMs', 60_000, 1, YEAR);
  const phoneBindLimit = integer(options, 'phoneBindLimit', 10, 1, 1_000_000_000);
  const phoneBindWindowMs = integer(options, 'phoneBindWindowMs', 3600_000, 1, YEAR);
  const phoneBindTimeoutMs = integer(options, 'phoneBindTimeoutMs', 8000, 1, 10 * 60_000);
  const accountDeleteLimit = integer(options, 'accountDeleteLimit', 5, 1, 1_000_000_000);
  const accountDeleteWindowMs = integer(options, 'accountDeleteWindowMs', 3600_000, 1, YEAR);
  const userFiles = options.userFiles;
  if (userFiles !== undefined && (typeof userFiles !== 'object' || userFiles === null || typeof userFiles.removeAllOf !== 'function')) {
    throw new OptionError('userFiles', 'must have a removeAllOf(user) method');
  }
  if (options.requirePhone !== undefined && typeof options.requirePhone !== 'boolean') throw new OptionError('requirePhone', 'must be true or false');
  const policy: AccountPolicy = { requirePhone: options.requirePhone ?? false };

  const accountMode = options.accountMode ?? 'open';
  if (accountMode !== 'open' && accountMode !== 'bind') throw new OptionError('accountMode', `must be "open" or "bind" (got ${JSON.stringify(accountMode)})`);
  const bindTicketLifetimeMs = integer(options, 'bindTicketLifetimeMs', 10 * 60_000, 1000, DAY);
  const bindFailureLimit = integer(options, 'bindFailureLimit', 5, 1, 1_000_000);
  const bindFailureWindowMs = integer(options, 'bindFailureWindowMs', 15 * 60_000, 1, YEAR);
  let passwords: PasswordChecker;
  try {
    passwords = new PasswordChecker(options.passwordParams);
  } catch (error) {
    throw new OptionError('passwordParams', (error as Error).message);
  }
  if (options.onAccountEvent !== undefined && typeof options.onAccountEvent !== 'function') throw new OptionError('onAccountEvent', 'must be a function');

  const stores = storesFrom(options, now, sessionIdleMs);
  if (accountMode === 'bind' && (isAbsentStore(stores.accounts) || isAbsentStore(stores.bindTickets) || typeof stores.accounts !== 'object' || typeof stores.bindTickets !== 'object')) {
    throw new OptionError(options.userDatabase === undefined ? 'stores' : 'userDatabase', 'needs accounts and bindTickets in bind mode (createSqlStores and createMemoryStores have them)');
  }

  /** A warn line for a failure the answer does not show: what failed, and why (see failureDetails). */
  const warnOf = (what: string) => (error: unknown) => logger?.warn({ err: error instanceof Error ? error.message : String(error), ...failureDetails(error) }, what);
  const wechat = resolveWeChat(options.wechat, { credentials: stores.credentials, now, warn: warnOf });
  const apiUser = (user: Authenticated['user']) => toApiUser(user, policy);
  const menusOf = options.menus ?? noMenus;
  const userMenus = (user: Authenticated['user']) => menusOf(rolesOf(user));

  const authenticate = (authorization: string | undefined) => authenticateBearer(authorization, stores);
  const audit = createAuditTrail(stores.audit, now, (error, entry) =>
    (logger?.error ?? logger?.warn)?.call(logger, { err: error instanceof Error ? error.message : String(error), ...failureDetails(error), entry }, 'an audit entry could not be written; what it records went ahead'),
  );

  /**
   * A login refused by the rate limit, on the trail once per client network and window: the
   * refusals themselves are the attacker's to multiply, and one entry says as much as a thousand.
   */
  const recordRateLimited = async (address: string | undefined) => {
    const first = await stores.limits.take(`audit-login-refused:${clientNetwork(address) ?? 'unknown'}`, 1, loginRateWindowMs).catch(() => ({ allowed: false }));
    if (first.allowed) await audit.record({ userId: null, actor: 'user', action: 'login', outcome: 'refused', address, detail: { reason: 'RATE_LIMITED' } });
  };

  const accounts = createAccountLifecycle({ stores, now, ...(userFiles ? { files: userFiles } : {}) });

  /** A fresh session for `user`, answered as a login is. */
  const startSession = async (user: Authenticated['user'], sessionKey: string, created: boolean): Promise<LoginResponse> => {
    // A fresh skey on every login, also for a user already logged in elsewhere: each device
    // holds its own session and can be revoked alone.
    const skey = newSkey();
    const at = now();
    const expiresAt = at + sessionLifetimeMs;
    await stores.sessions.create({ skeyHash: hashSkey(skey), userId: user.id, sessionKey, createdAt: at, lastSeenAt: at, expiresAt });
    return { skey, expiresAt, user: apiUser(user), isNewUser: created, menus: userMenus(user) };
  };

  const binding = createBinding({
    stores,
    now,
    passwords,
    ticketLifetimeMs: bindTicketLifetimeMs,
    failureLimit: bindFailureLimit,
    failureWindowMs: bindFailureWindowMs,
    authenticate,
    startSession: (user, sessionKey) => startSession(user, sessionKey, false),
    // On the audit trail, then the host's own hook.
    onAccountEvent: async (event) => {
      await audit.record({ userId: event.userId, actor: 'user', action: event.type, outcome: 'ok', address: event.clientAddress, detail: { account: event.account } });
      await options.onAccountEvent?.(event);
    },
    warn: (fields, message) => logger?.warn(fields, message),
  });
  if (accountMode === 'bind') passwords.warmUp();
  const bindModeOnly = () => {
    if (accountMode !== 'bind') throw new ApiError('NOT_FOUND', 'platform accounts are not enabled on this server (ACCOUNT_MODE=bind)');
  };

  /** 403 USER_BLOCKED for a user who is shut out (blocked, or a disabled platform account), on the trail as a refused login. */
  const refuseShutOut = async (user: Authenticated['user'], address: string | undefined) => {
    try {
      refuseIfShutOut(user);
    } catch (refusal) {
      await audit.record({ userId: user.id, actor: 'user', action: 'login', outcome: 'refused', address, detail: { reason: 'USER_BLOCKED' } });
      throw refusal;
    }
  };
  /** A login's session, on the trail. */
  const loggedIn = async (user: Authenticated['user'], sessionKey: string, created: boolean, address: string | undefined) => {
    const answer = await startSession(user, sessionKey, created);
    await audit.record({ userId: user.id, actor: 'user', action: 'login', outcome: 'ok', address, ...(created ? { detail: { newUser: true } } : {}) });
    return answer;
  };

  return {
    stores,
    now,
    policy,
    accountMode,

    async login(code, client = {}): Promise<LoginAnswer> {
      if (typeof code !== 'string' || code === '' || code.length > 128) throw new ApiError('BAD_REQUEST', 'code must be a string of 1 to 128 characters');
      try {
        await enforceLimit(stores.limits, `login:${clientKey(client.address)}`, loginRateLimit, loginRateWindowMs, 'too many login attempts, try again later');
      } catch (error) {
        if (error instanceof ApiError && error.code === 'RATE_LIMITED') await recordRateLimited(client.address);
        throw error;
      }
      const session = await wechat.client.code2Session(code);
      // By unionid first when WeChat sends one (the same person across the company's apps), then openid.
      const identity = { openid: session.openid, unionid: session.unionid };
      if (accountMode === 'bind') {
        // Nobody is created: a WeChat user without a user binds to a platform account first.
        const user = await stores.users.find(identity);
        if (!user) return binding.ticketFor(identity, session.sessionKey);
        await refuseShutOut(user, client.address);
        return loggedIn(user, session.sessionKey, false, client.address);
      }
      const at = now();
      const { user, created } = await stores.users.findOrCreate(identity, () => ({ id: randomUUID(), openid: session.openid, nickname: '', avatarUrl: '', createdAt: at }));
      await refuseShutOut(user, client.address);
      return loggedIn(user, session.sessionKey, created, client.address);
    },

    async bind(request, client = {}) {
      bindModeOnly();
      return binding.bind(request, client);
    },

    async unbind(authorization, client = {}) {
      bindModeOnly();
      return binding.unbind(authorization, client);
    },

    authenticate,

    authenticateComplete: (authorization) => authenticateComplete(authorization, stores, policy),

    session(authorization) {
      return whenReady(authenticate(authorization), ({ session, user }) => ({ user: apiUser(user), expiresAt: session.expiresAt, menus: userMenus(user) }));
    },

    async logout(authorization) {
      const { skeyHash } = await authenticate(authorization);
      await stores.sessions.delete(skeyHash);
      return { ok: true };
    },

    async verifyUserInfo(authorization, { rawData, signature, encryptedData, iv }) {
      const { skeyHash, user } = await authenticate(authorization);
      // A session whose session_key cannot be read (sealed under a key since rotated) needs a
      // fresh login, which brings a fresh session_key.
      const sessionKey = await stores.sessions.sessionKey(skeyHash);
      // '' is a session a bind started without its ticket's session_key (sealed under a rotated key).
      if (sessionKey === null || sessionKey === '') throw expired();
      // One answer for every failure: which check failed is of use only to an attacker.
      const invalid = new ApiError('INVALID_USER_DATA', 'the user data could not be verified');
      if (!verifySignature(rawData, signature, sessionKey)) throw invalid;
      let payload: Record<string, unknown>;
      try {
        payload = decryptData(encryptedData, iv, sessionKey, wechat.appId);
      } catch (error) {
        if (error instanceof DecryptError) throw invalid;
        throw error;
      }
      // WeChat stamps the data when it hands it out: old data is a replay.
      if (!isFresh(payload, now())) throw invalid;

      // The user is the session's; the payload only fills in what the user has not set, and
      // only with values that pass the same rules as the user's own input.
      const patch: UserPatch = {};
      const nickname = typeof payload.nickName === 'string' ? cleanNickname(payload.nickName) : null;
      if (user.nickname === '' && nickname?.ok) patch.nickname = nickname.value;
      const avatarUrl = wechatAvatarUrl(payload.avatarUrl);
      if (user.avatarUrl === '' && avatarUrl !== null) patch.avatarUrl = avatarUrl;
      const updated = Object.keys(patch).length > 0 ? (await stores.users.update(user.id, patch))?.after : user;
      return { user: apiUser(updated ?? user) };
    },

    async bindPhone(authorization, code, client = {}) {
      const { user } = await authenticate(authorization);
      // Open to accounts without a phone (it is how they get one) whatever requirePhone says.
      // Every successful exchange is charged to the mini-program, and failed ones count against
      // WeChat's quota for everyone: a per-user limit before asking WeChat.
      await enforceLimit(stores.limits, userLimitKeys.phoneBind(user.id), phoneBindLimit, phoneBindWindowMs, 'too many phone number requests, try again later');
      const phone = await wechat.client.getPhoneNumber(code, phoneBindTimeoutMs);
      const binding = await stores.users.bindPhone(user.id, phone);
      if (!binding) throw expired();
      // One number, one account. A real product would offer to merge the two accounts here (see docs/server.md, "Binding a phone").
      const outcome = binding.ok ? 'ok' : 'refused';
      await audit.record({ userId: user.id, actor: 'user', action: 'phone.bound', outcome, address: client.address, ...(binding.ok ? {} : { detail: { reason: 'PHONE_IN_USE' } }) });
      if (!binding.ok) throw new ApiError('PHONE_IN_USE', 'this phone number is already bound to another account');
      return { user: apiUser(binding.user) };
    },

    async deleteOwnAccount(authorization, code) {
      if (typeof code !== 'string' || code === '' || code.length > 128) throw new ApiError('BAD_REQUEST', 'code must be a string of 1 to 128 characters');
      const { user } = await authenticate(authorization);
      // Each attempt costs a WeChat code exchange: a per-user limit before asking WeChat.
      await enforceLimit(stores.limits, userLimitKeys.accountDelete(user.id), accountDeleteLimit, accountDeleteWindowMs, 'too many account deletion attempts, try again later');
      // The re-authentication: a skey alone (stolen, or left on a shared phone) cannot delete the account.
      const session = await wechat.client.code2Session(code);
      if (session.openid !== user.openid) throw new ApiError('INVALID_CODE', 'the code is not of this account’s WeChat user');
      const { deleted, kept } = await accounts.deleteAccount(user.id, { by: 'user' });
      // Deleted meanwhile (another device, an operator): the session is gone as well.
      if (!deleted) throw expired();
      return { deleted: true, kept };
    },

    async exportOwnAccount(authorization) {
      const { skeyHash, user } = await authenticate(authorization);
      const exported = await accounts.exportAccount(user.id, { currentSkeyHash: skeyHash });
      if (!exported) throw expired();
      return exported;
    },

    accounts,

    toApiUser: apiUser,

    audit,
  };
}

/** How an adapter is given its service: the options for a new one, or one the host made with createLoginService. */
export type ServiceChoice = Omit<LoginServiceOptions, 'wechat' | 'logger'> & { wechat?: LoginServiceOptions['wechat']; service?: LoginService };

/** The service an adapter's options describe: the given one, or a new one; options that would be ignored are refused. */
export function serviceFrom({ service, ...options }: ServiceChoice, logger: LoginLogger): LoginService {
  if (service === undefined) return createLoginService({ ...(options as LoginServiceOptions), logger });
  if (typeof service !== 'object' || service === null || typeof service.authenticate !== 'function') throw new OptionError('service', 'must be what createLoginService returned');
  const ignored = Object.keys(options).find((key) => (options as Record<string, unknown>)[key] !== undefined);
  if (ignored !== undefined) throw new OptionError(ignored, 'cannot be given with service: the service was made with its own options');
  return service;
}
