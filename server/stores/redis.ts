import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { ApiError } from '../errors';
import { createSealer } from '../seal';
import { createRedisCredentialCache } from './credentials';
import { touchIntervalMs, type LiveSession, type RateDecision, type SessionRecord, type SessionWithUser, type StoreOptions, type Stores, type UserRecord } from './types';

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
    const { hostname, port, password } = new URL(url);
    // Redis's and node's messages do not echo a password; this makes sure of it.
    const why = password ? cause.message.split(decodeURIComponent(password)).join('[redacted]') : cause.message;
    super(`cannot connect to Redis at REDIS_URL (${hostname}:${port || 6379}): ${why}`);
    this.name = 'RedisUnreachableError';
  }
}

/** A user's hash fields, in the order TOUCH_SESSION answers them. */
const USER_FIELDS = ['id', 'openid', 'unionid', 'nickname', 'avatarUrl', 'createdAt', 'phoneCountryCode', 'phoneNumber'];

/** Only what the store put there comes back; anything else reads as absent. */
function toUser(hash: Record<string, string | null | undefined>): UserRecord | null {
  const { id, openid, unionid, nickname, avatarUrl, createdAt, phoneCountryCode, phoneNumber } = hash;
  if (!id || !openid) return null;
  return {
    id,
    openid,
    ...(unionid ? { unionid } : {}),
    nickname: nickname ?? '',
    avatarUrl: avatarUrl ?? '',
    createdAt: Number(createdAt),
    ...(phoneCountryCode && phoneNumber ? { phone: { countryCode: phoneCountryCode, number: phoneNumber } } : {}),
  };
}

/** TOUCH_SESSION's answer: the user's USER_FIELDS, then the session's fields. */
function toSessionWithUser(reply: (string | null)[] | null): SessionWithUser | null {
  if (!reply) return null;
  const fields: Record<string, string | null> = {};
  for (let i = 0; i < USER_FIELDS.length; i++) fields[USER_FIELDS[i]] = reply[i];
  const user = toUser(fields);
  const [skeyHash, userId, createdAt, lastSeenAt, expiresAt] = reply.slice(USER_FIELDS.length);
  if (!user || !skeyHash || !userId) return null;
  return { session: { skeyHash, userId, createdAt: Number(createdAt), lastSeenAt: Number(lastSeenAt), expiresAt: Number(expiresAt) }, user };
}

/**
 * A user record as hash fields: optional fields absent rather than empty. Roles are not kept: they
 * come with platform accounts, which live in the system of record, so every user here has the
 * default role.
 */
function userFields({ phone, unionid, roles: _roles, ...rest }: UserRecord): string[] {
  const fields: Record<string, string | number> = { ...rest, ...(unionid ? { unionid } : {}), ...(phone ? { phoneCountryCode: phone.countryCode, phoneNumber: phone.number } : {}) };
  return Object.entries(fields).flatMap(([field, value]) => [field, String(value)]);
}

/** HGETALL's flat reply from a script ([field, value, ...]) as an object. */
function pairs(flat: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]] = flat[i + 1];
  return hash;
}

// The whole lookup in one script, so that concurrent first logins of one person make one user:
// by unionid first, then by openid, linking what the found user lacks; else the new user.
// KEYS: openid key, unionid key (unused without a unionid), new user's key.
// ARGV: user key prefix, unionid or '', then the new user's fields. Returns {created, fields}.
const FIND_OR_CREATE = `local function live(id)
  if id and redis.call('EXISTS', ARGV[1] .. id) == 1 then return id end
  return nil
end
local unionid = ARGV[2]
local byUnionid = nil
if unionid ~= '' then byUnionid = live(redis.call('GET', KEYS[2])) end
local id = byUnionid or live(redis.call('GET', KEYS[1]))
if id then
  redis.call('SET', KEYS[1], id, 'NX')
  if unionid ~= '' and not byUnionid then
    redis.call('SET', KEYS[2], id)
    redis.call('HSETNX', ARGV[1] .. id, 'unionid', unionid)
  end
  return {0, redis.call('HGETALL', ARGV[1] .. id)}
end
redis.call('HSET', KEYS[3], unpack(ARGV, 3))
local newId = redis.call('HGET', KEYS[3], 'id')
redis.call('SET', KEYS[1], newId)
if unionid ~= '' then
  redis.call('SET', KEYS[2], newId)
  redis.call('HSET', KEYS[3], 'unionid', unionid)
end
return {1, redis.call('HGETALL', KEYS[3])}`;

