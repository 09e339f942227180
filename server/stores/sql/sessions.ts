/**
 * Sessions in SQL, for deployments without Redis. Authenticating is one statement (the session,
 * its user and the user's identities, by the session's primary key); a second one records the use
 * only when the last record is a touch interval old. session_key is sealed as in Redis.
 */
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { Sealer } from '../../seal';
import { isLive, touchIntervalMs, type SessionRecord, type SessionStore } from '../types';
import { changed, prepare } from './prepared';
import type { Database } from './schema';
import { lockingUser, lockUser, millis, sweepInBackground, transact, type Db, type Guard } from './support';
import { ACCOUNT_COLUMNS, toUserRecord, USER_COLUMNS, type UserRow } from './users';

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

/** One statement: the session, its user and the user's identities (one row per identity), or no rows. */
export function selectSessionWithUser(db: Db, skeyHash: string) {
  return db
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
      // The user row is read anyway: its block costs two columns, no statement.
      ...USER_COLUMNS,
      'identities.kind',
      'identities.value',
      ...ACCOUNT_COLUMNS,
    ])
    .where('sessions.skey_hash', '=', skeyHash)
    .orderBy('identities.seq');
}

/** The session's columns, as create writes them. */
type SessionRow = Omit<SessionRecord, 'sessionKey'> & { sealedKey: string };

export function createSqlSessionStore({ db, kind, guard, now, sessionIdleMs, maxSessionsPerUser, sealer, appId }: SqlSessionOptions): SessionStore {
  const touchEvery = touchIntervalMs(sessionIdleMs);
  let createsSinceSweep = 0;

  const sessionWithUser = prepare(db, (p: { skeyHash: string }) => selectSessionWithUser(db, p.skeyHash));
  // Never moved back: a concurrent request may have recorded a later use. Session data, as a login's
  // session is: a read that records a use does not wait for a sync.
  const recordUse = prepare(db, (p: { skeyHash: string; at: number }) => db.updateTable('sessions').set({ last_seen_at: p.at }).where('skey_hash', '=', p.skeyHash).where('last_seen_at', '<', p.at), {
    ephemeral: true,
  });
  const deleteOne = prepare(db, (p: { skeyHash: string }) => db.deleteFrom('sessions').where('skey_hash', '=', p.skeyHash));
  const sealedKey = prepare(db, (p: { skeyHash: string }) => db.selectFrom('sessions').select('session_key').where('skey_hash', '=', p.skeyHash));
  // The user's row locked (see lockingUser), then the user's sessions, what the cap is counted on.
  // Two statements: PostgreSQL reads a statement's other rows as they were when it began, before
  // it waited for the lock, and would miss the session a concurrent login just added.
  const lockUserRow = prepare(db, (p: { userId: string }) => lockingUser(kind, db.selectFrom('users').select('id').where('id', '=', p.userId)));
  const sessionsOf = prepare(db, (p: { userId: string }) => db.selectFrom('sessions').select(['skey_hash', 'created_at', 'last_seen_at', 'expires_at']).where('user_id', '=', p.userId));
  // A session stored again under its hash replaces the one there, as in memory and Redis.
  const storeSession = prepare(db, (p: SessionRow) => {
    const columns = { user_id: p.userId, session_key: p.sealedKey, created_at: p.createdAt, last_seen_at: p.lastSeenAt, expires_at: p.expiresAt };
    const insert = db.insertInto('sessions').values({ skey_hash: p.skeyHash, ...columns });
    return kind === 'mysql' ? insert.onDuplicateKeyUpdate(columns) : insert.onConflict((conflict) => conflict.column('skey_hash').doUpdateSet(columns));
  });
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
          sweepInBackground(db, kind, (on) => deleteDead(on, at));
        }
        // One transaction per login holding the user's row lock: concurrent logins of one user
        // take turns, so none sees room under the cap that another is taking. A session is what
        // Redis would hold: committed without a sync of its own on SQLite (see Durability).
        return transact(
          db,
          kind,
          async (trx) => {
            // Only for an existing user (the foreign key would refuse it anyway): a session of nobody is of no use.
            if ((await lockUserRow({ userId: session.userId }, trx)).rows.length === 0) return 0;
            const rows = (await sessionsOf({ userId: session.userId }, trx)).rows;
            await storeSession({ ...session, sealedKey: sealer.seal(session.sessionKey, session.skeyHash) }, trx);
            // The dead ones go (not counted: they were no longer live), then the oldest beyond the
            // cap, never the new one; newest first, logins in the same millisecond by hash.
            const others = rows
              .flatMap((row) => (row.skey_hash === session.skeyHash ? [] : [{ skeyHash: row.skey_hash, userId: session.userId, createdAt: millis(row.created_at), lastSeenAt: millis(row.last_seen_at), expiresAt: millis(row.expires_at) }]))
              .sort((a, b) => b.createdAt - a.createdAt || (a.skeyHash < b.skeyHash ? 1 : -1));
            const live = others.filter((other) => isLive(other, at, sessionIdleMs));
            const beyond = live.slice(maxSessionsPerUser - 1);
            for (const other of [...others.filter((other) => !isLive(other, at, sessionIdleMs)), ...beyond]) await deleteOne({ skeyHash: other.skeyHash }, trx);
            return beyond.length;
          },
          'ephemeral',
        );
      }),

    touch: (skeyHash) =>
      guard(async () => {
        const rows = (await sessionWithUser({ skeyHash })).rows;
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
          await deleteOne({ skeyHash });
          return null;
        }
        if (at - session.lastSeenAt >= touchEvery) {
          await recordUse({ skeyHash, at });
          session.lastSeenAt = at;
        }
        const user = toUserRecord(rows as UserRow[], appId);
        return user ? { session, user } : null;
      }),

    sessionKey: (skeyHash) =>
      guard(async () => {
        const [row] = (await sealedKey({ skeyHash })).rows;
        return row ? sealer.open(row.session_key, skeyHash) : null;
      }),

    delete: (skeyHash) => guard(async () => changed(await deleteOne({ skeyHash })) > 0),

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

    countOf: (userId) =>
      guard(async () => {
        const at = now();
        const row = await db
          .selectFrom('sessions')
          .select((eb) => eb.fn.countAll<number | string>().as('live'))
          .where('user_id', '=', userId)
          .where('expires_at', '>', at)
          .where('last_seen_at', '>', at - sessionIdleMs)
          .executeTakeFirst();
        return Number(row?.live ?? 0);
      }),

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
