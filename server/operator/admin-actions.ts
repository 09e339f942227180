/**
 * What the operator does to accounts (`npm run admin`, admin-command.ts): look users up, block and
 * unblock them, end their sessions, read their audit trail. Works on the stores the server uses,
 * so that a block takes effect on a running server's next request (the block is in the user row
 * every authentication reads, and the sessions are gone from wherever they live).
 */
import { createAccountLifecycle, type UserFiles } from '../core/account-lifecycle';
import { rolesOf } from '../roles';
import type { AuditAction, AuditDetail, AuditEntry, PhoneNumber, Stores, UserRecord } from '../stores/types';

export const MAX_REASON_CHARS = 500;
export const MAX_FOUND = 100;
export const MAX_AUDIT_ENTRIES = 1000;

/** The operator's input was refused: the message says what is expected. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** No user has this id. */
export class NoSuchUserError extends Error {
  constructor(readonly userId: string) {
    super(`no user ${JSON.stringify(userId)}`);
    this.name = 'NoSuchUserError';
  }
}

/**
 * The action was done, but its audit entry could not be written: the operator must know, as the
 * trail is what later answers who did it.
 */
export class UnrecordedError extends Error {
  constructor(what: string, cause: unknown) {
    super(`${what}, but its audit entry could not be written: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'UnrecordedError';
    this.cause = cause;
  }
}

/** A user as the operator sees it: every identity in full (it is support's job), no secret (there is none in a UserRecord). */
export interface UserSummary {
  id: string;
  createdAt: number;
  nickname: string;
  avatarUrl: string;
  identities: { wechat: string; unionid: string | null; phone: string | null };
  roles: string[];
  blocked: { at: number; reason: string } | null;
}

export interface UserDetails extends UserSummary {
  liveSessions: number;
}

const phoneText = (phone: PhoneNumber) => `+${phone.countryCode} ${phone.number}`;

export function summarise(user: UserRecord): UserSummary {
  return {
    id: user.id,
    createdAt: user.createdAt,
    nickname: user.nickname,
    avatarUrl: user.avatarUrl,
    identities: { wechat: user.openid, unionid: user.unionid ?? null, phone: user.phone ? phoneText(user.phone) : null },
    roles: rolesOf(user),
    blocked: user.blocked ? { ...user.blocked } : null,
  };
}

/**
 * A phone number as an operator types it: `13800138000` (mainland China, +86), `+86 13800138000`,
 * `+852-51234567`, `86:13800138000` (the stored form). Digits only besides the separators.
 */
export function parsePhone(text: string): PhoneNumber {
  const trimmed = text.trim();
  if (/^\d{5,20}$/.test(trimmed)) return { countryCode: '86', number: trimmed };
  const match = /^\+?(\d{1,4})[\s:-](\d{5,20})$/.exec(trimmed);
  if (!match) throw new UsageError(`--phone must be a number like 13800138000 (mainland China) or +852 51234567 (got ${JSON.stringify(text)})`);
  return { countryCode: match[1], number: match[2] };
}

/** The operator's note: 1 to 500 characters, no control characters (it is printed back in a terminal). */
export function checkReason(reason: string | undefined): string {
  const text = reason?.trim() ?? '';
  if (text === '') throw new UsageError('block needs --reason <text>: why the user is blocked, for whoever reads the trail later');
  if ([...text].length > MAX_REASON_CHARS) throw new UsageError(`--reason must be at most ${MAX_REASON_CHARS} characters`);
  if (/\p{Cc}/u.test(text)) throw new UsageError('--reason must not contain control characters');
  return text;
}

export interface OperatorOptions {
  stores: Stores;
  now: () => number;
  /** The user's files a deletion removes (the server's avatar files). */
  files?: UserFiles;
}

export function createOperator({ stores, now, files }: OperatorOptions) {
  // The same deletion as the user's own and WeChat's cancellation: one function of the core.
  const lifecycle = createAccountLifecycle({ stores, now, ...(files ? { files } : {}) });
  const existing = async (userId: string) => {
    const user = await stores.users.get(userId);
    if (!user) throw new NoSuchUserError(userId);
    return user;
  };
  const record = async (what: string, userId: string, action: AuditAction, detail: AuditDetail | null) => {
    const entry: AuditEntry = { at: now(), userId, actor: 'operator', action, outcome: 'ok', clientNetwork: null, detail };
    try {
      await stores.audit.record(entry);
    } catch (error) {
      throw new UnrecordedError(what, error);
    }
  };

  return {
    async findByPhone(text: string): Promise<UserSummary[]> {
      const user = await stores.users.findByPhone(parsePhone(text));
      return user ? [summarise(user)] : [];
    },

    async findByNickname(text: string, limit: number): Promise<UserSummary[]> {
      if (text === '') throw new UsageError('--nickname needs the text to look for');
      return (await stores.users.searchByNickname(text, limit)).map(summarise);
    },

    async show(userId: string): Promise<UserDetails> {
      const user = await existing(userId);
      return { ...summarise(user), liveSessions: await stores.sessions.countOf(userId) };
    },

    /**
     * Blocks first, then ends the sessions: a login racing with this either made its session
     * before (and it is ended) or reads the block; a session made in between is refused by
     * authentication, which checks the block on every request.
     */
    async block(userId: string, reason: string): Promise<{ user: UserSummary; sessionsEnded: number }> {
      const text = checkReason(reason);
      const user = await stores.users.block(userId, { at: now(), reason: text });
      if (!user) throw new NoSuchUserError(userId);
      const sessionsEnded = await stores.sessions.deleteAllOf(userId);
      await record(`${userId} is blocked and ${sessionsEnded} session(s) ended`, userId, 'blocked', { reason: text, sessionsEnded });
      return { user: summarise(user), sessionsEnded };
    },

    async unblock(userId: string): Promise<{ user: UserSummary; wasBlocked: boolean }> {
      const before = await existing(userId);
      const user = await stores.users.unblock(userId);
      if (!user) throw new NoSuchUserError(userId);
      if (before.blocked) await record(`${userId} is unblocked`, userId, 'unblocked', null);
      return { user: summarise(user), wasBlocked: before.blocked !== undefined };
    },

    async logoutAll(userId: string): Promise<{ sessionsEnded: number }> {
      await existing(userId);
      const sessionsEnded = await stores.sessions.deleteAllOf(userId);
      await record(`${sessionsEnded} session(s) of ${userId} ended`, userId, 'logout-all', { sessionsEnded });
      return { sessionsEnded };
    },

    /**
     * Deletes the account as the user's own deletion does (deleteAccount, by 'operator'): sessions,
     * user, identities, profile, per-user limits, avatar file; a platform account (bind mode) stays.
     * The trail records it and is anonymised.
     */
    async delete(userId: string): Promise<{ kept: string; sessionsEnded: number }> {
      await existing(userId);
      const { deleted, kept, sessionsEnded } = await lifecycle.deleteAccount(userId, { by: 'operator' });
      if (!deleted) throw new NoSuchUserError(userId);
      return { kept, sessionsEnded };
    },

    /** The user's trail, newest first; also for a deleted user's id (then empty: anonymised). */
    async audit(userId: string, limit: number): Promise<AuditEntry[]> {
      return stores.audit.listOf(userId, limit);
    },
  };
}

export type Operator = ReturnType<typeof createOperator>;
