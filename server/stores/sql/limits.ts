/**
 * Sliding-window rate limits in SQL, for deployments without Redis: the same exact rule as
 * memory and Redis (at most `limit` accepted hits in any window of `windowMs`), one row per key
 * holding its accepted hits. The row is locked while a hit is decided, so instances sharing the
 * database cannot both take the last place.
 */
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { RateDecision, RateLimiter } from '../types';
import type { Database } from './schema';
import { Conflict, forUpdate, insertUnlessPresent, transact, type Guard } from './support';

export interface SqlLimitOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
}

/** Keys idle for a whole window are swept once per this many hits. */
const SWEEP_EVERY = 1000;

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
  return {
    take: (key, limit, windowMs) =>
      guard(async () => {
        const at = now();
        if (++hitsSinceSweep >= SWEEP_EVERY) {
          hitsSinceSweep = 0;
          await db.deleteFrom('rate_limits').where('expires_at', '<=', at).execute();
        }
        return transact(db, kind, async (trx): Promise<RateDecision> => {
          const row = await forUpdate(kind, trx.selectFrom('rate_limits').select('hits').where('key', '=', key)).executeTakeFirst();
          if (!row) {
            // The key's first hit; a concurrent first hit elsewhere makes this one look again.
            if (!(await insertUnlessPresent(kind, trx.insertInto('rate_limits').values({ key, hits: JSON.stringify([at]), expires_at: at + windowMs })))) {
              throw new Conflict('first hit of this key elsewhere');
            }
            return { allowed: true };
          }
          // Only the last `limit` hits can matter, and only those still in the window.
          const inWindow = parseHits(row.hits)
            .filter((hit) => at - hit < windowMs)
            .slice(-limit);
          // A refused hit is not recorded: a client hammering away gets in as soon as the window allows.
          if (inWindow.length >= limit) return { allowed: false, retryAfterMs: Math.max(1, inWindow[0] + windowMs - at) };
          inWindow.push(at);
          await trx
            .updateTable('rate_limits')
            .set({ hits: JSON.stringify(inWindow), expires_at: at + windowMs })
            .where('key', '=', key)
            .execute();
          return { allowed: true };
        });
      }),

    reset: (key) => guard(async () => void (await db.deleteFrom('rate_limits').where('key', '=', key).execute())),
  };
}
