import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { ApiError } from '../errors';
import { withoutUrlPassword } from '../url-password';
import { createSealer } from '../seal';
import { absentStore } from './absent';
import { createRedisCredentialCache } from './credentials';
import { fieldList, replyReader } from './script-reply';
import { DEFAULT_MAX_SESSIONS_PER_USER, isLive, touchIntervalMs, type AccountStore, type BindTicketStore, type PushEventStore, type LiveSession, type RateDecision, type SessionRecord, type SessionWithUser, type StoreOptions, type Stores, type UserDatabase } from './types';

export interface RedisStoreOptions extends StoreOptions {
  url: string;
  /** Namespace of every key, so that several apps (or test suites) can share one Redis. */
  prefix?: string;
  /** A command without an answer after this long fails (503 STORE_UNAVAILABLE) instead of hanging the request. */
  commandTimeoutMs?: number;
  /** 32 bytes: session_key and the access token are sealed with it before they are written (see seal.ts). */
  sealKey: Buffer;
  /** Told about connection trouble (ioredis reconnects by itself meanwhile). */
  onError?: (error: Error) => void;
  /**
   * Where the users are (the SQL database's stores; memory in tests): Redis keeps no users. The
   * stores' users are these, the readiness probe asks both, and closing closes both.
   */
  userDatabase: UserDatabase;
}

/**
 * ioredis's auto-pipelining (commands of one turn of the event loop sent in one write) is off:
 * measured under load it saved Redis a little CPU per GET, but cost the server 8 µs more per
 * request with this store's scripts (each goes through a Pipeline that checks its scripts before
 * sending), a third of its throughput (see bench/RESULTS.md). The benchmark's one-GET floor uses
 * the same setting.
 */
export const AUTO_PIPELINING = false;

/**
 * Redis could not be used at start (unreachable, refusing the password, unknown host): says where,
 * by REDIS_URL's host and port only (the URL can carry a password), and why.
 */
export class RedisUnreachableError extends Error {
  constructor(url: string, cause: Error) {
    const { hostname, port } = new URL(url);
    super(`cannot connect to Redis at REDIS_URL (${hostname}:${port || 6379}): ${withoutUrlPassword(cause.message, url)}`);
    this.name = 'RedisUnreachableError';
  }
}

/*
 * The scripts. Each runs atomically in Redis (no other command in between), names its KEYS and
 * ARGV at the top (after the shared Lua functions it is composed with), and answers a
 * cjson-encoded object that a replyReader (script-reply.ts) reads by name. Keys a script derives
 * from a value it read (a user's key from a session's userId) are built from a prefix passed in
 * ARGV: a single Redis, not a cluster.
 *
 * Keys: `session:<skeyHash>` a session's hash (Redis TTL: at most the idle timeout);
 * `sessions-of:<userId>` a sorted set of the user's session hashes scored by createdAt, the
 * per-user index (Redis TTL: until the last of its sessions reaches its lifetime); `rate:<key>`;
 * `credential:<name>` and `credential-lock:<name>` (credentials.ts). Users are not in Redis: they
 * live in the system of record (the SQL database), read by primary key after the session.
 */

// Whether a session is live: before its lifetime's end and used within the idle timeout, the rule
// of every store (isLive in types.ts), kept here once for the scripts that decide it. A session
// missing either deadline (gone, or no session of ours) is not live. livenessOf reads a session's
// two deadlines and answers whether it is live, and when its lifetime ends.
const LUA_IS_LIVE = `local function isLive(lastSeenAt, expiresAt, now, idle)
  return lastSeenAt ~= nil and expiresAt ~= nil and now < expiresAt and now - lastSeenAt < idle
end
local function livenessOf(sessionKey, now, idle)
  local s = redis.call('HMGET', sessionKey, 'lastSeenAt', 'expiresAt')
  local expiresAt = tonumber(s[2])
  return isLive(tonumber(s[1]), expiresAt, now, idle), expiresAt
end
`;

