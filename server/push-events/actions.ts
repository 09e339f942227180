/**
 * What each of WeChat's account events does to the user of its openid. Every action can be
 * repeated (a claim that ran out gets the event acted on again): deleting what is gone already
 * changes nothing.
 * - user_authorization_revoke: the withdrawn data this server holds is deleted: RevokeInfo 8 the
 *   phone number; 6 the nickname and avatar; 19 the nickname; 20 the avatar (and its file). The
 *   other kinds (address, location, files, …) are nothing this server keeps.
 * - user_authorization_cancellation: the user deleted their WeChat account: the account is deleted.
 * - user_info_modified: WeChat cleaned the user's profile and names no field; its docs ask for the
 *   nickname and avatar to be updated or cleared: both are cleared (the user may set them again).
 */
import type { AvatarFiles } from '../avatars';
import type { ClaimedPushEvent, PushEventKind, PushEventOutcome, UserPatch, UserStore } from '../stores/types';
import type { RevokedData } from '../wechat/push';

/** Deletes an account as every other deletion does (the account lifecycle's deleteAccount). */
export type DeleteAccount = (userId: string, options: { by: 'wechat' }) => Promise<unknown>;

/** What the audit trail is told of an event acted on (actor: WeChat). */
export interface WeChatAccountEventAudit {
  userId: string;
  action: 'wechat.revoke' | 'wechat.cancellation' | 'wechat.info-modified';
  /** For a revoke: what was withdrawn. */
  revoked: string[];
  at: number;
}

export interface AccountEventActionOptions {
  users: UserStore;
  /** Uploaded avatar files: the one a cleared avatar pointed at is deleted. */
  avatars: Pick<AvatarFiles, 'discardReplaced'>;
  deleteAccount: DeleteAccount;
  now: () => number;
  /**
   * AUDIT HOOK for the WeChat events (revoke, cancellation, info modified): called once per event
   * acted on, after the change, with actor WeChat. The audit trail (server/audit.ts) is wired here.
   */
  auditWeChatAccountEvent?: (entry: WeChatAccountEventAudit) => Promise<void> | void;
}

const AUDIT_ACTION: Record<PushEventKind, WeChatAccountEventAudit['action']> = {
  user_authorization_revoke: 'wechat.revoke',
  user_authorization_cancellation: 'wechat.cancellation',
  user_info_modified: 'wechat.info-modified',
};

/** The profile fields a withdrawal clears. */
function profilePatchFor(revoked: readonly string[]): UserPatch {
  const has = (name: RevokedData) => revoked.includes(name);
  return {
    ...(has('profile') || has('nickname') ? { nickname: '' } : {}),
    ...(has('profile') || has('avatar') ? { avatarUrl: '' } : {}),
  };
}

export function accountEventActions({ users, avatars, deleteAccount, now, auditWeChatAccountEvent }: AccountEventActionOptions): (event: ClaimedPushEvent) => Promise<PushEventOutcome> {
  /** Clears profile fields, and deletes the avatar file the cleared avatar pointed at. */
  const clear = async (userId: string, patch: UserPatch) => {
    if (Object.keys(patch).length === 0) return;
    const updated = await users.update(userId, patch);
    if (updated) await avatars.discardReplaced(updated.before.avatarUrl, updated.after.avatarUrl);
  };

  return async (event) => {
    const user = await users.findByOpenid(event.openid);
    if (!user) return 'unknown-user';
    switch (event.kind) {
      case 'user_authorization_revoke':
        if (event.revoked.includes('phone')) await users.removePhone(user.id);
        await clear(user.id, profilePatchFor(event.revoked));
        break;
      case 'user_authorization_cancellation':
        await deleteAccount(user.id, { by: 'wechat' });
        break;
      case 'user_info_modified':
        await clear(user.id, { nickname: '', avatarUrl: '' });
        break;
    }
    await auditWeChatAccountEvent?.({ userId: user.id, action: AUDIT_ACTION[event.kind], revoked: event.revoked, at: now() });
    return 'acted';
  };
}
