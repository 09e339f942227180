/**
 * The stores in a SQL database (SQLite, PostgreSQL, MySQL/MariaDB): users always; sessions, rate
 * limits and the credential cache too when there is no Redis for them.
 */
import { sql, type Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import { createSealer } from '../../seal';
import { DEFAULT_MAX_SESSIONS_PER_USER, type StoreOptions, type Stores } from '../types';
import { createSqlAuditStore } from './audit';
import { createSqlAccountStore } from './accounts';
import { createSqlBindTicketStore } from './bind-tickets';
import { createSqlCredentialCache } from './credentials';
import { createSqlRateLimiter } from './limits';
import { createSqlPushEventStore } from './push-events';
import type { Database } from './schema';
import { createSqlSessionStore } from './sessions';
import { embeddedConnectionOf } from './embedded';
import { guardWith } from './support';
import { createSqlUserStore } from './users';

export interface SqlStoreOptions extends StoreOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  /** 32 bytes: session_key and the access token are sealed with it before they are written (see seal.ts). */
  sealKey: Buffer;
  /** The mini-program's AppID, which WeChat identities are stored with. */
  appId: string;
  /** An operation without an answer after this long fails with 503 STORE_UNAVAILABLE (PostgreSQL, MySQL; SQLite answers or fails at once). */
  commandTimeoutMs: number;
}

export function createSqlStores({ db, kind, now, sessionIdleMs, sealKey, appId, maxSessionsPerUser = DEFAULT_MAX_SESSIONS_PER_USER, commandTimeoutMs }: SqlStoreOptions): Stores {
  const guard = guardWith(kind === 'sqlite' ? null : commandTimeoutMs, embeddedConnectionOf(db)?.commits);
  const sealer = createSealer(sealKey);
  return {
    users: createSqlUserStore({ db, kind, guard, now, appId }),
    accounts: createSqlAccountStore({ db, kind, guard, now }),
    bindTickets: createSqlBindTicketStore({ db, kind, guard, now, appId, sealer }),
    sessions: createSqlSessionStore({ db, kind, guard, now, sessionIdleMs, maxSessionsPerUser, sealer, appId }),
    limits: createSqlRateLimiter({ db, kind, guard, now }),
    credentials: createSqlCredentialCache({ db, kind, guard, now, sealer }),
    audit: createSqlAuditStore({ db, kind, guard }),
    pushEvents: createSqlPushEventStore({ db, kind, guard, now }),
    ping: () => guard(async () => void (await sql`select 1`.execute(db))),
    close: () => db.destroy(),
  };
}
