import Redis from 'ioredis';
import { ApiError } from '../errors';
import { isLive, type SessionRecord, type StoreOptions, type Stores, type UserRecord } from './types';

export interface RedisStoreOptions extends StoreOptions {
  url: string;
  /** Namespace of every key, so that several apps (or test suites) can share one Redis. */
  prefix?: string;
  /** Told about connection trouble (ioredis reconnects by itself meanwhile). */
  onError?: (error: Error) => void;
}

/** Only what the store put there comes back; anything else reads as absent. */
function toSession(hash: Record<string, string>): SessionRecord | null {
  const { skeyHash, userId, sessionKey, createdAt, lastSeenAt, expiresAt } = hash;
  if (!skeyHash || !userId || !sessionKey) return null;
  return { skeyHash, userId, sessionKey, createdAt: Number(createdAt), lastSeenAt: Number(lastSeenAt), expiresAt: Number(expiresAt) };
}

function toUser(hash: Record<string, string>): UserRecord | null {
  const { id, openid, nickname, avatarUrl, createdAt } = hash;
  if (!id || !openid) return null;
  return { id, openid, nickname: nickname ?? '', avatarUrl: avatarUrl ?? '', createdAt: Number(createdAt) };
}

// HSET only on an existing user, so that an update cannot resurrect a deleted one; fields are
// set one by one so that two concurrent updates of different fields both land.
const UPDATE_IF_EXISTS = `if redis.call('EXISTS', KEYS[1]) == 1 then
  if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
  return 1
end
return 0`;

/**
 * Sessions, users and the login limiter's counters in Redis: durable across restarts and shared
 * by several instances. Sessions also carry a Redis TTL so that Redis itself forgets dead ones;
 * liveness is still decided against the injected clock, as in memory.
 */
export async function createRedisStores({ url, prefix = 'wxlogin:', now, sessionIdleMs, onError }: RedisStoreOptions): Promise<Stores> {
  let connected = false;
  const redis = new Redis(url, {
    lazyConnect: true,
    // Retry only once it has worked: a server that cannot reach Redis at start should say so and stop.
    retryStrategy: (attempt) => (connected ? Math.min(attempt * 100, 2000) : null),
    // Fail fast while Redis is away: the request gets 503 STORE_UNAVAILABLE instead of hanging.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // On close while Redis is away, ioredis arms a timer to destroy a socket that is already gone;
    // its 2 s default keeps the process alive that long after close().
    disconnectTimeout: 100,
  });
  // ioredis reports connection trouble as 'error' events; without a listener Node would crash.
  redis.on('error', (error: Error) => onError?.(error));
  await redis.connect();
  connected = true;

  const guard = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw Object.assign(new ApiError('STORE_UNAVAILABLE', 'storage is unavailable, try again later'), { cause: error });
    }
  };
  const sessionKey = (hash: string) => `${prefix}session:${hash}`;
  const userKey = (id: string) => `${prefix}user:${id}`;
  const openidKey = (openid: string) => `${prefix}openid:${openid}`;
  const ttl = (session: SessionRecord, at: number) => Math.max(1, Math.min(sessionIdleMs, session.expiresAt - at));

  return {
    sessions: {
      create: (session) =>
        guard(async () => {
          const key = sessionKey(session.skeyHash);
          await redis.multi().hset(key, { ...session }).pexpire(key, ttl(session, now())).exec();
        }),
      touch: (skeyHash) =>
        guard(async () => {
          const key = sessionKey(skeyHash);
          const session = toSession(await redis.hgetall(key));
          if (!session) return null;
          const at = now();
          if (!isLive(session, at, sessionIdleMs)) {
            await redis.del(key);
            return null;
          }
          session.lastSeenAt = at;
          await redis.multi().hset(key, 'lastSeenAt', at).pexpire(key, ttl(session, at)).exec();
          return session;
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
      findOrCreate: (openid, fresh) =>
        guard(async () => {
          const existingId = await redis.get(openidKey(openid));
          if (existingId !== null) {
            const user = toUser(await redis.hgetall(userKey(existingId)));
            if (user) return { user, created: false };
          }
          // Write the user before claiming the openid, so that whoever wins the claim points at
          // a complete record; the loser removes its own.
          const user = fresh();
          await redis.hset(userKey(user.id), { ...user });
          if ((await redis.set(openidKey(openid), user.id, 'NX')) === 'OK') return { user, created: true };
          await redis.del(userKey(user.id));
          const winnerId = await redis.get(openidKey(openid));
          const winner = winnerId === null ? null : toUser(await redis.hgetall(userKey(winnerId)));
          if (!winner) throw new Error(`openid mapping without a user record`);
          return { user: winner, created: false };
        }),
      get: (id) => guard(async () => toUser(await redis.hgetall(userKey(id)))),
      update: (id, patch) =>
        guard(async () => {
          const fields = Object.entries(patch).flatMap(([field, value]) => (value === undefined ? [] : [field, value]));
          const updated = await redis.eval(UPDATE_IF_EXISTS, 1, userKey(id), ...fields);
          return updated === 1 ? toUser(await redis.hgetall(userKey(id))) : null;
        }),
    },

    counters: {
      hit: (key, windowMs) =>
        guard(async () => {
          const counterKey = `${prefix}rate:${key}:${Math.floor(now() / windowMs)}`;
          const results = await redis.multi().incr(counterKey).pexpire(counterKey, windowMs).exec();
          const count = results?.[0]?.[1];
          if (typeof count !== 'number') throw new Error('INCR gave no count');
          return count;
        }),
    },

    ping: () =>
      guard(async () => {
        await redis.ping();
      }),

    async close() {
      // QUIT lets pending replies arrive; when Redis is already gone, just drop the connection.
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
