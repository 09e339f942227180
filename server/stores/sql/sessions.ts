/**
 * Sessions in SQL, for deployments without Redis. Authenticating is one statement (the session,
 * its user and the user's identities, by the session's primary key); a second one records the use
 * only when the last record is a touch interval old. session_key is sealed as in Redis.
 */
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { Sealer } from '../../seal';
import { isLive, touchIntervalMs, type SessionStore } from '../types';
import type { Database } from './schema';
import { lockUser, millis, transact, type Db, type Guard } from './support';
import { ACCOUNT_COLUMNS, toUserRecord, type UserRow } from './users';

export interface SqlSessionOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
  sessionIdleMs: number;
  /** Live sessions one user may hold; a login beyond it revokes the oldest. */
  maxSessionsPerUser: number;
  sealer: Sealer;
  appId: string;
}

/** Dead sessions nobody comes back for are swept once per this many logins. */
const SWEEP_EVERY = 1000;

export function createSqlSessionStore({ db, kind, guard, now, sessionIdleMs, maxSessionsPerUser, sealer, appId }: SqlSessionOptions): SessionStore {
  const touchEvery = touchIntervalMs(sessionIdleMs);
  let createsSinceSweep = 0;

  /** Removes sessions past their lifetime or idle timeout: the user's own (`userId`), or everyone's. */
  const deleteDead = (database: Db, at: number, userId?: string) =>
    database
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<=', at), eb('last_seen_at', '<=', at - sessionIdleMs)]))
      .$if(userId !== undefined, (query) => query.where('user_id', '=', userId!))
      .execute();

  return {
    create: (session) =>
      guard(async () => {
        const at = now();
        if (++createsSinceSweep >= SWEEP_EVERY) {
          createsSinceSweep = 0;
          await deleteDead(db, at);
        }
        // One transaction per login holding the user's row lock: concurrent logins of one user
        // take turns, so none sees room under the cap that another is taking.
        return transact(db, kind, async (trx) => {
          // Only for an existing user (the foreign key would refuse it anyway): a session of nobody is of no use.
          if (!(await lockUser(kind, trx, session.userId))) return 0;
          await trx
            .insertInto('sessions')
            .values({
              skey_hash: session.skeyHash,
              user_id: session.userId,
              session_key: sealer.seal(session.sessionKey, session.skeyHash),
              created_at: session.createdAt,
              last_seen_at: session.lastSeenAt,
              expires_at: session.expiresAt,
            })
            .execute();
          // The dead ones go first (not counted: they were no longer live), then the oldest beyond
          // the cap, never the new one.
          await deleteDead(trx, at, session.userId);
          const beyond = await trx
            .selectFrom('sessions')
            .select('skey_hash')
            .where('user_id', '=', session.userId)
            .where('skey_hash', '<>', session.skeyHash)
            .orderBy('created_at', 'desc')
            .orderBy('skey_hash', 'desc')
            .limit(1000)
            .offset(maxSessionsPerUser - 1)
            .execute();
          if (beyond.length === 0) return 0;
          await trx.deleteFrom('sessions').where('skey_hash', 'in', beyond.map((row) => row.skey_hash)).execute();
          return beyond.length;
        });
      }),

    touch: (skeyHash) =>
      guard(async () => {
        const rows = await db
          .selectFrom('sessions')
          .innerJoin('users', 'users.id', 'sessions.user_id')
          .leftJoin('identities', 'identities.user_id', 'users.id')
          .leftJoin('accounts', 'accounts.user_id', 'users.id')
          .select([
            'sessions.skey_hash',
            'sessions.user_id',
            'sessions.created_at as session_created_at',
            'sessions.last_seen_at',
            'sessions.expires_at',
            'users.id',
            'users.nickname',
            'users.avatar_url',
            'users.created_at',
            'identities.kind',
            'identities.value',
            ...ACCOUNT_COLUMNS,
          ])
          .where('sessions.skey_hash', '=', skeyHash)
          .orderBy('identities.seq')
          .execute();
        const [first] = rows;
        if (!first) return null;
        const at = now();
        const session = {
          skeyHash: first.skey_hash,
          userId: first.user_id,
          createdAt: millis(first.session_created_at),
          lastSeenAt: millis(first.last_seen_at),
          expiresAt: millis(first.expires_at),
        };
        if (!isLive(session, at, sessionIdleMs)) {
          await db.deleteFrom('sessions').where('skey_hash', '=', skeyHash).execute();
          return null;
        }
        if (at - session.lastSeenAt >= touchEvery) {
          // Never moved back: a concurrent request may have recorded a later use.
          await db.updateTable('sessions').set({ last_seen_at: at }).where('skey_hash', '=', skeyHash).where('last_seen_at', '<', at).execute();
          session.lastSeenAt = at;
        }
        const user = toUserRecord(rows as UserRow[], appId);
        return user ? { session, user } : null;
      }),

    sessionKey: (skeyHash) =>
      guard(async () => {
        const row = await db.selectFrom('sessions').select('session_key').where('skey_hash', '=', skeyHash).executeTakeFirst();
        return row ? sealer.open(row.session_key, skeyHash) : null;
      }),

    delete: (skeyHash) =>
      guard(async () => {
        const [result] = await db.deleteFrom('sessions').where('skey_hash', '=', skeyHash).execute();
        return Number(result?.numDeletedRows ?? 0) > 0;
      }),

    deleteAllOf: (userId) =>
      guard(() =>
        // Under the user's row lock, as create takes it: a login racing with this ends before (and is ended) or starts after.
        transact(db, kind, async (trx) => {
          await lockUser(kind, trx, userId);
          await deleteDead(trx, now(), userId);
          const [result] = await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
          return Number(result?.numDeletedRows ?? 0);
        }),
      ),

    listOf: (userId) =>
      guard(async () => {
        const at = now();
        const rows = await db
          .selectFrom('sessions')
          .select(['skey_hash', 'user_id', 'created_at', 'last_seen_at', 'expires_at'])
          .where('user_id', '=', userId)
          .orderBy('created_at')
          .orderBy('skey_hash')
          .execute();
        return rows
          .map((row) => ({ skeyHash: row.skey_hash, userId: row.user_id, createdAt: millis(row.created_at), lastSeenAt: millis(row.last_seen_at), expiresAt: millis(row.expires_at) }))
          .filter((session) => isLive(session, at, sessionIdleMs));
      }),

    deleteAll: () =>
      guard(async () => {
        const [result] = await db.deleteFrom('sessions').execute();
        return Number(result?.numDeletedRows ?? 0);
      }),
  };
}
