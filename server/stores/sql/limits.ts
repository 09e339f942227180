/**
 * Sliding-window rate limits in SQL, for deployments without Redis: the same exact rule as
 * memory and Redis (at most `limit` accepted hits in any window of `windowMs`), one row per key
 * holding its accepted hits. The row is locked while a hit is decided, so instances sharing the
 * database cannot both take the last place.
 */
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { RateDecision, RateLimiter } from '../types';
import { prepare, changed } from './prepared';
import type { Database } from './schema';
import { Conflict, forUpdate, sweepInBackground, transact, unlessPresent, type Guard } from './support';

export interface SqlLimitOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
}

/** Keys idle for a whole window are swept once per this many hits. */
const SWEEP_EVERY = 1000;

/** The key column's width (migrations.ts: varchar(255)). */
const KEY_COLUMN = 255;

/**
 * The key as stored: as given when it fits the column, its sha256 otherwise. A key too long would
 * be refused by PostgreSQL (a 503 on every hit) and cut to the column's width by MySQL's INSERT
 * IGNORE, so that two long keys alike in their first 255 characters would share one window. The
 * hashed form starts with `#`, which no key of the server's starts with (`login:`, `phone:`...).
 * `length` counts UTF-16 units, never fewer than the characters the column counts.
 */
export function storedKey(key: string): string {
  return key.length <= KEY_COLUMN && !key.startsWith('#') ? key : `#sha256:${createHash('sha256').update(key).digest('hex')}`;
}

/** The stored hits, oldest first; anything that is not a list of numbers reads as none. */
function parseHits(json: string): number[] {
  try {
    const hits: unknown = JSON.parse(json);
    return Array.isArray(hits) && hits.every((hit) => typeof hit === 'number') ? hits : [];
  } catch {
    return [];
  }
}

export function createSqlRateLimiter({ db, kind, guard, now }: SqlLimitOptions): RateLimiter {
  let hitsSinceSweep = 0;
  const lockedHits = prepare(db, (p: { key: string }) => forUpdate(kind, db.selectFrom('rate_limits').select('hits').where('key', '=', p.key)));
  // The key's first hit; `hits` and `expires_at` as parameters, so that the statement's text never changes.
  const insertFirst = prepare(db, (p: { key: string; hits: string; expiresAt: number }) => unlessPresent(kind, db.insertInto('rate_limits').values({ key: p.key, hits: p.hits, expires_at: p.expiresAt })));
  const updateHits = prepare(db, (p: { key: string; hits: string; expiresAt: number }) => db.updateTable('rate_limits').set({ hits: p.hits, expires_at: p.expiresAt }).where('key', '=', p.key));
  const sweep = prepare(db, (p: { at: number }) => db.deleteFrom('rate_limits').where('expires_at', '<=', p.at));

  return {
    take: (given, limit, windowMs) =>
      guard(async () => {
        const key = storedKey(given);
        const at = now();
        if (++hitsSinceSweep >= SWEEP_EVERY) {
          hitsSinceSweep = 0;
          sweepInBackground(db, kind, (trx) => sweep({ at }, trx));
        }
        // A hit is what Redis would hold: committed without a sync of its own on SQLite.
        return transact(
          db,
          kind,
          async (trx): Promise<RateDecision> => {
            const [row] = (await lockedHits({ key }, trx)).rows;
            if (!row) {
              // A concurrent first hit elsewhere makes this one look again.
              if (changed(await insertFirst({ key, hits: JSON.stringify([at]), expiresAt: at + windowMs }, trx)) === 0) throw new Conflict('first hit of this key elsewhere');
              return { allowed: true };
            }
            // Only the last `limit` hits can matter, and only those still in the window.
            const inWindow = parseHits(row.hits)
              .filter((hit) => at - hit < windowMs)
              .slice(-limit);
            // A refused hit is not recorded: a client hammering away gets in as soon as the window allows.
            if (inWindow.length >= limit) return { allowed: false, retryAfterMs: Math.max(1, inWindow[0] + windowMs - at) };
            inWindow.push(at);
            await updateHits({ key, hits: JSON.stringify(inWindow), expiresAt: at + windowMs }, trx);
            return { allowed: true };
          },
          'ephemeral',
        );
      }),
  };
}
