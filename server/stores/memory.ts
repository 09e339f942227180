import { SlidingWindows } from './sliding-window';
import { isLive, type SessionRecord, type StoreOptions, type Stores, type UserRecord } from './types';

/** The default stores: one process, forgotten on restart (clients then log in again by themselves). */
export function createMemoryStores({ now, sessionIdleMs }: StoreOptions): Stores {
  const sessions = new Map<string, SessionRecord>();
  const users = new Map<string, UserRecord>();
  const userIdByOpenid = new Map<string, string>();
  const windows = new SlidingWindows(now);
  let createsSinceSweep = 0;

  return {
    sessions: {
      async create(session) {
        // Sessions nobody comes back for would stay forever; sweep the dead ones now and then.
        if (++createsSinceSweep >= 1000) {
          createsSinceSweep = 0;
          const at = now();
          for (const [hash, s] of sessions) if (!isLive(s, at, sessionIdleMs)) sessions.delete(hash);
        }
        sessions.set(session.skeyHash, { ...session });
      },
      async touch(skeyHash) {
        const session = sessions.get(skeyHash);
        if (!session) return null;
        const at = now();
        if (!isLive(session, at, sessionIdleMs)) {
          sessions.delete(skeyHash);
          return null;
        }
        session.lastSeenAt = at;
        return { ...session };
      },
      async sessionKey(skeyHash) {
        return sessions.get(skeyHash)?.sessionKey ?? null;
      },
      async delete(skeyHash) {
        return sessions.delete(skeyHash);
      },
      async deleteAll() {
        const count = sessions.size;
        sessions.clear();
        return count;
      },
    },

    users: {
      async findOrCreate(openid, fresh) {
        const existing = userIdByOpenid.get(openid);
        if (existing !== undefined) return { user: { ...users.get(existing)! }, created: false };
        const user = fresh();
        users.set(user.id, user);
        userIdByOpenid.set(openid, user.id);
        return { user: { ...user }, created: true };
      },
      async get(id) {
        const user = users.get(id);
        return user ? { ...user } : null;
      },
      async update(id, patch) {
        const user = users.get(id);
        if (!user) return null;
        const before = { ...user };
        Object.assign(user, patch);
        return { before, after: { ...user } };
      },
    },

    limits: {
      async take(key, limit, windowMs) {
        return windows.take(key, limit, windowMs);
      },
    },

    async ping() {},

    async close() {},
  };
}
