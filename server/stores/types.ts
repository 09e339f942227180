/** Epoch ms. Injected so that tests can move time instead of waiting. */
export type Clock = () => number;

export interface SessionRecord {
  /** sha256 of the skey, hex: the store never sees the skey itself. */
  skeyHash: string;
  userId: string;
  /** WeChat's session_key for this login; needed to check user data, never sent out. */
  sessionKey: string;
  createdAt: number;
  lastSeenAt: number;
  /** Absolute end of life (createdAt + lifetime). */
  expiresAt: number;
}

/** A session as authentication sees it: session_key is fetched apart, only where it is needed. */
export type LiveSession = Omit<SessionRecord, 'sessionKey'>;

/** A value, or a promise of it: what a store answers at once when it can (memory), later when it must (Redis). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * `then(value)` at once when `value` is there, once it resolves otherwise. Keeps the memory
 * store's path through authentication free of promises and microtask turns.
 */
export function whenReady<T, R>(value: MaybePromise<T>, then: (value: T) => R): MaybePromise<R> {
  return value instanceof Promise ? value.then(then) : then(value);
}

/** What every authenticated request needs: the live session and its user. */
export interface SessionWithUser {
  session: LiveSession;
  user: UserRecord;
}

/**
 * Sessions, indexed by their skey's hash and by their user.
 *
 * The per-user index is what caps live sessions (StoreOptions.maxSessionsPerUser, from
 * MAX_SESSIONS_PER_USER) and what `deleteAllOf` ends. Every implementation keeps it free of dead
 * sessions: whenever `create` or `deleteAllOf` reads a user's index, it drops the entries whose
 * session is gone, idle too long or past its lifetime (isLive), so a user's index never holds more
 * than the cap. The cap is paid at login; `touch`, on every authenticated request, does not read
 * the index (deleting a session it finds dead, it may drop that one entry).
 *
 * How the stores do it: memory, a SessionIndex (hashes in login order); Redis, a sorted set
 * `sessions-of:<userId>` scored by createdAt, read, pruned and trimmed inside the script that
 * stores the session. A SQL store would index a `user_id` column and do the prune, the trim and
 * the insert in one transaction that first locks the user's sessions (or the user's row), so that
 * two concurrent logins cannot both see room under the cap. Every store must pass the shared suite
 * (`storeContract` in test/server/stores.test.ts, "sessions per user" among it).
 */
export interface SessionStore {
  /**
   * Stores a new session and makes it one of at most `maxSessionsPerUser` live sessions of its
   * user: when the user already has that many, the oldest (by `createdAt`; logins in the same
   * millisecond in either order) are deleted, in the same atomic step, so that concurrent logins of
   * one user never leave more than the cap. The new session is never the one deleted. Returns how
   * many live sessions it revoked that way (0 while under the cap).
   */
  create(session: SessionRecord): Promise<number>;
  /**
   * The live session and its user, the session's idle deadline moved forward; null when the
   * session is unknown, idle too long or past its lifetime, or its user is gone. Called on every
   * authenticated request: one round trip in Redis, no promise in memory.
   *
   * A store may record the use only when its last record is older than touchIntervalMs(idle):
   * the idle timeout then counts from that record, so a session can end up to that much (at most
   * a minute, and 1% of the idle timeout) before a full idle timeout after its very last use.
   */
  touch(skeyHash: string): MaybePromise<SessionWithUser | null>;
  /** The session's WeChat session_key; null when the session is gone or its key cannot be read (sealed with a rotated key). */
  sessionKey(skeyHash: string): Promise<string | null>;
  /** Whether a session was removed. */
  delete(skeyHash: string): Promise<boolean>;
  /**
   * Ends every session of one user, atomically (a login racing with it either ends before and is
   * ended, or starts after and lives); returns how many live sessions it ended. For unbinding an
   * account, blocking a user, deleting an account. 0 for a user without sessions, or unknown.
   */
  deleteAllOf(userId: string): Promise<number>;
  /** How many live sessions the user holds (the operator's `npm run admin show`); 0 for an unknown user. */
  countOf(userId: string): Promise<number>;
  /** Removes every session (and every user's index); returns how many. */
  deleteAll(): Promise<number>;
  /** The user's live sessions, oldest first (by createdAt), without their session_key: for the account export. */
  listOf(userId: string): Promise<LiveSession[]>;
}

