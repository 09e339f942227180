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

export interface SessionStore {
  create(session: SessionRecord): Promise<void>;
  /** The live session, its idle deadline moved forward; null when unknown, idle too long or past its lifetime. */
  touch(skeyHash: string): Promise<SessionRecord | null>;
  /** Whether a session was removed. */
  delete(skeyHash: string): Promise<boolean>;
  /** Removes every session; returns how many. */
  deleteAll(): Promise<number>;
}

export interface UserRecord {
  id: string;
  openid: string;
  nickname: string;
  avatarUrl: string;
  createdAt: number;
}

export type UserPatch = Partial<Pick<UserRecord, 'nickname' | 'avatarUrl'>>;

export interface UserStore {
  /** The user of this openid, created (atomically: concurrent first logins make one user) if none. */
  findOrCreate(openid: string, fresh: () => UserRecord): Promise<{ user: UserRecord; created: boolean }>;
  get(id: string): Promise<UserRecord | null>;
  /** The updated user, or null when there is no such user. */
  update(id: string, patch: UserPatch): Promise<UserRecord | null>;
}

/** Fixed-window counters (the login limiter's), shared by every instance when in Redis. */
export interface RateCounter {
  /** Counts one hit on `key` and returns the number of hits in the current window. */
  hit(key: string, windowMs: number): Promise<number>;
}

export interface Stores {
  sessions: SessionStore;
  users: UserStore;
  counters: RateCounter;
  /** Resolves when the store answers; throws 503 STORE_UNAVAILABLE otherwise (the readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  now: Clock;
  sessionIdleMs: number;
}

/** A session is live until it has been idle too long or has reached its absolute end. */
export function isLive(session: SessionRecord, now: number, idleMs: number): boolean {
  return now < session.expiresAt && now - session.lastSeenAt < idleMs;
}
