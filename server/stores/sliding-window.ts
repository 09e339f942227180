import type { Clock, RateDecision } from './types';

/** One key's accepted hits: a ring of the last `limit` timestamps. */
interface Log {
  stamps: number[];
  /** Index of the oldest stamp once the ring is full; where the next one goes. */
  next: number;
  last: number;
}

/** The log's newest stamp: the one before `next` (a ring with room keeps `next` at 0, its newest last). */
const newestOf = (log: Log) => log.stamps[(log.next + log.stamps.length - 1) % log.stamps.length];

/**
 * Exact sliding-window limits in memory: a hit is accepted only if fewer than `limit` hits were
 * accepted in the `windowMs` before it, so no window of that length, wherever it falls, ever
 * holds more than `limit` (a fixed window lets 2 × limit through around its boundary).
 *
 * Per hit, O(1): the ring's oldest entry decides, and at most two keys idle for a whole window
 * are dropped from the front of the map (kept in order of last use). Keys never accumulate: each
 * hit adds at most one and removes up to two stale ones, and `maxKeys` bounds memory even under a
 * flood of fresh addresses (the least recently used key is forgotten first).
 */
export class SlidingWindows {
  /** One map per (limit, window) pair, so that every map's front is its stalest key. */
  readonly #maps = new Map<string, Map<string, Log>>();

  constructor(
    private readonly now: Clock,
    private readonly maxKeys = 100_000,
  ) {}

  take(key: string, limit: number, windowMs: number): RateDecision {
    const mapKey = `${limit}/${windowMs}`;
    let logs = this.#maps.get(mapKey);
    if (!logs) this.#maps.set(mapKey, (logs = new Map()));
    const at = this.now();

    const log = logs.get(key) ?? { stamps: [], next: 0, last: at };
    // Re-inserted on every hit: the map's order is the order of last use.
    logs.delete(key);
    logs.set(key, log);
    log.last = at;

    let decision: RateDecision;
    if (log.stamps.length < limit) {
      log.stamps.push(at);
      decision = { allowed: true };
    } else {
      const oldest = log.stamps[log.next];
      if (at - oldest >= windowMs) {
        log.stamps[log.next] = at;
        log.next = (log.next + 1) % limit;
        decision = { allowed: true };
      } else {
        decision = { allowed: false, retryAfterMs: oldest + windowMs - at };
      }
    }

    for (let i = 0; i < 2; i++) {
      const [staleKey, stale] = logs.entries().next().value ?? [];
      if (stale === undefined || (at - stale.last < windowMs && logs.size <= this.maxKeys)) break;
      logs.delete(staleKey!);
    }
    return decision;
  }

  /** Forgets `key`'s hits under every limit and window. */
  reset(key: string): void {
    for (const logs of this.#maps.values()) logs.delete(key);
  }

  /**
   * Forgets `key`'s newest accepted hit, if it has one. A key counted under several limits loses
   * it under the one whose newest hit is latest: one hit given back, as Redis and SQL do.
   */
  refund(key: string): void {
    let newest: { logs: Map<string, Log>; log: Log } | undefined;
    for (const logs of this.#maps.values()) {
      const log = logs.get(key);
      if (log && log.stamps.length > 0 && (!newest || newestOf(log) > newestOf(newest.log))) newest = { logs, log };
    }
    if (!newest) return;
    const { logs, log } = newest;
    // Unrolled oldest first, then the newest dropped: a ring with room has `next` 0, as `take` expects.
    log.stamps = [...log.stamps.slice(log.next), ...log.stamps.slice(0, log.next)];
    log.stamps.pop();
    log.next = 0;
    if (log.stamps.length === 0) logs.delete(key);
  }

  /** Keys held, for tests and the curious. */
  size(): number {
    let n = 0;
    for (const logs of this.#maps.values()) n += logs.size;
    return n;
  }
}