/** A phone number as WeChat verified it: country calling code and national number, digits only. */
export interface PhoneNumber {
  /** `86` for mainland China. */
  countryCode: string;
  /** `13800138000`. */
  number: string;
}

export interface UserRecord {
  id: string;
  /** The openid of the login that created the user. */
  openid: string;
  /** Set once WeChat reports one (the mini-program is bound to an Open Platform account); never sent to the client. */
  unionid?: string;
  nickname: string;
  avatarUrl: string;
  createdAt: number;
  /** Bound through POST /auth/phone; one user per number. */
  phone?: PhoneNumber;
  /**
   * The user's roles (see access.ts); absent or empty means the default role. Only a platform
   * account (bind mode) gives a user other roles; the memory store's double sets them for tests.
   */
  roles?: string[];
  /**
   * Set by the operator (`npm run admin block`): the user cannot log in (403 USER_BLOCKED) and no
   * session of theirs authenticates. `reason` is the operator's note, never sent to the client.
   */
  blocked?: UserBlock;
  /** The platform account this user is (bind mode): a user created by the accounts command. */
  account?: UserAccount;
}

/** An operator's block: when (epoch ms), and the operator's note why. */
export interface UserBlock {
  at: number;
  reason: string;
}

/** What a user record carries of its platform account (never the password hash). */
export interface UserAccount {
  name: string;
  displayName: string;
  /** A disabled account cannot bind or log in, and its sessions end (403 USER_BLOCKED). */
  disabled: boolean;
}

/** Who WeChat says logged in. */
export interface WeChatIdentity {
  openid: string;
  unionid?: string;
}

export type PhoneBinding = { ok: true; user: UserRecord } | { ok: false; reason: 'PHONE_IN_USE' };

export type UserPatch = Partial<Pick<UserRecord, 'nickname' | 'avatarUrl'>>;

export interface UserStore {
  /**
   * The user of this unionid, else of this openid, created (atomically: concurrent first logins
   * make one user) if neither is known. A unionid or openid the found user lacks is linked to it,
   * so that later logins find it by either.
   */
  findOrCreate(identity: WeChatIdentity, fresh: () => UserRecord): Promise<{ user: UserRecord; created: boolean }>;
  /** findOrCreate without the create (bind mode): the user of this unionid, else of this openid, the missing one linked; null when neither is known. */
  find(identity: WeChatIdentity): Promise<UserRecord | null>;
  get(id: string): Promise<UserRecord | null>;
  /** The user before and after the patch (applied atomically), or null when there is no such user. */
  update(id: string, patch: UserPatch): Promise<{ before: UserRecord; after: UserRecord } | null>;
  /**
   * Binds `phone` to the user, atomically: refused when another user holds the number; a number
   * the user held before is released. Null when there is no such user.
   */
  bindPhone(id: string, phone: PhoneNumber): Promise<PhoneBinding | null>;
  /** Blocks the user (a block already there is replaced); the user after, or null when there is no such user. */
  block(id: string, block: UserBlock): Promise<UserRecord | null>;
  /** Lifts a block; the user after (unchanged when not blocked), or null when there is no such user. */
  unblock(id: string): Promise<UserRecord | null>;
  /** The user holding this phone number, or null: for the operator's `npm run admin find --phone`. */
  findByPhone(phone: PhoneNumber): Promise<UserRecord | null>;
  /**
   * Users whose nickname contains `text` (case-sensitive; a full scan, for the operator's `npm run
   * admin find --nickname`), oldest first, at most `limit`.
   */
  searchByNickname(text: string, limit: number): Promise<UserRecord[]>;
  /** The user this mini-program's openid names (the openid WeChat's push events carry), or null. */
  findByOpenid(openid: string): Promise<UserRecord | null>;
  /** Unbinds the user's phone number (the number is free again); the user after, or null when there is no such user. */
  removePhone(id: string): Promise<UserRecord | null>;
  /** What the user is known by (WeChat identities, unionid, phone), oldest first; empty for no such user. For the account export. */
  identitiesOf(id: string): Promise<IdentityRecord[]>;
  /**
   * Deletes the user and every identity of theirs, atomically; the user as it was, or null when
   * there was no such user. The WeChat identity is then free: its next login creates a new user.
   * Sessions kept in the same database go too; sessions kept elsewhere (Redis) no longer
   * authenticate (their user is gone) and are the caller's to end (sessions.deleteAllOf).
   */
  delete(id: string): Promise<UserRecord | null>;
  /**
   * A deletion that keeps the platform account (bind mode): every identity of the user (WeChat
   * identities, unionid, phone) and the nickname and avatar go, atomically; the user row and its
   * account stay, unbound. The user as it was, or null when there is no such user. Sessions as
   * for `delete`.
   */
  eraseCollectedData(id: string): Promise<UserRecord | null>;
}