// Stores a new session as one of at most maxSessions live sessions of its user. The user's index
// is read whole (it never holds more than the cap, so this is bounded): entries whose session is
// gone, idle or past its lifetime are dropped, then the oldest live ones until there is room.
const CREATE_SESSION = `${LUA_IS_LIVE}local sessionKey = KEYS[1]         -- the new session's hash
local indexKey = KEYS[2]           -- the user's sorted set of session hashes, scored by createdAt
local now = tonumber(ARGV[1])      -- ms, the store's clock (liveness is decided by it, not by Redis's)
local idle = tonumber(ARGV[2])     -- idle timeout, ms
local maxSessions = tonumber(ARGV[3])
local sessionPrefix = ARGV[4]      -- prefix .. skeyHash = a session's key
local skeyHash = ARGV[5]
-- ARGV[6]: the new session's createdAt (ms), its score in the index
local expiresAt = tonumber(ARGV[7])
local sessionTtl = tonumber(ARGV[8]) -- ms
local indexPrefix = ARGV[9]        -- prefix .. userId = a user's index
local userId = ARGV[10]
-- ARGV[11..]: the session's field/value pairs for HSET

-- 0. The same hash stored before for another user is replaced: it leaves that user's index too.
local previousUser = redis.call('HGET', sessionKey, 'userId')
if previousUser and previousUser ~= userId then redis.call('ZREM', indexPrefix .. previousUser, skeyHash) end

-- 1. Prune: an indexed session that is gone (Redis's TTL), idle or past its lifetime leaves the
--    index, and its hash is deleted. The live ones stay, oldest first.
local live = {}
local pruned = 0
local lastExpiry = expiresAt
for _, hash in ipairs(redis.call('ZRANGE', indexKey, 0, -1)) do
  if hash ~= skeyHash then -- the same hash again is replaced below, not one of the others
    local alive, expires = livenessOf(sessionPrefix .. hash, now, idle)
    if alive then
      live[#live + 1] = hash
      lastExpiry = math.max(lastExpiry, expires)
    else
      redis.call('DEL', sessionPrefix .. hash)
      redis.call('ZREM', indexKey, hash)
      pruned = pruned + 1
    end
  end
end

-- 2. Revoke: the oldest live sessions until the new one fits under the cap.
local revoked = math.max(0, #live - (maxSessions - 1))
for i = 1, revoked do
  redis.call('DEL', sessionPrefix .. live[i])
  redis.call('ZREM', indexKey, live[i])
end

-- 3. Store the session and index it. The index lives as long as the longest-lived of its
--    sessions could (touch extends a session's TTL, never past its expiresAt).
redis.call('HSET', sessionKey, unpack(ARGV, 11))
redis.call('PEXPIRE', sessionKey, sessionTtl)
redis.call('ZADD', indexKey, ARGV[6], skeyHash)
redis.call('PEXPIRE', indexKey, math.max(1, lastExpiry - now))
return cjson.encode({revoked = revoked, pruned = pruned})`;
const readCreateSession = replyReader('CREATE_SESSION', { revoked: 'integer', pruned: 'integer' });

// What every authenticated request needs from Redis, in one round trip: the session if live,
// recorded as used only when its last record is older than the touch interval (so most requests
// write nothing). Its user is then read from the database by primary key. It does not read the
// user's index: the cap is paid at login. Redis runs a script in several µs more than a GET: it
// reads only the session fields it needs, and answers one JSON string.
const TOUCH_SESSION = `${LUA_IS_LIVE}local sessionKey = KEYS[1]
local now = tonumber(ARGV[1])      -- ms, the store's clock
local idle = tonumber(ARGV[2])     -- idle timeout, ms
local touchEvery = tonumber(ARGV[3]) -- ms: a use is recorded only when the last record is this old
local indexPrefix = ARGV[4]        -- prefix .. userId = the user's index of sessions

-- 1. Read the session; a hash without these fields is no session of ours.
local s = redis.call('HMGET', sessionKey, 'skeyHash', 'userId', 'createdAt', 'lastSeenAt', 'expiresAt')
local skeyHash, userId, createdAt = s[1], s[2], s[3]
local lastSeenAt, expiresAt = tonumber(s[4]), tonumber(s[5])
if not (skeyHash and userId and createdAt and lastSeenAt and expiresAt) then return false end

-- 2. Dead (past its lifetime, or idle too long): delete it, and its entry in the user's index.
if not isLive(lastSeenAt, expiresAt, now, idle) then
  redis.call('DEL', sessionKey)
  redis.call('ZREM', indexPrefix .. userId, skeyHash)
  return false
end

-- 3. Record the use when the last record is a touch interval old: the idle deadline, and the
--    Redis TTL with it, move forward (never past the lifetime).
local recorded = s[4]                -- as stored: the answer copies strings, never formats numbers
if now - lastSeenAt >= touchEvery then
  redis.call('HSET', sessionKey, 'lastSeenAt', ARGV[1])
  redis.call('PEXPIRE', sessionKey, math.max(1, math.min(idle, expiresAt - now)))
  recorded = ARGV[1]
end

-- 4. Answer the session.
return cjson.encode({
  session = {skeyHash = skeyHash, userId = userId, createdAt = createdAt, lastSeenAt = recorded, expiresAt = s[5]},
})`;
const readTouchSession = replyReader('TOUCH_SESSION', { session: 'hash' });

