/** The audit trail in process memory: the memory stores' (a test double, and simulated mode without a database). */
import { randomUUID } from 'node:crypto';
import type { AuditEntry, AuditStore } from './types';

/** Entries kept at most: the oldest go first beyond it, so that a long-running process does not grow without end. */
export const MEMORY_AUDIT_LIMIT = 100_000;

const copy = (entry: AuditEntry): AuditEntry => ({ ...entry, detail: entry.detail === null ? null : structuredClone(entry.detail) });

export function createMemoryAuditStore(limit = MEMORY_AUDIT_LIMIT): AuditStore {
  // In the order recorded, which is time order: the clock given to every recorder is the same.
  let entries: AuditEntry[] = [];

  return {
    async record(entry) {
      entries.push(copy(entry));
      if (entries.length > limit) entries = entries.slice(entries.length - limit);
    },
    async listOf(userId, max) {
      const found: AuditEntry[] = [];
      for (let i = entries.length - 1; i >= 0 && found.length < max; i--) if (entries[i].userId === userId) found.push(copy(entries[i]));
      // Newest first by time; recording order breaks ties (and stands for it if a clock went back).
      return found.sort((a, b) => b.at - a.at);
    },
    async anonymise(userId) {
      const erased = `erased:${randomUUID()}`;
      let changed = 0;
      entries = entries.map((entry) => {
        if (entry.userId !== userId) return entry;
        changed++;
        return { ...entry, userId: erased, clientNetwork: null, detail: null };
      });
      return changed;
    },
    async purge(before) {
      const kept = entries.filter((entry) => entry.at >= before);
      const dropped = entries.length - kept.length;
      entries = kept;
      return dropped;
    },
  };
}