/** Who did it: the user themselves, the operator (npm run admin), WeChat (its pushed events), the server on its own. */
export type AuditActor = 'user' | 'operator' | 'wechat' | 'system';
export type AuditOutcome = 'ok' | 'refused' | 'failed';
export type AuditAction =
  | 'login'
  | 'bind'
  | 'unbind'
  | 'phone.bound'
  | 'profile.changed'
  | 'exported'
  | 'deleted'
  | 'blocked'
  | 'unblocked'
  | 'logout-all'
  | 'wechat.revoke'
  | 'wechat.cancel'
  | 'wechat.modified';

/** Short facts about an event (which fields changed, why it was refused); never a secret, never a value the user typed. */
export type AuditDetail = Record<string, string | number | boolean | string[]>;

/** One entry of the audit trail (see server/audit.ts). */
export interface AuditEntry {
  /** Epoch ms. */
  at: number;
  /** Null when no user is known (a login refused before WeChat named one); a random `erased:` id once the user is deleted. */
  userId: string | null;
  actor: AuditActor;
  action: AuditAction;
  outcome: AuditOutcome;
  /** The client's IPv4 /24 or IPv6 /48 (`203.0.113.0/24`), null when there is none (the operator, WeChat). */
  clientNetwork: string | null;
  detail: AuditDetail | null;
}

/**
 * The append-only audit trail. Entries are never changed, except that anonymise strips a deleted
 * user's, and purge drops those past the retention.
 */
export interface AuditStore {
  record(entry: AuditEntry): Promise<void>;
  /** The user's entries, newest first, at most `limit`. */
  listOf(userId: string, limit: number): Promise<AuditEntry[]>;
  /**
   * After the user's deletion: their entries keep when, who (actor), what and the outcome, under a
   * random id made for this call (`erased:<uuid>`, stored nowhere else), and lose the network and
   * the detail. How many entries it changed.
   */
  anonymise(userId: string): Promise<number>;
  /** Drops the entries older than `before` (epoch ms); how many. */
  purge(before: number): Promise<number>;
}

/** One identity row of a user, as the export shows it (see AccountIdentity in typings/api.d.ts). */
export interface IdentityRecord {
  /** `wechat`: the openid (`appid:openid` for another app's); `unionid`; `phone`: `+86 13800138000`. */
  kind: 'wechat' | 'unionid' | 'phone';
  value: string;
  createdAt: number;
}

/**
 * A platform account (ACCOUNT_MODE=bind): a user row plus its account row, made by the accounts
 * command before any WeChat user binds to it.
 */
export interface PlatformAccount {
  /** The user the account is: WeChat identities bind to this user. */
  userId: string;
  /** What the user types to bind (工号, 学号, 会员号); unique. */
  name: string;
  displayName: string;
  /** Role names (access.ts); empty means the default role. */
  roles: string[];
  disabled: boolean;
  /** passwords.ts's encoded scrypt hash (parameters, salt, hash). */
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
}

/** An account as listings show it: no password hash, and whether a WeChat user is bound to it. */
export type AccountSummary = Omit<PlatformAccount, 'passwordHash'> & { bound: boolean };

export interface NewAccount {
  name: string;
  displayName: string;
  roles: string[];
  passwordHash: string;
}

export type AccountCreation = { ok: true; account: PlatformAccount } | { ok: false; reason: 'NAME_TAKEN' };