function toLiveSession(reply: unknown): LiveSession | null {
  const s = readTouchSession(reply)?.session;
  if (!s?.skeyHash || !s.userId) return null;
  return { skeyHash: s.skeyHash, userId: s.userId, createdAt: Number(s.createdAt), lastSeenAt: Number(s.lastSeenAt), expiresAt: Number(s.expiresAt) };
}

// Deletes one session, and its entry in its user's index.
const DELETE_SESSION = `local sessionKey = KEYS[1]
local indexPrefix = ARGV[1]        -- prefix .. userId = the user's index of sessions
local skeyHash = ARGV[2]

local userId = redis.call('HGET', sessionKey, 'userId')
local deleted = redis.call('DEL', sessionKey)
if userId then redis.call('ZREM', indexPrefix .. userId, skeyHash) end
return cjson.encode({deleted = deleted})`;
const readDeleteSession = replyReader('DELETE_SESSION', { deleted: 'integer' });

// Counts the user's live sessions, reading the index (at most the cap); with `ending`, deletes
// every indexed session and the index too (a dead one still in the index is no session any more,
// so it is not counted among those ended).
const SESSIONS_OF = `${LUA_IS_LIVE}local indexKey = KEYS[1]           -- the user's sorted set of session hashes
local now = tonumber(ARGV[1])      -- ms, the store's clock
local idle = tonumber(ARGV[2])     -- idle timeout, ms
local sessionPrefix = ARGV[3]      -- prefix .. skeyHash = a session's key
local ending = ARGV[4] == '1'      -- end them all, or only count

local live = 0
for _, hash in ipairs(redis.call('ZRANGE', indexKey, 0, -1)) do
  if livenessOf(sessionPrefix .. hash, now, idle) then live = live + 1 end
  if ending then redis.call('DEL', sessionPrefix .. hash) end
end
if ending then redis.call('DEL', indexKey) end
return cjson.encode({live = live})`;
const readSessionsOf = replyReader('SESSIONS_OF', { live: 'integer' });

// A sliding log in a sorted set: at most \`limit\` hits in any window. Work per hit is bounded by
// the limit; PEXPIRE makes Redis forget idle keys.
const SLIDING_WINDOW = `local logKey = KEYS[1]             -- sorted set of accepted hits, scored by time
local now = tonumber(ARGV[1])      -- ms
local window = tonumber(ARGV[2])   -- ms
local limit = tonumber(ARGV[3])
local member = ARGV[4]             -- unique per hit; the score is what counts

-- 1. Forget hits that have left the window.
redis.call('ZREMRANGEBYSCORE', logKey, '-inf', now - window)

-- 2. Room left: accept and record the hit.
if redis.call('ZCARD', logKey) < limit then
  redis.call('ZADD', logKey, now, member)
  redis.call('PEXPIRE', logKey, window)
  return cjson.encode({allowed = 1})
end

-- 3. Full: refused (nothing recorded) until the oldest hit leaves the window.
local oldest = redis.call('ZRANGE', logKey, 0, 0, 'WITHSCORES')
return cjson.encode({allowed = 0, retryAfterMs = tonumber(oldest[2]) + window - now})`;
const readSlidingWindow = replyReader('SLIDING_WINDOW', { allowed: 'integer', retryAfterMs: 'integer' });

interface Scripts {
  createSession(sessionKey: string, indexKey: string, now: number, idleMs: number, maxSessions: number, sessionPrefix: string, skeyHash: string, createdAt: number, expiresAt: number, ttlMs: number, indexPrefix: string, userId: string, ...fields: string[]): Promise<unknown>;
  touchSession(key: string, now: number, idleMs: number, touchIntervalMs: number, indexPrefix: string): Promise<unknown>;
  deleteSession(key: string, indexPrefix: string, skeyHash: string): Promise<unknown>;
  sessionsOf(indexKey: string, now: number, idleMs: number, sessionPrefix: string, ending: 0 | 1): Promise<unknown>;
  slidingWindow(key: string, now: number, windowMs: number, limit: number, member: string): Promise<unknown>;
}

