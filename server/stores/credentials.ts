/**
 * The credential cache (WeChat's access_token) in memory and in Redis. Kept apart from the user and
 * session stores: it holds server credentials, not user data, and its lock is what makes several
 * instances renew a token once instead of once each. In Redis the value is sealed like session_key
 * (seal.ts): a dump of Redis hands out no token that WeChat would accept.
 */
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { Sealer } from '../seal';
import { replyReader } from './script-reply';
import type { CachedCredential, Clock, CredentialCache } from './types';

/** Only what the cache put there comes back; anything else reads as absent. */
function toCredential(value: unknown, refreshAt: unknown, expiresAt: unknown): CachedCredential | null {
  const refresh = Number(refreshAt);
  const expires = Number(expiresAt);
  if (typeof value !== 'string' || value === '' || !Number.isFinite(refresh) || !Number.isFinite(expires)) return null;
  return { value, refreshAt: refresh, expiresAt: expires };
}

/** One process: the lock only orders this process's own renewals (they are single-flight already). */
export function createMemoryCredentialCache(now: Clock): CredentialCache {
  const credentials = new Map<string, CachedCredential>();
  const locks = new Map<string, { owner: string; until: number }>();

  return {
    async get(name) {
      const credential = credentials.get(name);
      if (!credential) return null;
      if (now() >= credential.expiresAt) {
        credentials.delete(name);
        return null;
      }
      return { ...credential };
    },
    async set(name, credential) {
      credentials.set(name, { ...credential });
    },
    async deleteIf(name, value) {
      if (credentials.get(name)?.value !== value) return false;
      return credentials.delete(name);
    },
    async lock(name, ttlMs) {
      const held = locks.get(name);
      if (held && now() < held.until) return null;
      const owner = randomBytes(16).toString('hex');
      locks.set(name, { owner, until: now() + ttlMs });
      return async () => {
        if (locks.get(name)?.owner === owner) locks.delete(name);
      };
    },
  };
}

// Compares the sealed value, as read: sealing is randomised, so only the reader can say that it
// holds the value to delete, and the script deletes only if nobody has stored another since.
const DELETE_IF_VALUE = `local credentialKey = KEYS[1]      -- the credential's hash
local sealed = ARGV[1]             -- its sealed value as the caller read it

local deleted = 0
if redis.call('HGET', credentialKey, 'value') == sealed then deleted = redis.call('DEL', credentialKey) end
return cjson.encode({deleted = deleted})`;
const readDeleteIfValue = replyReader('DELETE_IF_VALUE', { deleted: 'integer' });

// Only the holder releases: a holder that overran its TTL must not free a lock someone else now has.
const RELEASE_IF_OWNER = `local lockKey = KEYS[1]
local owner = ARGV[1]              -- the random token the holder took the lock with

local released = 0
if redis.call('GET', lockKey) == owner then released = redis.call('DEL', lockKey) end
return cjson.encode({released = released})`;

type Guard = <T>(operation: () => Promise<T>) => Promise<T>;

/**
 * Shared by every instance on the Redis: a hash per credential that Redis forgets at its expiry,
 * and a `SET NX PX` lock whose TTL bounds how long a crashed holder can block the others. Values
 * are sealed, bound to their credential's name; one that does not open (a rotated key, a value
 * copied from elsewhere) reads as absent, and the manager fetches a fresh one.
 */
export function createRedisCredentialCache(redis: Redis, prefix: string, guard: Guard, now: Clock, sealer: Sealer): CredentialCache {
  const key = (name: string) => `${prefix}credential:${name}`;
  const lockKey = (name: string) => `${prefix}credential-lock:${name}`;
  const context = (name: string) => `credential:${name}`;

  return {
    get: (name) =>
      guard(async () => {
        const [sealed, refreshAt, expiresAt] = await redis.hmget(key(name), 'value', 'refreshAt', 'expiresAt');
        const credential = toCredential(sealed === null ? null : sealer.open(sealed, context(name)), refreshAt, expiresAt);
        return credential && now() < credential.expiresAt ? credential : null;
      }),
    set: (name, credential) =>
      guard(async () => {
        const ttl = Math.max(1, credential.expiresAt - now());
        const stored = { ...credential, value: sealer.seal(credential.value, context(name)) };
        await redis.multi().del(key(name)).hset(key(name), stored).pexpire(key(name), ttl).exec();
      }),
    deleteIf: (name, value) =>
      guard(async () => {
        const sealed = await redis.hget(key(name), 'value');
        if (sealed === null || sealer.open(sealed, context(name)) !== value) return false;
        return readDeleteIfValue(await redis.eval(DELETE_IF_VALUE, 1, key(name), sealed))?.deleted === 1;
      }),
    lock: (name, ttlMs) =>
      guard(async () => {
        const owner = randomBytes(16).toString('hex');
        if ((await redis.set(lockKey(name), owner, 'PX', ttlMs, 'NX')) !== 'OK') return null;
        // Releasing is best effort: if Redis is away now, the TTL frees the lock soon anyway.
        // Whether it released is of no use to the caller: the answer is not read.
        return () => guard(async () => void (await redis.eval(RELEASE_IF_OWNER, 1, lockKey(name), owner))).catch(() => undefined);
      }),
  };
}
