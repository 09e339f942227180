/**
 * Where the account lifecycle meets the audit trail: the seam the audit trail (server/audit.ts,
 * `stores.audit`, owned by the audit/admin work) fills in. Until it is wired, no entry is written
 * and the export lists none. Nothing else in the lifecycle needs to change when it is.
 */
import type { AccountAuditEntry } from '../../typings/api';
import type { Stores } from '../stores/types';

/** An account event the lifecycle reports: who did it, and how it ended. */
export interface AccountEvent {
  userId: string;
  action: 'exported' | 'deleted';
  actor: AccountAuditEntry['actor'];
  outcome: AccountAuditEntry['outcome'];
}

/** Audit call site of the export and the deletion (after a deletion, the entry must keep no personal data, and the user's earlier entries lose their user id). */
export async function recordAccountEvent(stores: Stores, event: AccountEvent): Promise<void> {
  void stores;
  void event;
}

/** The source of the export's `audit` list: the user's audit entries, oldest first. */
export async function auditEntriesOf(stores: Stores, userId: string): Promise<AccountAuditEntry[]> {
  void stores;
  void userId;
  return [];
}
