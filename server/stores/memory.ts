import { fullPhone } from '../account';
import { createMemoryCredentialCache } from './credentials';
import { createMemoryAuditStore } from './memory-audit';
import { createMemoryPushEventStore } from './push-events';
import { SessionIndex } from './session-index';
import { SlidingWindows } from './sliding-window';
import { randomUUID } from 'node:crypto';
import { DEFAULT_MAX_SESSIONS_PER_USER, isLive, type BindTicketRecord, type IdentityRecord, type LiveSession, type PhoneNumber, type PlatformAccount, type SessionRecord, type StoreOptions, type Stores, type UserRecord, type UserStore, type WeChatIdentity } from './types';

const phoneKey = (phone: PhoneNumber) => `${phone.countryCode}:${phone.number}`;

/** The memory stores, and what their test double can do beyond the Stores interface. */
export interface MemoryStores extends Stores {
  users: UserStore & {
    /**
     * Gives the user these roles (the test double's stand-in for a platform account's roles); the
     * user after, or null when there is no such user. Their sessions see it on their next request.
     */
    setRoles(id: string, roles: string[]): Promise<UserRecord | null>;
  };
}

/** The default stores: one process, forgotten on restart (clients then log in again by themselves). */
export function createMemoryStores(
  { now, sessionIdleMs, maxSessionsPerUser = DEFAULT_MAX_SESSIONS_PER_USER }: StoreOptions,
  /** Given by tests that look at what the index holds. */
  index = new SessionIndex(),
): MemoryStores {
  const sessions = new Map<string, SessionRecord>();
  const users = new Map<string, UserRecord>();
  const userIdByOpenid = new Map<string, string>();
  const userIdByUnionid = new Map<string, string>();
  const userIdByPhone = new Map<string, string>();
  const accountsByName = new Map<string, PlatformAccount>();
  const accountNameByUserId = new Map<string, string>();
  const tickets = new Map<string, BindTicketRecord>();
  /** Each user's identities in the order they were linked: what the export lists, and what a deletion frees. */
  const identitiesOf = new Map<string, IdentityRecord[]>();
  const linkIdentity = (userId: string, kind: IdentityRecord['kind'], value: string) => {
    const list = identitiesOf.get(userId) ?? [];
    list.push({ kind, value, createdAt: now() });
    identitiesOf.set(userId, list);
  };
  const windows = new SlidingWindows(now);
  let createsSinceSweep = 0;

  /** A copy of the user as the stores answer it: its account's name, display name, flag and roles on it. */
  const view = (user: UserRecord): UserRecord => {
    const name = accountNameByUserId.get(user.id);
    const account = name === undefined ? undefined : accountsByName.get(name);
    if (!account) return { ...user };
    return { ...user, roles: [...account.roles], account: { name: account.name, displayName: account.displayName, disabled: account.disabled } };
  };
  const copyAccount = (account: PlatformAccount): PlatformAccount => ({ ...account, roles: [...account.roles] });
  /** Applies `change` to the named account, stamped; the account after, or null. */
  const changeAccount = (name: string, change: Partial<PlatformAccount>): PlatformAccount | null => {
    const account = accountsByName.get(name);
    if (!account || !users.has(account.userId)) return null;
    Object.assign(account, change, { updatedAt: now() });
    return copyAccount(account);
  };
  /** The user of this unionid, else of this openid, the missing one linked to it; undefined when neither is known. */
  const findExisting = ({ openid, unionid }: WeChatIdentity): UserRecord | undefined => {
    const byUnionid = unionid === undefined ? undefined : users.get(userIdByUnionid.get(unionid) ?? '');
    const existing = byUnionid ?? users.get(userIdByOpenid.get(openid) ?? '');
    if (!existing) return undefined;
    if (!userIdByOpenid.has(openid)) {
      userIdByOpenid.set(openid, existing.id);
      linkIdentity(existing.id, 'wechat', openid);
    }
    if (unionid !== undefined && !byUnionid) {
      userIdByUnionid.set(unionid, existing.id);
      linkIdentity(existing.id, 'unionid', unionid);
      existing.unionid ??= unionid;
    }
    if (existing.openid === '') existing.openid = openid;
    return existing;
  };
  const removeIdentitiesOf = (userId: string): number => {
    let removed = 0;
    for (const index of [userIdByOpenid, userIdByUnionid]) {
      for (const [value, id] of index) {
        if (id === userId) {
          index.delete(value);
          removed++;
        }
      }
    }
    const user = users.get(userId);
    if (user) {
      user.openid = '';
      delete user.unionid;
    }
    identitiesOf.set(userId, (identitiesOf.get(userId) ?? []).filter((identity) => identity.kind === 'phone'));
    return removed;
  };

  /** Forgets one session, in the sessions map and in its user's index. */
  const forget = (skeyHash: string, userId: string) => {
    sessions.delete(skeyHash);
    index.remove(userId, skeyHash);
  };
  /** The user's live sessions, oldest first; dead ones found on the way are forgotten (in the index too). */
  const liveSessionsOf = (userId: string, at: number): string[] =>
    index.of(userId).filter((hash) => {
      const session = sessions.get(hash);
      if (session && isLive(session, at, sessionIdleMs)) return true;
      forget(hash, userId);
      return false;
    });

  return {
    sessions: {
      async create(session) {
        const at = now();
        // Sessions nobody comes back for would stay forever; sweep the dead ones now and then.
        if (++createsSinceSweep >= 1000) {
          createsSinceSweep = 0;
          for (const [hash, s] of sessions) if (!isLive(s, at, sessionIdleMs)) forget(hash, s.userId);
        }
        // The same hash again replaces its session: it is not one of the others.
        const replaced = sessions.get(session.skeyHash);
        if (replaced) forget(replaced.skeyHash, replaced.userId);
        // No await in this function: no other login of this user can come in between, so the cap holds.
        const live = liveSessionsOf(session.userId, at);
        const revoked = Math.max(0, live.length - (maxSessionsPerUser - 1));
        for (const hash of live.slice(0, revoked)) forget(hash, session.userId);
        sessions.set(session.skeyHash, { ...session });
        index.add(session.userId, session.skeyHash);
        return revoked;
      },
      // Synchronous: no promise and no microtask turn on the path every authenticated request
      // takes. Every use is recorded (a field assignment; the touch interval is for stores where
      // a write costs more than a read).
      touch(skeyHash) {
        const session = sessions.get(skeyHash);
        if (!session) return null;
        const at = now();
        if (!isLive(session, at, sessionIdleMs)) {
          forget(skeyHash, session.userId);
          return null;
        }
        const user = users.get(session.userId);
        if (!user) return null;
        session.lastSeenAt = at;
        return {
          session: { skeyHash: session.skeyHash, userId: session.userId, createdAt: session.createdAt, lastSeenAt: at, expiresAt: session.expiresAt },
          user: view(user),
        };
      },
      async sessionKey(skeyHash) {
        return sessions.get(skeyHash)?.sessionKey ?? null;
      },
      async delete(skeyHash) {
        const session = sessions.get(skeyHash);
        if (!session) return false;
        forget(skeyHash, session.userId);
        return true;
      },
      async deleteAllOf(userId) {
        const live = liveSessionsOf(userId, now());
        for (const hash of live) sessions.delete(hash);
        index.drop(userId);
        return live.length;
      },
      async countOf(userId) {
        return liveSessionsOf(userId, now()).length;
      },
      async deleteAll() {
        const count = sessions.size;
        sessions.clear();
        index.clear();
        return count;
      },
      async listOf(userId) {
        return liveSessionsOf(userId, now()).map((hash): LiveSession => {
          const { sessionKey, ...live } = sessions.get(hash)!;
          void sessionKey;
          return live;
        });
      },
    },

    users: {
      async findOrCreate({ openid, unionid }, fresh) {
        const existing = findExisting({ openid, unionid });
        if (existing) return { user: view(existing), created: false };
        const user = { ...fresh(), ...(unionid === undefined ? {} : { unionid }) };
        users.set(user.id, user);
        userIdByOpenid.set(openid, user.id);
        linkIdentity(user.id, 'wechat', openid);
        if (unionid !== undefined) {
          userIdByUnionid.set(unionid, user.id);
          linkIdentity(user.id, 'unionid', unionid);
        }
        return { user: { ...user }, created: true };
      },
      async find(identity) {
        const existing = findExisting(identity);
        return existing ? view(existing) : null;
      },
      async get(id) {
        const user = users.get(id);
        return user ? view(user) : null;
      },
      async update(id, patch) {
        const user = users.get(id);
        if (!user) return null;
        const before = view(user);
        Object.assign(user, patch);
        return { before, after: view(user) };
      },
      async bindPhone(id, phone) {
        const user = users.get(id);
        if (!user) return null;
        const owner = userIdByPhone.get(phoneKey(phone));
        if (owner !== undefined && owner !== id && users.has(owner)) return { ok: false, reason: 'PHONE_IN_USE' };
        if (owner !== id) {
          if (user.phone && userIdByPhone.get(phoneKey(user.phone)) === id) userIdByPhone.delete(phoneKey(user.phone));
          userIdByPhone.set(phoneKey(phone), id);
          identitiesOf.set(id, (identitiesOf.get(id) ?? []).filter((identity) => identity.kind !== 'phone'));
          linkIdentity(id, 'phone', fullPhone(phone));
        }
        user.phone = { ...phone };
        return { ok: true, user: { ...view(user), phone: { ...phone } } };
      },
      async findByOpenid(openid) {
        const user = users.get(userIdByOpenid.get(openid) ?? '');
        return user ? { ...user } : null;
      },
      async removePhone(id) {
        const user = users.get(id);
        if (!user) return null;
        if (user.phone && userIdByPhone.get(phoneKey(user.phone)) === id) userIdByPhone.delete(phoneKey(user.phone));
        identitiesOf.set(id, (identitiesOf.get(id) ?? []).filter((identity) => identity.kind !== 'phone'));
        delete user.phone;
        return { ...user };
      },
      async identitiesOf(id) {
        return (identitiesOf.get(id) ?? []).map((identity) => ({ ...identity }));
      },
      async delete(id) {
        const user = users.get(id);
        if (!user) return null;
        for (const { kind, value } of identitiesOf.get(id) ?? []) {
          if (kind === 'wechat' && userIdByOpenid.get(value) === id) userIdByOpenid.delete(value);
          if (kind === 'unionid' && userIdByUnionid.get(value) === id) userIdByUnionid.delete(value);
        }
        if (user.phone && userIdByPhone.get(phoneKey(user.phone)) === id) userIdByPhone.delete(phoneKey(user.phone));
        const before = view(user);
        identitiesOf.delete(id);
        users.delete(id);
        const account = accountNameByUserId.get(id);
        if (account !== undefined && accountsByName.get(account)?.userId === id) accountsByName.delete(account);
        accountNameByUserId.delete(id);
        for (const hash of index.of(id)) sessions.delete(hash);
        index.drop(id);
        return before;
      },
      async eraseCollectedData(id) {
        const user = users.get(id);
        if (!user) return null;
        const before = view(user);
        removeIdentitiesOf(id);
        if (user.phone && userIdByPhone.get(phoneKey(user.phone)) === id) userIdByPhone.delete(phoneKey(user.phone));
        delete user.phone;
        identitiesOf.delete(id);
        Object.assign(user, { nickname: '', avatarUrl: '' });
        for (const hash of index.of(id)) sessions.delete(hash);
        index.drop(id);
        return before;
      },
      async block(id, block) {
        const user = users.get(id);
        if (!user) return null;
        user.blocked = { ...block };
        return { ...user };
      },
      async unblock(id) {
        const user = users.get(id);
        if (!user) return null;
        delete user.blocked;
        return { ...user };
      },
      async findByPhone(phone) {
        const user = users.get(userIdByPhone.get(phoneKey(phone)) ?? '');
        return user ? { ...user } : null;
      },
      async searchByNickname(text, limit) {
        const found: UserRecord[] = [];
        // Map order is creation order: oldest first, as the SQL stores answer.
        for (const user of users.values()) {
          if (found.length >= limit) break;
          if (user.nickname.includes(text)) found.push({ ...user });
        }
        return found;
      },
      async setRoles(id, roles) {
        const user = users.get(id);
        if (!user) return null;
        user.roles = [...roles];
        return { ...view(user), roles: [...roles] };
      },
    },

    accounts: {
      async create({ name, displayName, roles, passwordHash }) {
        const existing = accountsByName.get(name);
        if (existing && users.has(existing.userId)) return { ok: false, reason: 'NAME_TAKEN' };
        const at = now();
        const user: UserRecord = { id: randomUUID(), openid: '', nickname: '', avatarUrl: '', createdAt: at };
        const account: PlatformAccount = { userId: user.id, name, displayName, roles: [...roles], disabled: false, passwordHash, createdAt: at, updatedAt: at };
        users.set(user.id, user);
        accountsByName.set(name, account);
        accountNameByUserId.set(user.id, name);
        return { ok: true, account: copyAccount(account) };
      },
      async byName(name) {
        const account = accountsByName.get(name);
        return account && users.has(account.userId) ? copyAccount(account) : null;
      },
      async list() {
        const bound = new Set(userIdByOpenid.values());
        return [...accountsByName.values()]
          .filter((account) => users.has(account.userId))
          .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
          .map(({ passwordHash: _hash, ...account }) => ({ ...account, roles: [...account.roles], bound: bound.has(account.userId) }));
      },
      async setPasswordHash(name, passwordHash) {
        return changeAccount(name, { passwordHash });
      },
      async setDisabled(name, disabled) {
        return changeAccount(name, { disabled });
      },
      async setRoles(name, roles) {
        return changeAccount(name, { roles: [...roles] });
      },
      async unbind(userId) {
        return removeIdentitiesOf(userId);
      },
    },

    bindTickets: {
      async issue(ticket) {
        // Expired tickets nobody came back for go when the next one is issued.
        const at = now();
        for (const [hash, held] of tickets) if (held.expiresAt <= at) tickets.delete(hash);
        tickets.set(ticket.ticketHash, { ...ticket });
      },
      async isLive(ticketHash) {
        const ticket = tickets.get(ticketHash);
        return ticket !== undefined && now() < ticket.expiresAt;
      },
      // No await in here: nothing else runs between the look and the consumption.
      async redeem(ticketHash, userId) {
        const ticket = tickets.get(ticketHash);
        if (!ticket || now() >= ticket.expiresAt) return { ok: false, reason: 'INVALID_BIND_TICKET' };
        const user = users.get(userId);
        if (!user) return { ok: false, reason: 'NO_SUCH_USER' };
        if (user.openid !== '') return { ok: false, reason: 'ACCOUNT_ALREADY_BOUND' };
        const taken = userIdByOpenid.has(ticket.openid) || (ticket.unionid !== undefined && userIdByUnionid.has(ticket.unionid));
        tickets.delete(ticketHash);
        if (taken) return { ok: false, reason: 'INVALID_BIND_TICKET' };
        userIdByOpenid.set(ticket.openid, userId);
        linkIdentity(userId, 'wechat', ticket.openid);
        user.openid = ticket.openid;
        if (ticket.unionid !== undefined) {
          userIdByUnionid.set(ticket.unionid, userId);
          linkIdentity(userId, 'unionid', ticket.unionid);
          user.unionid = ticket.unionid;
        }
        return { ok: true, user: view(user), sessionKey: ticket.sessionKey };
      },
    },

    limits: {
      async take(key, limit, windowMs) {
        return windows.take(key, limit, windowMs);
      },
      async reset(key) {
        windows.reset(key);
      },
      async refund(key) {
        windows.refund(key);
      },
    },

    credentials: createMemoryCredentialCache(now),

    audit: createMemoryAuditStore(),
    pushEvents: createMemoryPushEventStore(now),

    async ping() {},

    async close() {},
  };
}