// What every authenticated request needs, in one round trip: the session if live, recorded as
// used only when its last record is older than the touch interval (so most requests write
// nothing), and its user. A dead session is deleted. The user's key is derived from the session,
// as FIND_OR_CREATE derives keys (a single Redis, not a cluster). Redis runs a script in several
// µs more than a GET: it reads only the fields it needs, and answers one flat list.
// KEYS: the session. ARGV: now, idle timeout, touch interval (ms), user key prefix.
// Returns false, or the user's USER_FIELDS followed by skeyHash, userId, createdAt, lastSeenAt, expiresAt.
const TOUCH_SESSION = `local s = redis.call('HMGET', KEYS[1], 'skeyHash', 'userId', 'createdAt', 'lastSeenAt', 'expiresAt')
local now = tonumber(ARGV[1])
local idle = tonumber(ARGV[2])
local lastSeenAt = tonumber(s[4])
local expiresAt = tonumber(s[5])
if not (s[1] and s[2] and s[3] and lastSeenAt and expiresAt) then return false end
if now >= expiresAt or now - lastSeenAt >= idle then
  redis.call('DEL', KEYS[1])
  return false
end
if now - lastSeenAt >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1])
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.min(idle, expiresAt - now)))
  s[4] = ARGV[1]
end
local answer = redis.call('HMGET', ARGV[4] .. s[2], ${USER_FIELDS.map((field) => `'${field}'`).join(', ')})
for i = 1, 5 do answer[${USER_FIELDS.length} + i] = s[i] end
return answer`;

// KEYS: user key, the number's key. ARGV: user id, country code, number, phone key prefix, user key prefix.
// Refused ({0}) while another existing user holds the number; the user's previous number is released.
const BIND_PHONE = `if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[1] and redis.call('EXISTS', ARGV[5] .. owner) == 1 then return {0} end
local old = redis.call('HMGET', KEYS[1], 'phoneCountryCode', 'phoneNumber')
if old[1] and old[2] then
  local oldKey = ARGV[4] .. old[1] .. ':' .. old[2]
  if oldKey ~= KEYS[2] and redis.call('GET', oldKey) == ARGV[1] then redis.call('DEL', oldKey) end
end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'phoneCountryCode', ARGV[2], 'phoneNumber', ARGV[3])
return {1, redis.call('HGETALL', KEYS[1])}`;

