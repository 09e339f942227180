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
import { Conflict, forUpdate, millis, sweepInBackground, transact, unlessPresent, type Guard } from './support';

export interface SqlLimitOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
}

/** Keys idle for a whole window are swept once per this many hits. */
const SWEEP_EVERY = 1000;

/**
 * A row's expires_at (when the sweep may delete it) is set this many windows past the hit that
 * sets it, and rewritten only once a hit would outlive it: about once per window instead of on
 * every hit, each rewrite moving the row's entry in the expires_at index (on SQLite a page of the
 * commit). A row idle for a whole window is then swept up to a window later than it could be.
 */
const EXPIRY_SLACK = 2;

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

/**
 * The stored hits: each hit's time in base 36, 9 characters wide, oldest first, one after another.
 * A hit is decided without reading every time back: the first hit still in the window is found by
 * bisection, and the new hit is put in place by string operations. (They were a JSON array: with a
 * high limit, as the benchmark sets to keep the limiter out of the way, writing and reading a
 * thousand numbers back cost about a millisecond per login.) Anything else stored (a JSON array
 * of an earlier release, a damaged value) reads as no hits.
 */
const WIDTH = 9;
const encodeHit = (at: number) => Math.max(0, Math.floor(at)).toString(36).padStart(WIDTH, '0');
const validHits = (stored: string) => (stored.length % WIDTH === 0 && /^[0-9a-z]*$/.test(stored) ? stored : '');
const hitAt = (hits: string, i: number) => parseInt(hits.slice(i * WIDTH, (i + 1) * WIDTH), 36);

/** The first index in `hits` (sorted) from `from` on whose time fails `before`, by bisection. */
function firstNot(hits: string, from: number, before: (time: number) => boolean): number {
  let low = from;
  let high = hits.length / WIDTH;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (before(hitAt(hits, middle))) low = middle + 1;
    else high = middle;
  }
  return low;
}

export function createSqlRateLimiter({ db, kind, guard, now }: SqlLimitOptions): RateLimiter {
  let hitsSinceSweep = 0;
  const lockedHits = prepare(db, (p: { key: string }) => forUpdate(kind, db.selectFrom('rate_limits').select(['hits', 'expires_at']).where('key', '=', p.key)));
  // The key's first hit; `hits` and `expires_at` as parameters, so that the statement's text never changes.
  const insertFirst = prepare(db, (p: { key: string; hits: string; expiresAt: number }) => unlessPresent(kind, db.insertInto('rate_limits').values({ key: p.key, hits: p.hits, expires_at: p.expiresAt })));
  const updateHits = prepare(db, (p: { key: string; hits: string; expiresAt: number }) => db.updateTable('rate_limits').set({ hits: p.hits, expires_at: p.expiresAt }).where('key', '=', p.key));
  // A refund leaves expires_at as it was: still when the row's hits are all out of the window at the latest.
  const setHits = prepare(db, (p: { key: string; hits: string }) => db.updateTable('rate_limits').set({ hits: p.hits }).where('key', '=', p.key));
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
              if (changed(await insertFirst({ key, hits: encodeHit(at), expiresAt: at + EXPIRY_SLACK * windowMs }, trx)) === 0) throw new Conflict('first hit of this key elsewhere');
              return { allowed: true };
            }
            // Only the hits still in the window count, and of those only the last `limit`.
            const hits = validHits(row.hits);
            const count = hits.length / WIDTH;
            const first = Math.max(firstNot(hits, 0, (hit) => at - hit >= windowMs), count - limit);
            // A refused hit is not recorded: a client hammering away gets in as soon as the window allows.
            if (count - first >= limit) return { allowed: false, retryAfterMs: Math.max(1, hitAt(hits, first) + windowMs - at) };
            // In time order, also should the clock have stepped back.
            const place = firstNot(hits, first, (hit) => hit <= at);
            const kept = hits.slice(first * WIDTH, place * WIDTH) + encodeHit(at) + hits.slice(place * WIDTH);
            // The row must outlive its last hit by a window; moved only when it would not.
            if (millis(row.expires_at) >= at + windowMs) await setHits({ key, hits: kept }, trx);
            else await updateHits({ key, hits: kept, expiresAt: at + EXPIRY_SLACK * windowMs }, trx);
            return { allowed: true };
          },
          'ephemeral',
        );
      }),

    // Under the key as stored, as every hit was counted: a key too long for the column was never found by its raw form.
    reset: (key) => guard(async () => void (await db.deleteFrom('rate_limits').where('key', '=', storedKey(key)).execute())),

    refund: (given) =>
      guard(async () => {
        const key = storedKey(given);
        // Locked as a hit is, so that a concurrent hit or refund of the key cannot lose this one.
        await transact(
          db,
          kind,
          async (trx) => {
            const [row] = (await lockedHits({ key }, trx)).rows;
            const hits = row ? validHits(row.hits) : '';
            // Hits are oldest first: the newest is the last one. No hits, nothing to give back.
            if (hits !== '') await setHits({ key, hits: hits.slice(0, -WIDTH) }, trx);
          },
          'ephemeral',
        );
      }),
  };
}
