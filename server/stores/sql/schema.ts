/**
 * The tables as the queries see them (Kysely's types). Times are epoch milliseconds in bigint
 * columns: the drivers hand bigints back as strings (pg) or numbers, so readers go through Number().
 * migrations.ts creates them; a change here needs a new migration there.
 */
import type { Generated } from 'kysely';

type Millis = number | string;

export interface UsersTable {
  id: string;
  nickname: string;
  avatar_url: string;
  created_at: Millis;
  updated_at: Millis;
}

/**
 * What a user is known by. UNIQUE(kind, value): one user per WeChat account, unionid and phone
 * number. `seq` orders a user's identities (the first WeChat one is the login that created the user).
 */
export interface IdentitiesTable {
  seq: Generated<number>;
  kind: IdentityKind;
  value: string;
  user_id: string;
  created_at: Millis;
}

/**
 * `wechat`: appid:openid (an openid means something only within its app). `unionid`: the person
 * across the company's apps. `phone`: countryCode:number, as WeChat verified it.
 */
export type IdentityKind = 'wechat' | 'unionid' | 'phone';

export interface SessionsTable {
  skey_hash: string;
  user_id: string;
  /** Sealed (seal.ts), bound to the skey hash: a copy of the database hands out no session_key. */
  session_key: string;
  created_at: Millis;
  last_seen_at: Millis;
  expires_at: Millis;
}

/** One sliding log per key: the accepted hits' times, oldest first, each 9 characters of base 36 (limits.ts). */
export interface RateLimitsTable {
  key: string;
  hits: string;
  /** When the newest hit leaves the window: the row can go after that. */
  expires_at: Millis;
}

export interface CredentialsTable {
  name: string;
  /** Sealed, bound to the name. */
  value: string;
  refresh_at: Millis;
  expires_at: Millis;
}

export interface CredentialLocksTable {
  name: string;
  owner: string;
  held_until: Millis;
}

export interface Database {
  users: UsersTable;
  identities: IdentitiesTable;
  sessions: SessionsTable;
  rate_limits: RateLimitsTable;
  credentials: CredentialsTable;
  credential_locks: CredentialLocksTable;
}

/** Every table the application owns, for the charset check on MySQL. */
export const TABLES: (keyof Database)[] = ['users', 'identities', 'sessions', 'rate_limits', 'credentials', 'credential_locks'];