/**
 * Sessions, rate limits and the access token in Redis: durable across restarts and shared by
 * several instances. Sessions also carry a Redis TTL so that Redis itself forgets dead ones;
 * liveness is still decided against the injected clock, as in memory. session_key is stored
 * sealed. Users are the system of record's (`userDatabase`): authenticating is one Redis round
 * trip for the session, then one primary-key read of its user.
 */
export async function createRedisStores({ url, commandTimeoutMs = 2000, onError, ...options }: RedisStoreOptions): Promise<Stores> {
  let connected = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    // Retry only once it has worked: a server that cannot reach Redis at start should say so and stop.
    retryStrategy: (attempt) => (connected ? Math.min(attempt * 100, 2000) : null),
    // Fail fast while Redis is away: the request gets 503 STORE_UNAVAILABLE instead of hanging.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A Redis that is reachable but does not answer (paused, swapping, stuck on a slow command)
    // keeps the connection up: only a per-command timeout turns that into a prompt 503.
    commandTimeout: commandTimeoutMs,
    // On close while Redis is away, ioredis arms a timer to destroy a socket that is already gone;
    // its 2 s default keeps the process alive that long after close().
    disconnectTimeout: 100,
    enableAutoPipelining: AUTO_PIPELINING,
  });
  // ioredis reports connection trouble as 'error' events; without a listener Node would crash.
  // Until the first connection, they are the reason connect() fails, and said there.
  let cause: Error | undefined;
  redis.on('error', (error: Error) => (connected ? onError?.(error) : (cause ??= error)));
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new RedisUnreachableError(url, cause ?? (error as Error));
  }
  connected = true;
  // QUIT lets pending replies arrive; when Redis is already gone (or hung), just drop the connection.
  return createRedisStoresOn(redis, options, () => redis.quit().then(() => undefined, () => redis.disconnect()));
}

/** What the stores need besides a connected client. */
export type RedisClientStoreOptions = Omit<RedisStoreOptions, 'url' | 'commandTimeoutMs' | 'onError'>;

/**
 * The stores on a client the caller connected (a host app's own ioredis client, its settings and
 * error handling its own); `close` is what the stores' close() does with it (then the user
 * database is closed too).
 */
