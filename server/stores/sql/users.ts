/**
 * Users and their identities in SQL. A user row holds the profile; what the user is known by
 * (WeChat account, unionid, phone number) are identity rows, unique per kind and value, so that
 * the database itself refuses a second user for one WeChat account or one phone number, across
 * every instance. A UserRecord is read in one statement: the user by primary key, its identities
 * joined by the user_id index.
 */
import type { DatabaseKind } from '../../database';
import { fullPhone } from '../../account';
import type { IdentityRecord, PhoneNumber, UserRecord, UserStore, WeChatIdentity } from '../types';
import { changed, prepare } from './prepared';
import type { Database, IdentityKind } from './schema';
import { Conflict, lockUser, millis, transact, unlessPresent, type Db, type Guard } from './support';
import { sql, type Kysely } from 'kysely';

export const wechatIdentity = (appId: string, openid: string) => `${appId}:${openid}`;
export const phoneIdentity = (phone: PhoneNumber) => `${phone.countryCode}:${phone.number}`;

/** An identity row as the export shows it: this app's openid bare, the phone number written out. */
function toIdentityRecord(kind: IdentityKind, value: string, createdAt: number, appId: string): IdentityRecord {
  if (kind === 'wechat' && value.startsWith(`${appId}:`)) return { kind, value: value.slice(appId.length + 1), createdAt };
  const separator = value.indexOf(':');
  if (kind === 'phone' && separator > 0) return { kind, value: fullPhone({ countryCode: value.slice(0, separator), number: value.slice(separator + 1) }), createdAt };
  return { kind, value, createdAt };
}

/** A user row joined with one of its identities (or none). */
export interface UserRow {
  id: string;
  nickname: string;
  avatar_url: string;
  created_at: number | string;
  blocked_at: number | string | null;
  blocked_reason: string | null;
  kind: IdentityKind | null;
  value: string | null;
  /** The platform account's columns (accounts LEFT JOINed): null for a user without one. */
  account_name: string | null;
  account_display_name: string | null;
  account_roles: string | null;
  account_disabled: number | string | null;
}

/** The accounts columns every user read selects (with `.leftJoin('accounts', 'accounts.user_id', 'users.id')`), named as UserRow has them. */
export const ACCOUNT_COLUMNS = [
  'accounts.name as account_name',
  'accounts.display_name as account_display_name',
  'accounts.roles as account_roles',
  'accounts.disabled as account_disabled',
] as const;

