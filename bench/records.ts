/**
 * Records as a login writes them, for the benchmarks that fill a store without going through
 * HTTP (sessions per byte of memory, of Redis, of disk; the stores' own costs).
 */
import { randomBytes } from 'node:crypto';
import { hashSkey, newSkey } from '../server/session';
import type { SessionRecord } from '../server/stores/types';

/** The default SESSION_LIFETIME_SECONDS, 30 days. */
export const SESSION_LIFETIME_MS = 30 * 24 * 3600 * 1000;

/** A new session of `userId` created at `at`: a fresh skey's hash and a random session_key, as startSession stores them. */
export function loginSession(userId: string, at: number, lifetimeMs = SESSION_LIFETIME_MS): SessionRecord {
  return { skeyHash: hashSkey(newSkey()), userId, sessionKey: randomBytes(16).toString('base64'), createdAt: at, lastSeenAt: at, expiresAt: at + lifetimeMs };
}
