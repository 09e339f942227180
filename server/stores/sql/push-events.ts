/**
 * WeChat's account events in SQL (table push_events), shared by every instance on the database.
 * Recording is an insert-unless-present on the dedupe key, committed before WeChat gets its
 * answer; a claim is one conditional UPDATE (pending, nobody holding it), so that of any number of
 * workers on any number of instances exactly one sees a row changed; finishing is conditional on
 * the claim too, and blanks the openid.
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { Clock, PushEventKind, PushEventRecord, PushEventStore } from '../types';
import type { Database } from './schema';
import { batchedOnSqlite } from './batched';
import { changed, prepare } from './prepared';
import { millis, unlessPresent, type Db, type Guard } from './support';

export interface SqlPushEventOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: Clock;
}

const names = (revoked: string) => (revoked === '' ? [] : revoked.split(','));

export function createSqlPushEventStore({ db, kind, guard, now }: SqlPushEventOptions): PushEventStore {
  const insertPending = prepare(db, (p: { dedupeKey: string; kind: PushEventKind; openid: string; revoked: string; receivedAt: number }) =>
    unlessPresent(
      kind,
      db.insertInto('push_events').values({
        dedupe_key: p.dedupeKey,
        kind: p.kind,
        openid: p.openid,
        revoked: p.revoked,
        received_at: p.receivedAt,
        state: 'pending',
        attempts: 0,
        claim: null,
        claimed_until: 0,
        done_at: null,
        outcome: null,
      }),
    ),
  );
  return {
    // WeChat pushes in bursts (a mass revoke): events arriving together commit together on SQLite.
    record: batchedOnSqlite(db, kind, guard, async (event: PushEventRecord, on: Db) => changed(await insertPending({ ...event, revoked: event.revoked.join(',') }, on)) > 0),

    claim: (dedupeKey, leaseMs) =>
      guard(async () => {
        const at = now();
        const claim = randomBytes(16).toString('hex');
        const [result] = await db
          .updateTable('push_events')
          .set((eb) => ({ claim, claimed_until: at + leaseMs, attempts: eb('attempts', '+', 1) }))
          .where('dedupe_key', '=', dedupeKey)
          .where('state', '=', 'pending')
          .where('claimed_until', '<=', at)
          .execute();
        if (Number(result?.numUpdatedRows ?? 0) !== 1) return null;
        const row = await db
          .selectFrom('push_events')
          .select(['dedupe_key', 'kind', 'openid', 'revoked', 'received_at', 'attempts'])
          .where('dedupe_key', '=', dedupeKey)
          .where('claim', '=', claim)
          .executeTakeFirst();
        if (!row) return null;
        return { dedupeKey: row.dedupe_key, kind: row.kind as PushEventKind, openid: row.openid, revoked: names(row.revoked), receivedAt: millis(row.received_at), claim, attempts: Number(row.attempts) };
      }),

    due: (limit) =>
      guard(async () => {
        const rows = await db
          .selectFrom('push_events')
          .select('dedupe_key')
          .where('state', '=', 'pending')
          .where('claimed_until', '<=', now())
          .orderBy('received_at')
          .limit(limit)
          .execute();
        return rows.map((row) => row.dedupe_key);
      }),

    finish: (dedupeKey, claim, outcome) =>
      guard(async () => {
        const [result] = await db
          .updateTable('push_events')
          .set({ state: 'done', openid: '', claim: null, done_at: now(), outcome })
          .where('dedupe_key', '=', dedupeKey)
          .where('state', '=', 'pending')
          .where('claim', '=', claim)
          .execute();
        return Number(result?.numUpdatedRows ?? 0) === 1;
      }),

    release: (dedupeKey, claim, retryAt) =>
      guard(async () => {
        await db.updateTable('push_events').set({ claim: null, claimed_until: retryAt }).where('dedupe_key', '=', dedupeKey).where('state', '=', 'pending').where('claim', '=', claim).execute();
      }),

    purge: (before) =>
      guard(async () => {
        const [result] = await db.deleteFrom('push_events').where('state', '=', 'done').where('done_at', '<', before).execute();
        return Number(result?.numDeletedRows ?? 0);
      }),

    counts: () =>
      guard(async () => {
        const rows = await db.selectFrom('push_events').select(['state', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('state').execute();
        const of = (state: string) => Number(rows.find((row) => row.state === state)?.n ?? 0);
        return { pending: of('pending'), done: of('done') };
      }),
  };
}