/** A JSON array of role names; anything else reads as none (the default role). */
export function parseRoles(json: string): string[] {
  try {
    const roles: unknown = JSON.parse(json);
    return Array.isArray(roles) ? roles.filter((role): role is string => typeof role === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The record from its rows (one per identity, in `seq` order). The openid is the first WeChat
 * identity's of this app (the login that created the user), the unionid the first one linked.
 */
export function toUserRecord(rows: UserRow[], appId: string): UserRecord | null {
  const [first] = rows;
  if (!first) return null;
  const values = (kind: IdentityKind) => rows.filter((row) => row.kind === kind).map((row) => row.value!);
  const wechat = values('wechat');
  const ours = wechat.find((value) => value.startsWith(`${appId}:`)) ?? wechat[0];
  const [unionid] = values('unionid');
  const [phone] = values('phone');
  const separator = phone?.indexOf(':') ?? -1;
  return {
    id: first.id,
    openid: ours === undefined ? '' : ours.slice(ours.indexOf(':') + 1),
    ...(unionid === undefined ? {} : { unionid }),
    nickname: first.nickname,
    avatarUrl: first.avatar_url,
    createdAt: millis(first.created_at),
    ...(phone === undefined || separator < 0 ? {} : { phone: { countryCode: phone.slice(0, separator), number: phone.slice(separator + 1) } }),
    ...(first.blocked_at === null ? {} : { blocked: { at: millis(first.blocked_at), reason: first.blocked_reason ?? '' } }),
    ...(first.account_name === null || first.account_name === undefined
      ? {}
      : {
          roles: parseRoles(first.account_roles ?? '[]'),
          account: { name: first.account_name, displayName: first.account_display_name ?? '', disabled: Number(first.account_disabled) === 1 },
        }),
  };
}

/** The users table's columns a UserRecord is made of (with the identities' kind and value). */
export const USER_COLUMNS = ['users.id', 'users.nickname', 'users.avatar_url', 'users.created_at', 'users.blocked_at', 'users.blocked_reason'] as const;

/** Users with their identities, one row per identity: to be narrowed to the users wanted. */
export function selectUsers(db: Db) {
  return db
    .selectFrom('users')
    .leftJoin('identities', 'identities.user_id', 'users.id')
    .leftJoin('accounts', 'accounts.user_id', 'users.id')
    .select([...USER_COLUMNS, 'identities.kind', 'identities.value', ...ACCOUNT_COLUMNS]);
}

/** One statement: the user and its identities, or no rows. */
export function selectUser(db: Db, id: string) {
  return selectUsers(db).where('users.id', '=', id).orderBy('identities.seq');
}

/**
 * One statement: every user known by the WeChat identity or the unionid (none, one, or two
 * users when they name different ones), each with all its identities, a user's rows together.
 */
function selectUsersKnownBy(db: Db, wechat: string, unionid: string | null) {
  return selectUsers(db)
    .where('users.id', 'in', (eb) =>
      eb
        .selectFrom('identities as known')
        .select('known.user_id')
        .where((known) => known.or([known.and([known('known.kind', '=', 'wechat'), known('known.value', '=', wechat)]), known.and([known('known.kind', '=', 'unionid'), known('known.value', '=', unionid!)])])),
    )
    .orderBy('users.id')
    .orderBy('identities.seq');
}

export async function loadUser(db: Db, id: string, appId: string): Promise<UserRecord | null> {
  return toUserRecord(await selectUser(db, id).execute(), appId);
}

export interface SqlUserOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
  /** The mini-program's AppID: an openid is stored with it, as it means something only within its app. */
  appId: string;
}

export function createSqlUserStore({ db, kind, guard, now, appId }: SqlUserOptions): UserStore {
  const userById = prepare(db, (p: { id: string }) => selectUser(db, p.id));
  const usersKnownBy = prepare(db, (p: { wechat: string; unionid: string | null }) => selectUsersKnownBy(db, p.wechat, p.unionid));
  const insertUser = prepare(db, (p: { id: string; nickname: string; avatarUrl: string; createdAt: number }) =>
    db.insertInto('users').values({ id: p.id, nickname: p.nickname, avatar_url: p.avatarUrl, created_at: p.createdAt, updated_at: p.createdAt }),
  );
  const insertIdentity = prepare(db, (p: { kind: IdentityKind; value: string; userId: string; createdAt: number }) =>
    unlessPresent(kind, db.insertInto('identities').values({ kind: p.kind, value: p.value, user_id: p.userId, created_at: p.createdAt })),
  );
  const link = async (trx: Db, identityKind: IdentityKind, value: string, userId: string) => changed(await insertIdentity({ kind: identityKind, value, userId, createdAt: now() }, trx)) > 0;
  const load = async (id: string, on?: Db) => toUserRecord((await userById({ id }, on)).rows, appId);

  /**
   * Who the identity names: the user of the unionid, else of the openid, and whether that user
   * lacks either (to be linked, so that later logins find it by both).
   */
  const lookUp = async (on: Db, wechat: string, unionid: string | undefined) => {
    const rows = (await usersKnownBy({ wechat, unionid: unionid ?? null }, on)).rows;
    const knownBy = (identityKind: IdentityKind, value: string | undefined) => rows.find((row) => row.kind === identityKind && row.value === value)?.id;
    const byUnionid = knownBy('unionid', unionid);
    const byOpenid = knownBy('wechat', wechat);
    const id = byUnionid ?? byOpenid;
    return {
      id,
      rows: rows.filter((row) => row.id === id),
      lacksOpenid: byOpenid === undefined,
      lacksUnionid: unionid !== undefined && byUnionid === undefined,
    };
  };

  /**
   * The user of this unionid, else of this openid, the missing one linked; created with `fresh`
   * when neither is known (and there is a `fresh`). A known user with nothing to link, as nearly
   * every login is, is one read and no transaction. Concurrent first logins (here or on another
   * instance) race on the identities' unique key: the one that loses finds its insert did
   * nothing, rolls back (its new user row too) and looks again, now seeing the winner's user.
   */
  const resolve = async ({ openid, unionid }: WeChatIdentity, fresh: (() => UserRecord) | null): Promise<{ user: UserRecord; created: boolean } | null> => {
    const wechat = wechatIdentity(appId, openid);
    const known = await lookUp(db, wechat, unionid);
    if (known.id !== undefined && !known.lacksOpenid && !known.lacksUnionid) return { user: toUserRecord(known.rows, appId)!, created: false };
    if (known.id === undefined && fresh === null) return null;
    return transact(db, kind, async (trx) => {
      const { id, lacksOpenid, lacksUnionid } = await lookUp(trx, wechat, unionid);
      if (id !== undefined) {
        if (lacksOpenid && !(await link(trx, 'wechat', wechat, id))) throw new Conflict('openid linked meanwhile');
        if (lacksUnionid && !(await link(trx, 'unionid', unionid!, id))) throw new Conflict('unionid linked meanwhile');
        const user = await load(id, trx);
        if (!user) throw new Conflict('user deleted meanwhile');
        return { user, created: false };
      }
      if (fresh === null) return null;
      const user: UserRecord = { ...fresh(), openid, ...(unionid === undefined ? {} : { unionid }) };
      await insertUser(user, trx);
      if (!(await link(trx, 'wechat', wechat, user.id))) throw new Conflict('first login of this openid elsewhere');
      if (unionid !== undefined && !(await link(trx, 'unionid', unionid, user.id))) throw new Conflict('first login of this unionid elsewhere');
      return { user, created: true };
    });
  };

  /**
   * What a deletion and an erasure share, inside their transaction: the user locked and read as
   * they were, then their sessions and identities gone (children first, by name: the foreign keys
   * cascade too, but nothing here depends on that). Null when there is no such user.
   */
  const detachUser = async (trx: Db, id: string) => {
    if (!(await lockUser(kind, trx, id))) return null;
    const before = await loadUser(trx, id, appId);
    await trx.deleteFrom('sessions').where('user_id', '=', id).execute();
    await trx.deleteFrom('identities').where('user_id', '=', id).execute();
    return before;
  };

  return {
    findOrCreate: (identity, fresh) => guard(async () => (await resolve(identity, fresh))!),

    find: (identity) => guard(async () => (await resolve(identity, null))?.user ?? null),

    get: (id) => guard(() => load(id)),

    update: (id, patch) =>
      guard(() =>
        transact(db, kind, async (trx) => {
          // Locked first, so that `before` is what this update replaced (the avatar file to delete).
          if (!(await lockUser(kind, trx, id))) return null;
          const before = await loadUser(trx, id, appId);
          if (!before) return null;
          const columns = { ...(patch.nickname === undefined ? {} : { nickname: patch.nickname }), ...(patch.avatarUrl === undefined ? {} : { avatar_url: patch.avatarUrl }) };
          if (Object.keys(columns).length > 0) await trx.updateTable('users').set({ ...columns, updated_at: now() }).where('id', '=', id).execute();
          const after: UserRecord = { ...before, ...(patch.nickname === undefined ? {} : { nickname: patch.nickname }), ...(patch.avatarUrl === undefined ? {} : { avatarUrl: patch.avatarUrl }) };
          return { before, after };
        }),
      ),

    identitiesOf: (id) =>
      guard(async () => {
        const rows = await db.selectFrom('identities').select(['kind', 'value', 'created_at']).where('user_id', '=', id).orderBy('seq').execute();
        return rows.map((row) => toIdentityRecord(row.kind, row.value, millis(row.created_at), appId));
      }),

    delete: (id) =>
      guard(() =>
        transact(db, kind, async (trx) => {
          const before = await detachUser(trx, id);
          if (before) await trx.deleteFrom('users').where('id', '=', id).execute();
          return before;
        }),
      ),

    eraseCollectedData: (id) =>
      guard(() =>
        transact(db, kind, async (trx) => {
          const before = await detachUser(trx, id);
          if (!before) return null;
          await trx.updateTable('users').set({ nickname: '', avatar_url: '', updated_at: now() }).where('id', '=', id).execute();
          return before;
        }),
      ),

    bindPhone: (id, phone) =>
      guard(() =>
        transact(db, kind, async (trx) => {
          if (!(await lockUser(kind, trx, id))) return null;
          const value = phoneIdentity(phone);
          const owner = await trx.selectFrom('identities').select('user_id').where('kind', '=', 'phone').where('value', '=', value).executeTakeFirst();
          if (owner && owner.user_id !== id) return { ok: false, reason: 'PHONE_IN_USE' } as const;
          if (!owner) {
            // One number per user: the one held before is released.
            await trx.deleteFrom('identities').where('user_id', '=', id).where('kind', '=', 'phone').execute();
            // Another user binding the number at this moment: look again, and find it theirs.
            if (!(await link(trx, 'phone', value, id))) throw new Conflict('number bound meanwhile');
          }
          const user = await loadUser(trx, id, appId);
          return user ? ({ ok: true, user } as const) : null;
        }),
      ),

    block: (id, { at, reason }) => guard(() => setBlock(id, at, reason)),
    unblock: (id) => guard(() => setBlock(id, null, null)),

    findByPhone: (phone) =>
      guard(async () => {
        const owner = await db.selectFrom('identities').select('user_id').where('kind', '=', 'phone').where('value', '=', phoneIdentity(phone)).executeTakeFirst();
        return owner ? loadUser(db, owner.user_id, appId) : null;
      }),

    searchByNickname: (text, limit) =>
      guard(async () => {
        // A substring by position, not LIKE: no wildcard to escape, and case-sensitive on every
        // database (SQLite's LIKE ignores ASCII case).
        const contains = kind === 'postgres' ? sql<number>`strpos(nickname, ${text})` : sql<number>`instr(nickname, ${text})`;
        const ids = await db.selectFrom('users').select('id').where(contains, '>', 0).orderBy('created_at').orderBy('id').limit(limit).execute();
        const users = await Promise.all(ids.map((row) => loadUser(db, row.id, appId)));
        return users.filter((user): user is UserRecord => user !== null);
      }),

    findByOpenid: (openid) =>
      guard(async () => {
        const identity = await db.selectFrom('identities').select('user_id').where('kind', '=', 'wechat').where('value', '=', wechatIdentity(appId, openid)).executeTakeFirst();
        return identity ? loadUser(db, identity.user_id, appId) : null;
      }),

    removePhone: (id) =>
      guard(() =>
        transact(db, kind, async (trx) => {
          if (!(await lockUser(kind, trx, id))) return null;
          await trx.deleteFrom('identities').where('user_id', '=', id).where('kind', '=', 'phone').execute();
          return loadUser(trx, id, appId);
        }),
      ),
  };

  async function setBlock(id: string, at: number | null, reason: string | null): Promise<UserRecord | null> {
    const [result] = await db.updateTable('users').set({ blocked_at: at, blocked_reason: reason, updated_at: now() }).where('id', '=', id).execute();
    if (Number(result?.numUpdatedRows ?? 0) === 0) return null;
    return loadUser(db, id, appId);
  }
}
