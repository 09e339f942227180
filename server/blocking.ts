/**
 * Whether a user may use the service at all: the one check that login and every authenticated
 * request make, so that the operator's block (UserRecord.blocked) and anything else that shuts a
 * user out (a disabled platform account) answer alike: 403 USER_BLOCKED, the same code WeChat's
 * own risk control gives. The operator's reason stays out of the answer: it is an internal note
 * (it may name a complaint, or another user), shown by `npm run admin show`, not to the user.
 */
import { ApiError } from './core/errors';
import type { UserRecord } from './stores/types';

export const BLOCKED_MESSAGE = 'this account has been blocked by the service operator; contact its support';

/** Whether the user is shut out: blocked by the operator, or their platform account disabled (bind mode). */
export function isShutOut(user: Pick<UserRecord, 'blocked' | 'account'>): boolean {
  return user.blocked !== undefined || user.account?.disabled === true;
}

/** Throws 403 USER_BLOCKED for a user who is shut out. */
export function refuseIfShutOut(user: Pick<UserRecord, 'blocked' | 'account'>): void {
  if (isShutOut(user)) throw new ApiError('USER_BLOCKED', BLOCKED_MESSAGE);
}
