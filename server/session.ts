import * as crypto from 'node:crypto';
import { createHash, randomBytes } from 'node:crypto';
import type { User } from '../typings/api';
import { maskPhone, needsPhone, type AccountPolicy } from './account';
import { refuseIfShutOut } from './blocking';
import { ApiError } from './errors';
import { rolesOf } from './roles';
import { whenReady, type LiveSession, type MaybePromise, type SessionStore, type SessionWithUser, type UserRecord } from './stores/types';

const SKEY_BYTES = 32;
/**
 * Random bytes for skeys, drawn 4 KB at a time: randomBytes() costs a few µs per call whatever its
 * size (node's own randomUUID keeps a pool the same way). Each skey's bytes are used once and
 * zeroed when taken.
 */
let pool = Buffer.alloc(0);
let taken = 0;

/** 256 random bits, URL-safe: 43 characters. */
export function newSkey(): string {
  if (taken + SKEY_BYTES > pool.length) {
    pool = randomBytes(128 * SKEY_BYTES);
    taken = 0;
  }
  const skey = pool.toString('base64url', taken, taken + SKEY_BYTES);
  pool.fill(0, taken, taken + SKEY_BYTES);
  taken += SKEY_BYTES;
  return skey;
}

// The one-shot crypto.hash (Node 20.12+) skips the Hash object that createHash builds: it runs
// on every authenticated request. Older Node 20 releases get the same digest from createHash.
const sha256hex: (data: string) => string =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'hex') : (data) => createHash('sha256').update(data).digest('hex');

/** What the store keeps instead of the skey: a dump of the store lets nobody log in. */
export function hashSkey(skey: string): string {
  return sha256hex(skey);
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

/** The user as the client sees it: no openid or unionid, the phone masked. */
export function toApiUser(user: UserRecord, policy: AccountPolicy): User {
  return {
    id: user.id,
    nickname: user.nickname,
    avatarUrl: user.avatarUrl,
    profileComplete: user.nickname !== '' && user.avatarUrl !== '',
    createdAt: user.createdAt,
    phone: user.phone ? maskPhone(user.phone) : null,
    phoneRequired: needsPhone(user, policy),
    roles: rolesOf(user),
    account: user.account ? { name: user.account.name, displayName: user.account.displayName } : null,
  };
}

/**
 * Made only on the failure path. Module-level rather than a closure in authenticate: tsx/esbuild
 * (keepNames) would otherwise name a fresh function with defineProperty on every request.
 */
function expired(): ApiError<'SESSION_EXPIRED'> {
  return new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');
}

const HASH_LENGTH = 64;

/**
 * Constant-time equality of a stored hash and a computed one (64 hex characters): every character
 * is compared, the differences OR-ed together, no branch on what they are. On the strings
 * themselves: copying both into buffers for crypto.timingSafeEqual cost as much as the compare
 * on every authenticated request.
 */
function sameHash(stored: string, computed: string): boolean {
  if (stored.length !== HASH_LENGTH || computed.length !== HASH_LENGTH) return false;
  let difference = 0;
  for (let i = 0; i < HASH_LENGTH; i++) difference |= stored.charCodeAt(i) ^ computed.charCodeAt(i);
  return difference === 0;
}

export interface Authenticated {
  skeyHash: string;
  session: LiveSession;
  user: UserRecord;
}

/**
 * The session and user behind `Authorization: Bearer <skey>`. Anything missing, malformed,
 * unknown, idle too long, past its lifetime or revoked is the same 401 SESSION_EXPIRED, the
 * signal for the client to log in again. Synchronous (a value or a throw, no promise) when the
 * store answers synchronously, as the memory store does: routes that only read can then answer
 * without a promise (see whenReady).
 */
export function authenticate(request: BearerRequest, stores: { sessions: SessionStore }): MaybePromise<Authenticated> {
  return authenticateBearer(request.headers.authorization, stores);
}

/** What authentication reads of a request, whichever framework made it: its Authorization header. */
export interface BearerRequest {
  headers: { authorization?: string };
}

/** authenticate, given the Authorization header's value. */
export function authenticateBearer(authorization: string | undefined, stores: { sessions: SessionStore }): MaybePromise<Authenticated> {
  const match = BEARER.exec(authorization ?? '');
  if (!match) throw expired();
  const skeyHash = hashSkey(match[1]);
  return whenReady(stores.sessions.touch(skeyHash), (found) => checked(skeyHash, found));
}

function checked(skeyHash: string, found: SessionWithUser | null): Authenticated {
  // The lookup is by hash, so its timing reveals nothing about the skey; this compare is
  // belt and braces against a store that ever matched keys loosely.
  if (!found || !sameHash(found.session.skeyHash, skeyHash)) throw expired();
  // A block (or a disabled platform account) ends every session, but a request already past that
  // point (or a session made by a login racing with it, or held in a Redis the command could not
  // reach) must not serve the user either: the user was read anyway. 403, as their login gets.
  refuseIfShutOut(found.user);
  return { skeyHash, session: found.session, user: found.user };
}

/**
 * What business routes (orders, and whatever a product adds, through requireSession) check instead of authenticate: a
 * live session, and an account complete as the configuration requires. 403 PHONE_REQUIRED tells
 * the mini-program to open its phone step. Login, session, profile, avatar and the phone binding
 * stay on plain authenticate: they are how an account gets completed.
 */
export function authenticateComplete(authorization: string | undefined, stores: { sessions: SessionStore }, policy: AccountPolicy): MaybePromise<Authenticated> {
  return whenReady(authenticateBearer(authorization, stores), (authenticated) => {
    if (needsPhone(authenticated.user, policy)) throw new ApiError('PHONE_REQUIRED', 'bind a phone number first');
    return authenticated;
  });
}
