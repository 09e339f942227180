/**
 * The user's own account (我的 → 账号与安全): the export of what the server holds about them, and
 * the deletion (注销账号), re-authenticated with a fresh `wx.login` code and followed by a logout here.
 */
import { isAuthError, type AuthClient } from '../auth/index';
import { errorMessage, serverErrorCodeOf } from '../utils/error-message';
import { retryWaitText } from '../utils/retry-after';
import { freshLoginCode } from './wechat-code';
import type { AccountDeleteRequest, AccountDeleteResponse, AccountExport, User } from '../../typings/api';

type Auth = AuthClient<User>;

/** A deletion touches every store and the avatar files: more than an ordinary call's 10 s may pass. */
const DELETE_TIMEOUT_MS = 30_000;

/** What a deletion takes away; before the call the page can tell from the user, afterwards the answer's `kept` says. */
export type DeletionScope = AccountDeleteResponse['kept'];

/** In the server's bind mode a bound user's platform account is the organisation's: it stays. */
export function deletionScope(user: User | null): DeletionScope {
  return user && user.account ? 'platform-account' : 'nothing';
}

export async function exportAccount(auth: Auth): Promise<AccountExport> {
  const { data } = await auth.request<AccountExport>({ url: '/api/account/export' });
  const valid = data && data.user && Array.isArray(data.identities) && Array.isArray(data.sessions) && Array.isArray(data.audit);
  if (!valid) throw new Error('GET /api/account/export answered without the export');
  return data;
}

/**
 * Deletes the account at the server, then logs out here (the server has ended every session; the
 * logout only clears what this device keeps). The session is made sure of first, so that a login
 * the request would need does not happen between taking the code and sending it.
 */
export async function deleteAccount(auth: Auth): Promise<AccountDeleteResponse> {
  await auth.ensureSession();
  const body: AccountDeleteRequest = { code: await freshLoginCode() };
  const { data } = await auth.request<AccountDeleteResponse>({ url: '/api/account/delete', method: 'POST', data: body, timeout: DELETE_TIMEOUT_MS });
  if (!data || data.deleted !== true) throw new Error('POST /api/account/delete answered without deleted: true');
  await auth.logout();
  return data;
}

/**
 * A deletion that found this WeChat user bound to no platform account (bind mode): its session
 * had ended, and the auth service's renewal login was asked for a bind. That is what a deletion
 * leaves, so most often an earlier attempt whose answer was lost went through (else the binding
 * was removed elsewhere). Nothing of this WeChat user is left to delete; another try would only
 * be asked for a bind again.
 */
export function isAlreadyUnbound(error: unknown): boolean {
  return isAuthError(error, 'BIND_REQUIRED');
}

/** What the deletion page says when a deletion fails; nothing was deleted then. */
export function deleteErrorMessage(error: unknown): string {
  const code = serverErrorCodeOf(error);
  if (code === 'INVALID_CODE') return '微信身份验证未通过，请重试';
  if (code === 'RATE_LIMITED') {
    const wait = retryWaitText(error);
    return wait ? `操作太频繁，请 ${wait}后再试` : '操作太频繁，请稍后再试';
  }
  return errorMessage(error);
}
