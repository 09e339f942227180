/**
 * WeChat's account events in memory: the test double, and simulated mode without a database. One
 * process, so every operation below is atomic by running without an await; nothing survives a
 * restart (the SQL store is the durable one).
 */
import { randomBytes } from 'node:crypto';
import type { Clock, PushEventOutcome, PushEventRecord, PushEventStore } from './types';

interface Entry extends PushEventRecord {
  state: 'pending' | 'done';
  attempts: number;
  claim: string | null;
  /** Nobody may claim it before this (0: at once). */
  claimedUntil: number;
  doneAt: number | null;
  outcome: PushEventOutcome | null;
}

export function createMemoryPushEventStore(now: Clock): PushEventStore {
  const events = new Map<string, Entry>();

  return {
    async record(event) {
      if (events.has(event.dedupeKey)) return false;
      events.set(event.dedupeKey, { ...event, revoked: [...event.revoked], state: 'pending', attempts: 0, claim: null, claimedUntil: 0, doneAt: null, outcome: null });
      return true;
    },
    async claim(dedupeKey, leaseMs) {
      const entry = events.get(dedupeKey);
      const at = now();
      if (!entry || entry.state !== 'pending' || entry.claimedUntil > at) return null;
      entry.claim = randomBytes(16).toString('hex');
      entry.claimedUntil = at + leaseMs;
      entry.attempts += 1;
      const { dedupeKey: key, kind, openid, revoked, receivedAt, claim, attempts } = entry;
      return { dedupeKey: key, kind, openid, revoked: [...revoked], receivedAt, claim, attempts };
    },
    async due(limit) {
      const at = now();
      return [...events.values()]
        .filter((entry) => entry.state === 'pending' && entry.claimedUntil <= at)
        .sort((a, b) => a.receivedAt - b.receivedAt)
        .slice(0, limit)
        .map((entry) => entry.dedupeKey);
    },
    async finish(dedupeKey, claim, outcome) {
      const entry = events.get(dedupeKey);
      if (!entry || entry.state !== 'pending' || entry.claim !== claim) return false;
      Object.assign(entry, { state: 'done', openid: '', claim: null, doneAt: now(), outcome });
      return true;
    },
    async release(dedupeKey, claim, retryAt) {
      const entry = events.get(dedupeKey);
      if (entry && entry.state === 'pending' && entry.claim === claim) Object.assign(entry, { claim: null, claimedUntil: retryAt });
    },
    async purge(before) {
      let purged = 0;
      for (const [key, entry] of events) {
        if (entry.state === 'done' && entry.doneAt! < before) {
          events.delete(key);
          purged++;
        }
      }
      return purged;
    },
    async counts() {
      let pending = 0;
      for (const entry of events.values()) if (entry.state === 'pending') pending++;
      return { pending, done: events.size - pending };
    },
  };
}
