/**
 * The tables as the queries see them (Kysely's types). Times are epoch milliseconds in bigint
 * columns: the drivers hand bigints back as strings (pg) or numbers, so readers go through Number().
 * migrations.ts creates them; a change here needs a new migration there.
 */
import type { Generated } from 'kysely';
import type { PushEventKind, PushEventOutcome } from '../types';

type Millis = number | string;

export interface UsersTable {
  id: string;
  nickname: string;
  avatar_url: string;
  created_at: Millis;
  updated_at: Millis;
  /** Set while the operator blocks the user (with its reason); null otherwise. */
  blocked_at: Millis | null;
  blocked_reason: string | null;
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

/** The audit trail (server/audit.ts): append-only; no foreign key, entries outlive their user (anonymised). */
export interface AuditEventsTable {
  seq: Generated<number>;
  at: Millis;
  user_id: string | null;
  actor: string;
  action: string;
  outcome: string;
  client_network: string | null;
  /** JSON object, or null. */
  detail: string | null;
}

/**
 * A platform account (bind mode): the user it is (`user_id`), what it is known by (`name`,
 * UNIQUE) and its password. Created by the accounts command; WeChat identities bind to its user.
 */
export interface AccountsTable {
  user_id: string;
  name: string;
  display_name: string;
  /** passwords.ts's encoded scrypt hash: parameters, salt and hash. */
  password_hash: string;
  /** JSON array of role names (access.ts). */
  roles: string;
  /** 0 or 1 (no boolean type on SQLite and MySQL). */
  disabled: number;
  created_at: Millis;
  updated_at: Millis;
}

/** What a bind-mode login that found no user left for the bind: its WeChat identity, under the ticket's hash. */
export interface BindTicketsTable {
  /** sha256 of the ticket, hex. */
  ticket_hash: string;
  /** appid:openid, as in identities. */
  wechat: string;
  unionid: string | null;
  /** Sealed (seal.ts), bound to the ticket hash, as sessions keep it. */
  session_key: string;
  expires_at: Millis;
}

/**
 * WeChat's account events (stores/types.ts PushEventStore): recorded before WeChat's answer, claimed
 * by one worker at a time (`claim` and `claimed_until`, set by one conditional update), then done
 * with the openid blanked, and deleted once past the redelivery window.
 */
export interface PushEventsTable {
  dedupe_key: string;
  kind: PushEventKind;
  /** '' once done. */
  openid: string;
  /** The withdrawn data's names, comma-separated ('' for the other kinds). */
  revoked: string;
  received_at: Millis;
  state: 'pending' | 'done';
  attempts: number;
  /** The holder's random token while claimed, else null. */
  claim: string | null;
  /** Nobody may claim the event before this: 0 when new, the lease's end, or a failure's retry time. */
  claimed_until: Millis;
  done_at: Millis | null;
  outcome: PushEventOutcome | null;
}

export interface Database {
  users: UsersTable;
  identities: IdentitiesTable;
  sessions: SessionsTable;
  rate_limits: RateLimitsTable;
  credentials: CredentialsTable;
  credential_locks: CredentialLocksTable;
  accounts: AccountsTable;
  bind_tickets: BindTicketsTable;
  audit_events: AuditEventsTable;
  push_events: PushEventsTable;
}

/** Every table the application owns, for the charset check on MySQL. */
export const TABLES: (keyof Database)[] = ['users', 'identities', 'sessions', 'rate_limits', 'credentials', 'credential_locks', 'accounts', 'bind_tickets', 'audit_events', 'push_events'];
