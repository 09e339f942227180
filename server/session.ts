import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { User } from '../typings/api';
import { ApiError } from './errors';
import type { SessionRecord, SessionStore, UserRecord, UserStore } from './stores/types';

/** 256 random bits, URL-safe: 43 characters. */
export function newSkey(): string {
  return randomBytes(32).toString('base64url');
}

/** What the store keeps instead of the skey: a dump of the store lets nobody log in. */
export function hashSkey(skey: string): string {
  return createHash('sha256').update(skey).digest('hex');
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

export function toApiUser(user: UserRecord): User {
  return {
    id: user.id,
    nickname: user.nickname,
    avatarUrl: user.avatarUrl,
    profileComplete: user.nickname !== '' && user.avatarUrl !== '',
    createdAt: user.createdAt,
  };
}

export interface Authenticated {
  skeyHash: string;
  session: SessionRecord;
  user: UserRecord;
}

/**
 * The session and user behind `Authorization: Bearer <skey>`. Anything missing, malformed,
 * unknown, idle too long, past its lifetime or revoked is the same 401 SESSION_EXPIRED, the
 * signal for the client to log in again.
 */
export async function authenticate(request: FastifyRequest, stores: { sessions: SessionStore; users: UserStore }): Promise<Authenticated> {
  const expired = () => new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');
  const match = BEARER.exec(request.headers.authorization ?? '');
  if (!match) throw expired();
  const skeyHash = hashSkey(match[1]);
  const session = await stores.sessions.touch(skeyHash);
  // The lookup is by hash, so its timing reveals nothing about the skey; this compare is
  // belt and braces against a store that ever matched keys loosely.
  if (!session || session.skeyHash.length !== skeyHash.length || !timingSafeEqual(Buffer.from(session.skeyHash), Buffer.from(skeyHash))) {
    throw expired();
  }
  const user = await stores.users.get(session.userId);
  if (!user) throw expired();
  return { skeyHash, session, user };
}
