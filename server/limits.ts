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
