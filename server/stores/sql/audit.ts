/**
 * The audit trail in SQL: one row per entry, read by the (user_id, at) index, purged by the `at`
 * index. Nothing updates a row except anonymise, which strips a deleted user's.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditActor, AuditAction, AuditDetail, AuditEntry, AuditOutcome, AuditStore } from '../types';
import type { DatabaseKind } from '../../database';
import { batchedOnSqlite } from './batched';
import { prepare } from './prepared';
import type { Database } from './schema';
import { millis, type Db, type Guard } from './support';

export interface SqlAuditOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
}

/** A stored detail back as an object; anything else (a row edited by hand) reads as none. */
function parseDetail(text: string | null): AuditDetail | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as AuditDetail) : null;
  } catch {
    return null;
  }
}

export function createSqlAuditStore({ db, kind, guard }: SqlAuditOptions): AuditStore {
  const insert = prepare(db, (p: { at: number; userId: string | null; actor: string; action: string; outcome: string; clientNetwork: string | null; detail: string | null }) =>
    db.insertInto('audit_events').values({ at: p.at, user_id: p.userId, actor: p.actor, action: p.action, outcome: p.outcome, client_network: p.clientNetwork, detail: p.detail }),
  );
  // Every login appends one: entries arriving together commit together on SQLite.
  const append = batchedOnSqlite(db, kind, guard, async (entry: AuditEntry, on: Db) => void (await insert({ ...entry, detail: entry.detail === null ? null : JSON.stringify(entry.detail) }, on)));
  return {
    record: append,

    listOf: (userId, limit) =>
      guard(async () => {
        const rows = await db
          .selectFrom('audit_events')
          .select(['at', 'user_id', 'actor', 'action', 'outcome', 'client_network', 'detail'])
          .where('user_id', '=', userId)
          .orderBy('at', 'desc')
          .orderBy('seq', 'desc')
          .limit(limit)
          .execute();
        return rows.map(
          (row): AuditEntry => ({
            at: millis(row.at),
            userId: row.user_id,
            actor: row.actor as AuditActor,
            action: row.action as AuditAction,
            outcome: row.outcome as AuditOutcome,
            clientNetwork: row.client_network,
            detail: parseDetail(row.detail),
          }),
        );
      }),

    anonymise: (userId) =>
      guard(async () => {
        const [result] = await db.updateTable('audit_events').set({ user_id: `erased:${randomUUID()}`, client_network: null, detail: null }).where('user_id', '=', userId).execute();
        return Number(result?.numUpdatedRows ?? 0);
      }),

    purge: (before) =>
      guard(async () => {
        const [result] = await db.deleteFrom('audit_events').where('at', '<', before).execute();
        return Number(result?.numDeletedRows ?? 0);
      }),
  };
}