export function createRedisStoresOn(
  redis: Redis,
  { prefix = 'wxlogin:', now, sessionIdleMs, maxSessionsPerUser = DEFAULT_MAX_SESSIONS_PER_USER, sealKey, userDatabase }: RedisClientStoreOptions,
  close: () => Promise<void>,
): Stores {
  redis.defineCommand('createSession', { numberOfKeys: 2, lua: CREATE_SESSION });
  redis.defineCommand('touchSession', { numberOfKeys: 1, lua: TOUCH_SESSION });
  redis.defineCommand('deleteSession', { numberOfKeys: 1, lua: DELETE_SESSION });
  redis.defineCommand('sessionsOf', { numberOfKeys: 1, lua: SESSIONS_OF });
  redis.defineCommand('slidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW });
  const scripts = redis as unknown as Scripts;

  const sealer = createSealer(sealKey);
  const unavailable = (error: unknown): never => {
    throw Object.assign(new ApiError('STORE_UNAVAILABLE', 'storage is unavailable, try again later'), { cause: error });
  };
  const guard = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      return unavailable(error);
    }
  };
  const sessionPrefix = `${prefix}session:`;
  const sessionKey = (hash: string) => sessionPrefix + hash;
  const indexPrefix = `${prefix}sessions-of:`;
  const touchEvery = touchIntervalMs(sessionIdleMs);
  /** The session with its user, read by primary key; null when the user is gone. */
  const withUser = async (session: LiveSession): Promise<SessionWithUser | null> => {
    const user = await userDatabase.users.get(session.userId);
    return user ? { session, user } : null;
  };
  const ttl = (session: LiveSession, at: number) => Math.max(1, Math.min(sessionIdleMs, session.expiresAt - at));
  /** Deletes every key matching `pattern`, a page at a time; how many there were. */
  const deleteMatching = async (pattern: string) => {
    let removed = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) removed += await redis.del(...keys);
    } while (cursor !== '0');
    return removed;
  };

  return {
    sessions: {
      create: (session) =>
        guard(async () => {
          const at = now();
          const stored: SessionRecord = { ...session, sessionKey: sealer.seal(session.sessionKey, session.skeyHash) };
          const fields = fieldList({ ...stored });
          const reply = await scripts.createSession(
            sessionKey(session.skeyHash),
            indexPrefix + session.userId,
            at,
            sessionIdleMs,
            maxSessionsPerUser,
            sessionPrefix,
            session.skeyHash,
            session.createdAt,
            session.expiresAt,
            ttl(session, at),
            indexPrefix,
            session.userId,
            ...fields,
          );
          return readCreateSession(reply)?.revoked ?? 0;
        }),
      // On every authenticated request: a plain promise chain, not guard's async function (one
      // promise and one microtask turn fewer). A reply its reader refuses is a 503 too, as in guard.
      touch: (skeyHash) =>
        scripts
          .touchSession(sessionKey(skeyHash), now(), sessionIdleMs, touchEvery, indexPrefix)
          .then((reply) => {
            try {
              return toLiveSession(reply);
            } catch (error) {
              return unavailable(error);
            }
          }, unavailable)
          .then((session) => (session === null ? null : withUser(session))),
      sessionKey: (skeyHash) =>
        guard(async () => {
          const sealed = await redis.hget(sessionKey(skeyHash), 'sessionKey');
          return sealed === null ? null : sealer.open(sealed, skeyHash);
        }),
      delete: (skeyHash) => guard(async () => readDeleteSession(await scripts.deleteSession(sessionKey(skeyHash), indexPrefix, skeyHash))?.deleted === 1),
      deleteAllOf: (userId) => guard(async () => readSessionsOf(await scripts.sessionsOf(indexPrefix + userId, now(), sessionIdleMs, sessionPrefix, 1))?.live ?? 0),
      countOf: (userId) => guard(async () => readSessionsOf(await scripts.sessionsOf(indexPrefix + userId, now(), sessionIdleMs, sessionPrefix, 0))?.live ?? 0),
      deleteAll: () =>
        guard(async () => {
          const removed = await deleteMatching(`${sessionPrefix}*`);
          await deleteMatching(`${indexPrefix}*`);
          return removed;
        }),
      // Rare (an export): the index, then each session's fields in one pipeline; the index is
      // bounded by the per-user cap, and a session gone in between is simply not listed.
      listOf: (userId) =>
        guard(async () => {
          const at = now();
          const hashes = await redis.zrange(indexPrefix + userId, 0, -1);
          if (hashes.length === 0) return [];
          const pipeline = redis.pipeline();
          for (const hash of hashes) pipeline.hmget(sessionKey(hash), 'skeyHash', 'userId', 'createdAt', 'lastSeenAt', 'expiresAt');
          const replies = (await pipeline.exec()) ?? [];
          return replies
            .flatMap(([error, fields]): LiveSession[] => {
              if (error) throw error;
              const [skeyHash, owner, createdAt, lastSeenAt, expiresAt] = fields as (string | null)[];
              if (skeyHash === null || owner !== userId || createdAt === null || lastSeenAt === null || expiresAt === null) return [];
              return [{ skeyHash, userId, createdAt: Number(createdAt), lastSeenAt: Number(lastSeenAt), expiresAt: Number(expiresAt) }];
            })
            .filter((session) => isLive(session, at, sessionIdleMs));
        }),
    },

    users: userDatabase.users,
    // The trail is the system of record's, as the users are.
    audit: userDatabase.audit,
    accounts: userDatabase.accounts ?? absentStore<AccountStore>('accounts'),
    bindTickets: userDatabase.bindTickets ?? absentStore<BindTicketStore>('bindTickets'),
    pushEvents: userDatabase.pushEvents ?? absentStore<PushEventStore>('pushEvents'),

    limits: {
      take: (key, limit, windowMs) =>
        guard(async (): Promise<RateDecision> => {
          // The member only has to be unique; the score is the time.
          const at = now();
          const reply = readSlidingWindow(await scripts.slidingWindow(`${prefix}rate:${key}`, at, windowMs, limit, `${at}:${randomBytes(6).toString('base64url')}`));
          return reply?.allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1, reply?.retryAfterMs ?? windowMs) };
        }),
      reset: (key) => guard(async () => void (await redis.del(`${prefix}rate:${key}`))),
      // The highest score is the newest hit (SLIDING_WINDOW scores hits by time); none left, nothing done.
      refund: (key) => guard(async () => void (await redis.zremrangebyrank(`${prefix}rate:${key}`, -1, -1))),
    },

    credentials: createRedisCredentialCache(redis, prefix, guard, now, sealer),

    // Ready when both answer: a request needs its session and its user.
    ping: async () => {
      await guard(async () => void (await redis.ping()));
      await userDatabase.ping();
    },

    async close() {
      await close();
      await userDatabase.close();
    },
  };
}