// HSET only on an existing user, so that an update cannot resurrect a deleted one; fields are
// set one by one so that two concurrent updates of different fields both land. Returns the user
// as it was, so that the caller knows what it replaced (the avatar file to delete).
const UPDATE_IF_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local before = redis.call('HGETALL', KEYS[1])
if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return before`;

// A sliding log in a sorted set: forget hits older than the window, accept if fewer than the
// limit remain. Work per hit is bounded by the limit; PEXPIRE makes Redis forget idle keys.
// Returns {1} when accepted, {0, ms until the oldest hit leaves the window} when not.
const SLIDING_WINDOW = `local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}`;

interface Scripts {
  touchSession(key: string, now: number, idleMs: number, touchIntervalMs: number, userKeyPrefix: string): Promise<(string | null)[] | null>;
  findOrCreate(openidKey: string, unionidKey: string, newUserKey: string, userKeyPrefix: string, unionid: string, ...fields: string[]): Promise<[number, string[]]>;
  bindPhone(userKey: string, phoneKey: string, id: string, countryCode: string, number: string, phoneKeyPrefix: string, userKeyPrefix: string): Promise<[number, string[]?] | null>;
  updateIfExists(key: string, ...fields: string[]): Promise<string[] | null>;
  slidingWindow(key: string, now: number, windowMs: number, limit: number, member: string): Promise<[number, number?]>;
}

/**
 * Sessions, users and the rate limits in Redis: durable across restarts and shared by several
 * instances. Sessions also carry a Redis TTL so that Redis itself forgets dead ones; liveness is
 * still decided against the injected clock, as in memory. session_key is stored sealed.
 */
export async function createRedisStores({ url, prefix = 'wxlogin:', now, sessionIdleMs, commandTimeoutMs = 2000, sealKey, onError }: RedisStoreOptions): Promise<Stores> {
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
  redis.defineCommand('touchSession', { numberOfKeys: 1, lua: TOUCH_SESSION });
  redis.defineCommand('findOrCreate', { numberOfKeys: 3, lua: FIND_OR_CREATE });
  redis.defineCommand('bindPhone', { numberOfKeys: 2, lua: BIND_PHONE });
  redis.defineCommand('updateIfExists', { numberOfKeys: 1, lua: UPDATE_IF_EXISTS });
  redis.defineCommand('slidingWindow', { numberOfKeys: 1, lua: SLIDING_WINDOW });
  const scripts = redis as unknown as Scripts;
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
  const sessionKey = (hash: string) => `${prefix}session:${hash}`;
  const userKey = (id: string) => `${prefix}user:${id}`;
  const openidKey = (openid: string) => `${prefix}openid:${openid}`;
  const unionidKey = (unionid: string) => `${prefix}unionid:${unionid}`;
  const phonePrefix = `${prefix}phone:`;
  const touchEvery = touchIntervalMs(sessionIdleMs);
  const ttl = (session: LiveSession, at: number) => Math.max(1, Math.min(sessionIdleMs, session.expiresAt - at));

  return {
    sessions: {
      create: (session) =>
        guard(async () => {
          const key = sessionKey(session.skeyHash);
          const stored: SessionRecord = { ...session, sessionKey: sealer.seal(session.sessionKey, session.skeyHash) };
          await redis.multi().hset(key, { ...stored }).pexpire(key, ttl(session, now())).exec();
        }),
      // On every authenticated request: a plain promise chain, not guard's async function (one
      // promise and one microtask turn fewer).
      touch: (skeyHash) => scripts.touchSession(sessionKey(skeyHash), now(), sessionIdleMs, touchEvery, userKey('')).then(toSessionWithUser, unavailable),
      sessionKey: (skeyHash) =>
        guard(async () => {
          const sealed = await redis.hget(sessionKey(skeyHash), 'sessionKey');
          return sealed === null ? null : sealer.open(sealed, skeyHash);
        }),
      delete: (skeyHash) => guard(async () => (await redis.del(sessionKey(skeyHash))) > 0),
      deleteAll: () =>
        guard(async () => {
          let removed = 0;
          let cursor = '0';
          do {
            const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}session:*`, 'COUNT', 500);
            cursor = next;
            if (keys.length > 0) removed += await redis.del(...keys);
          } while (cursor !== '0');
          return removed;
        }),
    },

    users: {
      findOrCreate: ({ openid, unionid }, fresh) =>
        guard(async () => {
          const user = fresh();
          const reply = await scripts.findOrCreate(openidKey(openid), unionidKey(unionid ?? ''), userKey(user.id), userKey(''), unionid ?? '', ...userFields(user));
          const found = toUser(pairs(reply[1]));
          if (!found) throw new Error('user lookup gave no user record');
          return { user: found, created: reply[0] === 1 };
        }),
      get: (id) => guard(async () => toUser(await redis.hgetall(userKey(id)))),
      update: (id, patch) =>
        guard(async () => {
          const fields = Object.entries(patch).flatMap(([field, value]) => (value === undefined ? [] : [field, value]));
          const flat = await scripts.updateIfExists(userKey(id), ...fields);
          const before = flat ? toUser(pairs(flat)) : null;
          if (!before) return null;
          return { before, after: toUser({ ...pairs(flat!), ...pairs(fields) })! };
        }),
      bindPhone: (id, phone) =>
        guard(async () => {
          const reply = await scripts.bindPhone(userKey(id), `${phonePrefix}${phone.countryCode}:${phone.number}`, id, phone.countryCode, phone.number, phonePrefix, userKey(''));
          if (reply === null) return null;
          if (reply[0] !== 1) return { ok: false, reason: 'PHONE_IN_USE' } as const;
          const user = toUser(pairs(reply[1] ?? []));
          return user ? { ok: true, user } : null;
        }),
    },

    limits: {
      take: (key, limit, windowMs) =>
        guard(async (): Promise<RateDecision> => {
          // The member only has to be unique; the score is the time.
          const at = now();
          const [allowed, retryAfterMs] = await scripts.slidingWindow(`${prefix}rate:${key}`, at, windowMs, limit, `${at}:${randomBytes(6).toString('base64url')}`);
          return allowed === 1 ? { allowed: true } : { allowed: false, retryAfterMs: Math.max(1, retryAfterMs ?? windowMs) };
        }),
    },

    credentials: createRedisCredentialCache(redis, prefix, guard, now, sealer),

    ping: () =>
      guard(async () => {
        await redis.ping();
      }),

    async close() {
      // QUIT lets pending replies arrive; when Redis is already gone (or hung), just drop the connection.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