/** Platform accounts, by name. Every change returns the account after it, or null when there is no account of that name. */
export interface AccountStore {
  /** A new user and its account, in one transaction; refused when the name is taken. */
  create(account: NewAccount): Promise<AccountCreation>;
  byName(name: string): Promise<PlatformAccount | null>;
  /** Every account, by name. */
  list(): Promise<AccountSummary[]>;
  setPasswordHash(name: string, passwordHash: string): Promise<PlatformAccount | null>;
  /**
   * Disables or enables the account. Disabling does not end sessions by itself: the caller ends
   * them (`sessions.deleteAllOf(account.userId)`); authentication refuses a disabled account's
   * sessions in any case.
   */
  setDisabled(name: string, disabled: boolean): Promise<PlatformAccount | null>;
  setRoles(name: string, roles: string[]): Promise<PlatformAccount | null>;
  /**
   * Unbinds: removes the user's WeChat identities (every openid and the unionid), so that the next
   * login of that WeChat user finds nobody. How many identity rows it removed (0: none bound).
   */
  unbind(userId: string): Promise<number>;
}

/** A bind ticket as the server holds it: the WeChat identity of a login that found no user (bind mode). */
export interface BindTicketRecord {
  /** sha256 of the ticket, hex: the store never sees the ticket itself. */
  ticketHash: string;
  openid: string;
  unionid?: string;
  /** WeChat's session_key of that login, for the session the bind starts (sealed in SQL, as sessions keep it). */
  sessionKey: string;
  expiresAt: number;
}

export type BindOutcome =
  /** The user bound, and the ticket's session_key (null when it cannot be read: sealed under a key since rotated). */
  | { ok: true; user: UserRecord; sessionKey: string | null }
  /** Unknown, used or expired; or its WeChat identity was bound meanwhile by another ticket. */
  | { ok: false; reason: 'INVALID_BIND_TICKET' }
  /** The account's user already has a WeChat identity of this app (the ticket stays usable). */
  | { ok: false; reason: 'ACCOUNT_ALREADY_BOUND' }
  /** No such user (the account was deleted meanwhile). */
  | { ok: false; reason: 'NO_SUCH_USER' };

export interface BindTicketStore {
  issue(ticket: BindTicketRecord): Promise<void>;
  /** Whether the ticket is known and live (a cheap look before the password is checked). */
  isLive(ticketHash: string): Promise<boolean>;
  /**
   * Consumes the ticket and binds its WeChat identity (openid, and unionid when there is one) to
   * the user, in one transaction: of any number of concurrent redeems of one ticket, exactly one
   * succeeds. A ticket is consumed only by a success (and by an identity bound meanwhile to
   * someone else, after which it is of no use).
   */
  redeem(ticketHash: string, userId: string): Promise<BindOutcome>;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterMs: number };

/**
 * Sliding-window rate limits (logins per client, uploads per user), shared by every instance
 * when in Redis. At most `limit` hits are accepted in any `windowMs`, wherever the window falls.
 */
export interface RateLimiter {
  /** Accepts and records one hit on `key`, or refuses it (recording nothing) and says when the next would pass. */
  take(key: string, limit: number, windowMs: number): Promise<RateDecision>;
  /** Forgets every hit of `key`, in every window (a successful bind clears the account's failures; a deleted account's per-user keys are reset). */
  reset(key: string): Promise<void>;
  /**
   * Forgets the newest accepted hit of `key`, if any: the attempt it paid for turned out not to be
   * a failure (a successful bind gives its place back to the client's address). Never more than one.
   */
  refund(key: string): Promise<void>;
}

/** A credential the server fetched (WeChat's access_token): its value, when to renew it, when it dies (epoch ms). */
export interface CachedCredential {
  value: string;
  refreshAt: number;
  expiresAt: number;
}

/**
 * Fetched credentials, shared by every instance when in Redis, with the short lock that lets one
 * instance at a time renew a credential.
 */
export interface CredentialCache {
  get(name: string): Promise<CachedCredential | null>;
  /** Kept until its expiresAt. */
  set(name: string, credential: CachedCredential): Promise<void>;
  /** Removes the credential only while its value is still `value`; whether it did. */
  deleteIf(name: string, value: string): Promise<boolean>;
  /** Takes the renewal lock of `name` for at most `ttlMs` unless another holder has it: the release, or null. */
  lock(name: string, ttlMs: number): Promise<(() => Promise<void>) | null>;
}

/** The account events of WeChat's message push this server acts on (wechat/push.ts AccountEvent). */
export type PushEventKind = 'user_authorization_revoke' | 'user_authorization_cancellation' | 'user_info_modified';

