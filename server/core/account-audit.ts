/**
 * Where the account lifecycle meets the audit trail (server/audit.ts, `stores.audit`): the export
 * and the deletion are recorded, the export lists the user's entries, and a deletion anonymises
 * them (AuditStore.anonymise). Unlike a login's entry, a failure here fails the call (503): a
 * deletion whose entries kept their personal data must be retried, not reported done, and both
 * are rare enough that the trail must not miss them.
 */
import type { AccountAuditEntry } from '../../typings/api';
import type { Clock, Stores } from '../stores/types';

/** An account event the lifecycle reports: who did it, and how it ended. */
export interface AccountEvent {
  userId: string;
  action: 'exported' | 'deleted';
  actor: AccountAuditEntry['actor'];
  outcome: AccountAuditEntry['outcome'];
}

/** How many of the user's entries the export lists (the newest). */
export const EXPORTED_AUDIT_ENTRIES = 1000;

/**
 * Records the event; after a deletion, the user's entries (this one with them) are anonymised, so
 * that the trail keeps what happened and when, and nothing that names the person.
 */
export async function recordAccountEvent(stores: Stores, event: AccountEvent, now: Clock): Promise<void> {
  await stores.audit.record({ at: now(), userId: event.userId, actor: event.actor, action: event.action, outcome: event.outcome, clientNetwork: null, detail: null });
  if (event.action === 'deleted') await stores.audit.anonymise(event.userId);
}

/** The source of the export's `audit` list: the user's audit entries, oldest first, without their detail (the operator's notes). */
export async function auditEntriesOf(stores: Stores, userId: string): Promise<AccountAuditEntry[]> {
  const entries = await stores.audit.listOf(userId, EXPORTED_AUDIT_ENTRIES);
  return entries.reverse().map(({ at, action, actor, outcome, clientNetwork }) => ({ at, action, actor, outcome, clientNetwork }));
}
