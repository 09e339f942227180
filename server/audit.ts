/**
 * The audit trail of account events: who did what to an account, when, with what outcome, and
 * from which client network. It answers "who bound this phone number, and when" and shows a user
 * their own history (the account export), without becoming a tracker: the client's address is
 * kept only as its network (IPv4 /24, IPv6 /48), no secret and nothing the user typed is written,
 * a deleted user's entries are anonymised (AuditStore.anonymise), and entries older than
 * AUDIT_RETENTION_DAYS are purged.
 *
 * A failed write does not fail what it records: a login, a phone binding or a profile change goes
 * through, and the failure is logged at error level with the entry (which holds nothing secret),
 * so that the trail's gap is itself on record. The trail lives in the same database as the users
 * it describes, so a database that refuses the entry almost always refused the action before it;
 * refusing logins because of the trail alone would turn a full audit table into an outage. The
 * operator's command is the exception: it says the action was done but not recorded, and exits 1.
 */
import ipaddr from 'ipaddr.js';
import type { AuditActor, AuditAction, AuditDetail, AuditEntry, AuditOutcome, AuditStore, Clock } from './stores/types';

/** The client network an address belongs to, as the trail keeps it: `203.0.113.0/24`, `2001:db8:1::/48`; null for none or garbage. */
export function clientNetwork(address: string | undefined | null): string | null {
  if (!address || !ipaddr.isValid(address)) return null;
  // IPv4-mapped IPv6 (::ffff:203.0.113.7, what a dual-stack socket reports) as the IPv4 it is.
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') {
    const [a, b, c] = (parsed as ipaddr.IPv4).octets;
    return `${a}.${b}.${c}.0/24`;
  }
  const [p0, p1, p2] = (parsed as ipaddr.IPv6).parts;
  return `${new ipaddr.IPv6([p0, p1, p2, 0, 0, 0, 0, 0]).toString()}/48`;
}

/** An event as its recorder knows it: the client's full address, which the trail cuts to its network. */
export interface AuditEvent {
  userId: string | null;
  actor: AuditActor;
  action: AuditAction;
  outcome: AuditOutcome;
  /** The client's address as the server saw it (behind trusted proxies); absent for the operator and WeChat. */
  address?: string;
  detail?: AuditDetail;
}

export interface AuditTrail {
  /** Records the event; never throws (see the module's note): a failure is reported to `onFailure`. */
  record(event: AuditEvent): Promise<void>;
  readonly store: AuditStore;
}

/** What a failed write is reported with: the store's error and the entry that was not written. */
export type AuditFailure = (error: unknown, entry: AuditEntry) => void;

export function createAuditTrail(store: AuditStore, now: Clock, onFailure: AuditFailure): AuditTrail {
  return {
    store,
    async record({ userId, actor, action, outcome, address, detail }) {
      const entry: AuditEntry = { at: now(), userId, actor, action, outcome, clientNetwork: clientNetwork(address), detail: detail ?? null };
      try {
        await store.record(entry);
      } catch (error) {
        onFailure(error, entry);
      }
    },
  };
}

const DAY = 24 * 3600 * 1000;

export interface RetentionOptions {
  audit: AuditStore;
  now: Clock;
  /** Entries older than this are purged (AUDIT_RETENTION_DAYS). */
  retentionMs: number;
  /** How often the purge runs after the first; a day by default. */
  intervalMs?: number;
  /** Told how many entries each run dropped. */
  onPurged(count: number): void;
  /** Told why a run failed; the next run tries again. */
  onError(error: unknown): void;
}

export interface Retention {
  /** The first run's end (it starts at once): tests wait on it. */
  readonly firstRun: Promise<void>;
  /** No run starts after this; resolves once a run under way has finished (its database can then close). */
  stop(): Promise<void>;
}

/**
 * Purges the trail now and then every `intervalMs`, on a timer that keeps no process alive (the
 * server's close stops it). Runs never overlap: the next is scheduled when one ends.
 */
export function startRetention({ audit, now, retentionMs, intervalMs = DAY, onPurged, onError }: RetentionOptions): Retention {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void>;
  const purge = async () => {
    try {
      const count = await audit.purge(now() - retentionMs);
      if (count > 0) onPurged(count);
    } catch (error) {
      onError(error);
    }
    if (stopped) return;
    timer = setTimeout(() => void (running = purge()), intervalMs);
    timer.unref();
  };
  running = purge();
  return {
    firstRun: running,
    stop() {
      stopped = true;
      clearTimeout(timer);
      return running;
    },
  };
}