/** An account event as recorded before WeChat gets its answer (see push-events/processor.ts). */
export interface PushEventRecord {
  /** The event's identity across WeChat's redeliveries (wechat/push.ts dedupeKeyOf): the primary key. */
  dedupeKey: string;
  kind: PushEventKind;
  /** The user's openid: the only personal datum kept, and only until the event is done (then ''). */
  openid: string;
  /** What the user withdrew (wechat/push.ts RevokedData names); empty for the other kinds. */
  revoked: string[];
  receivedAt: number;
}

/** How a handled event ended. `unknown-user`: no user of this openid (nothing held, nothing to do). */
export type PushEventOutcome = 'acted' | 'unknown-user' | 'failed';

/** An event one worker holds, with the proof of its claim and how many claims it has had (this one included). */
export interface ClaimedPushEvent extends PushEventRecord {
  claim: string;
  attempts: number;
}

/**
 * WeChat's account events, recorded first and acted on once. Every instance on one database shares
 * it: `claim` is one atomic conditional update, so of two instances (or two workers) trying one
 * event, one gets it. A claim lasts `leaseMs`; a holder that crashed loses it then, and the event
 * is due again. Done events keep their key (no openid) until purged, so a late redelivery is known.
 */
export interface PushEventStore {
  /** Records a new event, pending; false (nothing changed) when its dedupeKey is already recorded. */
  record(event: PushEventRecord): Promise<boolean>;
  /** Takes the event for `leaseMs` if it is pending and nobody holds it; null otherwise. */
  claim(dedupeKey: string, leaseMs: number): Promise<ClaimedPushEvent | null>;
  /** Up to `limit` keys of pending events nobody holds (never claimed, released, or whose claim ran out), oldest first. */
  due(limit: number): Promise<string[]>;
  /** Marks a claimed event done and forgets its openid; false when the claim was lost meanwhile (nothing changed). */
  finish(dedupeKey: string, claim: string, outcome: PushEventOutcome): Promise<boolean>;
  /** Gives a claimed event back, due again from `retryAt` (after a failure). */
  release(dedupeKey: string, claim: string, retryAt: number): Promise<void>;
  /** Deletes the done events finished before `before`; how many. */
  purge(before: number): Promise<number>;
  /** How many events are pending and done: the backlog, for monitoring. */
  counts(): Promise<{ pending: number; done: number }>;
}

export interface Stores {
  sessions: SessionStore;
  users: UserStore;
  limits: RateLimiter;
  credentials: CredentialCache;
  audit: AuditStore;
  /** Platform accounts (bind mode), in the system of record. */
  accounts: AccountStore;
  /** Bind tickets (bind mode), in the system of record: redeeming one writes identities. */
  bindTickets: BindTicketStore;
  /** WeChat's pushed account events (in the system of record, also when sessions are in Redis). */
  pushEvents: PushEventStore;
  /** Resolves when the store answers; throws 503 STORE_UNAVAILABLE otherwise (the readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The system of record as other stores use it: its users and audit trail (and platform accounts
 * and bind tickets, which bind mode needs, and WeChat's pushed events), whether it answers, and closing it.
 */
export type UserDatabase = Pick<Stores, 'users' | 'audit' | 'ping' | 'close'> & Partial<Pick<Stores, 'accounts' | 'bindTickets' | 'pushEvents'>>;

export interface StoreOptions {
  now: Clock;
  sessionIdleMs: number;
  /** Live sessions one user may hold; a login beyond it revokes the oldest. DEFAULT_MAX_SESSIONS_PER_USER when absent. */
  maxSessionsPerUser?: number;
}

/**
 * Live sessions per user unless configured (MAX_SESSIONS_PER_USER): a phone, a tablet, DevTools
 * and a few reinstalls. Without a cap one user held 198,349 live sessions in one process (#22).
 */
export const DEFAULT_MAX_SESSIONS_PER_USER = 10;

/**
 * How stale a session's recorded last use may get before a use records it again: a minute, or 1%
 * of the idle timeout when that is shorter. Within it, authenticating reads and writes nothing.
 */
export function touchIntervalMs(idleMs: number): number {
  return Math.min(60_000, Math.floor(idleMs / 100));
}

/** A session is live until it has been idle too long or has reached its absolute end. */
export function isLive(session: LiveSession, now: number, idleMs: number): boolean {
  return now < session.expiresAt && now - session.lastSeenAt < idleMs;
}
