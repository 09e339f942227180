/**
 * The end of an account's life, framework-free: the export of everything the server holds about
 * a user, and the deletion of the account (注销). The HTTP routes (POST /api/account/delete, GET
 * /api/account/export, through the login service), the operator's `npm run admin delete` and
 * WeChat's cancellation event all call these same two functions.
 */
import type { AccountDeleteResponse, AccountExport } from '../../typings/api';
import { limitKeysOf } from '../limits';
import { rolesOf } from '../roles';
import type { Clock, Stores, UserRecord } from '../stores/types';
import { auditEntriesOf, recordAccountEvent } from './account-audit';

/** Who deleted the account: the user (re-authenticated), an operator, or WeChat (the user deleted their WeChat account). */
export type DeletedBy = 'user' | 'operator' | 'wechat';

/** What became of the account: see AccountDeleteResponse.kept. */
export type Kept = AccountDeleteResponse['kept'];

export interface AccountDeletion {
  /** False when there was no such user: nothing was done. */
  deleted: boolean;
  kept: Kept;
  /** The live sessions the deletion ended. */
  sessionsEnded: number;
}

/**
 * Files a host keeps about a user outside the stores (the reference server's uploaded avatar,
 * server/avatars.ts), deleted with the account after the stores have forgotten the user.
 */
export interface UserFiles {
  /** Deletes the user's files; never throws (a file that cannot be deleted is the host's to report). */
  removeAllOf(user: UserRecord): Promise<void>;
}

export interface AccountLifecycleOptions {
  stores: Stores;
  now: Clock;
  /** The host's files about a user; none by default. */
  files?: UserFiles;
}

export interface AccountLifecycle {
  /**
   * Deletes the account `userId`: every session ends first (its skeys are 401 from then on), then
   * the user, identities, phone and profile, the per-user rate-limit entries and the user's files.
   * No re-authentication here: the caller has done it (the user's route checks a fresh wx.login
   * code; an operator and WeChat need none).
   */
  deleteAccount(userId: string, options: { by: DeletedBy }): Promise<AccountDeletion>;
  /**
   * Everything the server holds about the user, secrets excepted; null when there is no such
   * user. `currentSkeyHash` marks the session that asked (`current: true`).
   */
  exportAccount(userId: string, options?: { currentSkeyHash?: string }): Promise<AccountExport | null>;
}

/**
 * What a deletion keeps: the one decision between the modes. A user bound to a platform account
 * (bind mode) keeps that account, which is the organisation's; any other user goes entirely.
 */
export function keptOnDeletion(user: UserRecord): Kept {
  return user.account ? 'platform-account' : 'nothing';
}

export function createAccountLifecycle({ stores, now, files }: AccountLifecycleOptions): AccountLifecycle {
  return {
    async deleteAccount(userId, { by }) {
      const user = await stores.users.get(userId);
      if (!user) return { deleted: false, kept: 'nothing', sessionsEnded: 0 };
      const kept = keptOnDeletion(user);
      // Sessions first: whatever fails after this, the account can no longer be used.
      const sessionsEnded = await stores.sessions.deleteAllOf(userId);
      const removed = kept === 'nothing' ? await stores.users.delete(userId) : await stores.users.eraseCollectedData(userId);
      // Again once the user is gone: a login that came in between made a session of nobody (in
      // Redis it would stay until its time runs out).
      const raced = await stores.sessions.deleteAllOf(userId);
      for (const key of limitKeysOf(userId)) await stores.limits.reset(key);
      // After the stores: a file is never deleted for a user who is still there.
      if (removed) await files?.removeAllOf(removed);
      await recordAccountEvent(stores, { userId, action: 'deleted', actor: by, outcome: 'ok' }, now);
      return { deleted: removed !== null, kept, sessionsEnded: sessionsEnded + raced };
    },

    async exportAccount(userId, { currentSkeyHash } = {}) {
      const user = await stores.users.get(userId);
      if (!user) return null;
      const [identities, sessions, audit, account] = await Promise.all([
        stores.users.identitiesOf(userId),
        stores.sessions.listOf(userId),
        auditEntriesOf(stores, userId),
        user.account ? stores.accounts.byName(user.account.name) : null,
      ]);
      await recordAccountEvent(stores, { userId, action: 'exported', actor: 'user', outcome: 'ok' }, now);
      return {
        exportedAt: now(),
        user: { id: user.id, nickname: user.nickname, avatarUrl: user.avatarUrl, createdAt: user.createdAt, roles: rolesOf(user) },
        identities: [...identities, ...(user.account && account ? [{ kind: 'account' as const, value: user.account.name, createdAt: account.createdAt }] : [])],
        account: user.account ? { name: user.account.name, displayName: user.account.displayName } : null,
        sessions: sessions.map(({ createdAt, lastSeenAt, expiresAt, skeyHash }) => ({ createdAt, lastSeenAt, expiresAt, current: skeyHash === currentSkeyHash })),
        audit,
      };
    },
  };
}
