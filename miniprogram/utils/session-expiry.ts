/**
 * When the app's auth service logs in again and retries: a 401 that says the session is gone.
 * The server answers 401 for other things too (INVALID_CODE when a deletion's re-authentication
 * code is refused): read as an expiry, that would cost a login and resend the refused code, and
 * the user would be told their session expired instead of what went wrong.
 */
import type { Response } from '../auth/index';

/** A 401 is an expiry unless its envelope names another code (a bare 401, say from a proxy, still is). */
export function isSessionExpiredAnswer(answer: Response): boolean {
  if (answer.statusCode !== 401) return false;
  const data = answer.data as { error?: { code?: unknown } } | null | undefined;
  const code = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error.code : undefined;
  return typeof code !== 'string' || code === 'SESSION_EXPIRED';
}
