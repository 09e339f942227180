/** How long a refused call (429 RATE_LIMITED) asks the user to wait, from its `Retry-After` header. */
import { isAuthError } from '../auth/index';

const retryAfterOf = (header: Record<string, string> | undefined) => header && (header['Retry-After'] || header['retry-after']);

/** `Retry-After` as the wait the user reads: "30 秒", "15 分钟". Null without a usable header. */
export function retryWaitText(error: unknown): string | null {
  let e: unknown = error;
  // A failed login or bind (LOGIN_FAILED) keeps the answer's headers; look through to the HTTP error if it did not.
  while (isAuthError(e) && !retryAfterOf(e.header) && e.cause) e = e.cause;
  if (!isAuthError(e)) return null;
  const seconds = Number(retryAfterOf(e.header));
  if (!Number.isFinite(seconds) || seconds <= 0) return null;
  return seconds < 60 ? `${Math.ceil(seconds)} 秒` : `${Math.ceil(seconds / 60)} 分钟`;
}
