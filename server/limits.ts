import { ApiError } from './errors';
import type { RateLimiter } from './stores/types';

/**
 * Counts one attempt of `key` against `limit` per sliding `windowMs`; past it, 429 RATE_LIMITED
 * with the Retry-After the limiter computed (when the oldest counted attempt leaves the window).
 */
export async function enforceLimit(limiter: RateLimiter, key: string, limit: number, windowMs: number, message: string): Promise<void> {
  const decision = await limiter.take(key, limit, windowMs);
  if (!decision.allowed) {
    throw new ApiError('RATE_LIMITED', message, { headers: { 'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) } });
  }
}

/**
 * Every rate-limit key that names one user, by what it limits. A deleted account's entries are
 * reset from this list (account-lifecycle.ts): a per-user limit whose key is built anywhere else
 * would outlive the account.
 */
export const userLimitKeys = {
  phoneBind: (userId: string) => `phone:${userId}`,
  avatarUpload: (userId: string) => `avatar:${userId}`,
  accountDelete: (userId: string) => `account-delete:${userId}`,
} as const;

/** The keys of every per-user limit of this user. */
export function limitKeysOf(userId: string): string[] {
  return Object.values(userLimitKeys).map((key) => key(userId));
}
