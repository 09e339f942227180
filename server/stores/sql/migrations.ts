/**
 * The schema, as migrations kept in code (Kysely's Migrator runs them in name order, each once,
 * under its lock, so that two instances migrating at once do not both run one). `npm run migrate`
 * brings a database up to date; `npm start` does it for its embedded file; the production server
 * only checks (schemaStatus) and refuses a schema behind or ahead of its code.
 */
import { sql, type CreateTableBuilder, type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { DatabaseKind } from '../../database';
import { TABLES, type Database } from './schema';

export const MIGRATION_TABLE = 'wxlogin_migration';
export const MIGRATION_LOCK_TABLE = 'wxlogin_migration_lock';
/** The command that applies migrations, as messages name it. */
export const MIGRATE_COMMAND = 'npm run migrate';

/**
 * Every table in utf8mb4 with binary comparison on MySQL, whatever the server's default: a
 * 3-byte `utf8` table breaks 4-byte emoji, and a case-insensitive collation would make the
 * openids `oAbc` and `oABC` one identity.
 */
function table<T extends string>(kind: DatabaseKind, builder: CreateTableBuilder<T, never>): CreateTableBuilder<T, never> {
  return kind === 'mysql' ? builder.modifyEnd(sql`engine = InnoDB default charset = utf8mb4 collate = utf8mb4_bin`) : builder;
}

/** The migrations of this code, by name; names sort in the order they apply. */
export function migrations(kind: DatabaseKind): Record<string, Migration> {
  const millis = 'bigint';
  return {
    '2026-12-07-01-users-identities-sessions': {
      async up(db: Kysely<unknown>) {
        await table(
          kind,
          db.schema
            .createTable('users')
            .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
            .addColumn('nickname', 'varchar(255)', (c) => c.notNull())
            .addColumn('avatar_url', 'varchar(2048)', (c) => c.notNull())
            .addColumn('created_at', millis, (c) => c.notNull())
            .addColumn('updated_at', millis, (c) => c.notNull()),
        ).execute();

        const seq = kind === 'postgres' ? 'bigserial' : kind === 'mysql' ? 'bigint' : 'integer';
        await table(
          kind,
          db.schema
            .createTable('identities')
            .addColumn('seq', sql.raw(seq), (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
            .addColumn('kind', 'varchar(16)', (c) => c.notNull())
            .addColumn('value', 'varchar(255)', (c) => c.notNull())
            .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
            .addColumn('created_at', millis, (c) => c.notNull())
            .addUniqueConstraint('identities_kind_value', ['kind', 'value']),
        ).execute();
        await db.schema.createIndex('identities_user_id').on('identities').column('user_id').execute();

        await table(
          kind,
          db.schema
            .createTable('sessions')
            .addColumn('skey_hash', 'char(64)', (c) => c.primaryKey())
            .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('users.id').onDelete('cascade'))
            .addColumn('session_key', 'varchar(255)', (c) => c.notNull())
            .addColumn('created_at', millis, (c) => c.notNull())
            .addColumn('last_seen_at', millis, (c) => c.notNull())
            .addColumn('expires_at', millis, (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('sessions_user_id_created_at').on('sessions').columns(['user_id', 'created_at']).execute();
        await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

        await table(
          kind,
          db.schema
            .createTable('rate_limits')
            .addColumn('key', 'varchar(255)', (c) => c.primaryKey())
            .addColumn('hits', 'text', (c) => c.notNull())
            .addColumn('expires_at', millis, (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('rate_limits_expires_at').on('rate_limits').column('expires_at').execute();

        await table(
          kind,
          db.schema
            .createTable('credentials')
            .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
            .addColumn('value', 'text', (c) => c.notNull())
            .addColumn('refresh_at', millis, (c) => c.notNull())
            .addColumn('expires_at', millis, (c) => c.notNull()),
        ).execute();
        await table(
          kind,
          db.schema
            .createTable('credential_locks')
            .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
            .addColumn('owner', 'varchar(64)', (c) => c.notNull())
            .addColumn('held_until', millis, (c) => c.notNull()),
        ).execute();
      },
      async down(db: Kysely<unknown>) {
        for (const name of [...TABLES].reverse()) await db.schema.dropTable(name).ifExists().execute();
      },
    },
    '2026-12-07-02-platform-accounts': {
      async up(db: Kysely<unknown>) {
        await table(
          kind,
          db.schema
            .createTable('accounts')
            .addColumn('user_id', 'varchar(64)', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
            .addColumn('name', 'varchar(64)', (c) => c.notNull().unique())
            .addColumn('display_name', 'varchar(255)', (c) => c.notNull())
            .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
            .addColumn('roles', 'text', (c) => c.notNull())
            .addColumn('disabled', 'smallint', (c) => c.notNull())
            .addColumn('created_at', millis, (c) => c.notNull())
            .addColumn('updated_at', millis, (c) => c.notNull()),
        ).execute();
        await table(
          kind,
          db.schema
            .createTable('bind_tickets')
            .addColumn('ticket_hash', 'char(64)', (c) => c.primaryKey())
            .addColumn('wechat', 'varchar(255)', (c) => c.notNull())
            .addColumn('unionid', 'varchar(255)')
            .addColumn('session_key', 'varchar(255)', (c) => c.notNull())
            .addColumn('expires_at', millis, (c) => c.notNull()),
        ).execute();
        await db.schema.createIndex('bind_tickets_expires_at').on('bind_tickets').column('expires_at').execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('bind_tickets').ifExists().execute();
        await db.schema.dropTable('accounts').ifExists().execute();
      },
    },
    // The operator's block on a user, and the audit trail (server/audit.ts).
    '2026-12-07-03-blocking-and-audit': {
      async up(db: Kysely<unknown>) {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        await db.schema.alterTable('users').addColumn('blocked_at', millis).execute();
        await db.schema.alterTable('users').addColumn('blocked_reason', 'varchar(500)').execute();
        const seq = kind === 'postgres' ? 'bigserial' : kind === 'mysql' ? 'bigint' : 'integer';
        await table(
          kind,
          db.schema
            .createTable('audit_events')
            .addColumn('seq', sql.raw(seq), (c) => (kind === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
            .addColumn('at', millis, (c) => c.notNull())
            .addColumn('user_id', 'varchar(64)')
            .addColumn('actor', 'varchar(16)', (c) => c.notNull())
            .addColumn('action', 'varchar(32)', (c) => c.notNull())
            .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
            .addColumn('client_network', 'varchar(64)')
            .addColumn('detail', 'text'),
        ).execute();
        // A user's trail newest first; the purge by age.
        await db.schema.createIndex('audit_events_user_id_at').on('audit_events').columns(['user_id', 'at']).execute();
        await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('audit_events').ifExists().execute();
        await db.schema.alterTable('users').dropColumn('blocked_reason').execute();
        await db.schema.alterTable('users').dropColumn('blocked_at').execute();
      },
    },
    '2026-12-07-04-push-events': {
      async up(db: Kysely<unknown>) {
        await table(
          kind,
          db.schema
            .createTable('push_events')
            .addColumn('dedupe_key', 'varchar(80)', (c) => c.primaryKey())
            .addColumn('kind', 'varchar(40)', (c) => c.notNull())
            .addColumn('openid', 'varchar(128)', (c) => c.notNull())
            .addColumn('revoked', 'varchar(255)', (c) => c.notNull())
            .addColumn('received_at', millis, (c) => c.notNull())
            .addColumn('state', 'varchar(8)', (c) => c.notNull())
            .addColumn('attempts', 'integer', (c) => c.notNull())
            .addColumn('claim', 'varchar(32)')
            .addColumn('claimed_until', millis, (c) => c.notNull())
            .addColumn('done_at', millis)
            .addColumn('outcome', 'varchar(16)'),
        ).execute();
        // What the sweep looks for (pending, claimable) and what the purge deletes (done, old).
        await db.schema.createIndex('push_events_state_claimed_until').on('push_events').columns(['state', 'claimed_until']).execute();
        await db.schema.createIndex('push_events_state_done_at').on('push_events').columns(['state', 'done_at']).execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.dropTable('push_events').ifExists().execute();
      },
    },
    // The index served no query: the sweep of dead sessions asks for either deadline passed (an OR
    // with the unindexed last_seen_at), which no database answers from one index. Each session
    // written or deleted paid a page of it: on SQLite a quarter of a login's session commit.
    '2026-12-07-05-sessions-without-expiry-index': {
      async up(db: Kysely<unknown>) {
        const drop = db.schema.dropIndex('sessions_expires_at');
        await (kind === 'mysql' ? drop.on('sessions') : drop).execute();
      },
      async down(db: Kysely<unknown>) {
        await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
      },
    },
  };
}

function migrator(db: Kysely<Database>, kind: DatabaseKind): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(kind) };
  return new Migrator({ db, provider, migrationTableName: MIGRATION_TABLE, migrationLockTableName: MIGRATION_LOCK_TABLE });
}

/** Applies what is pending; the names applied. Throws the first failure (its migration rolled back where the database can). */
export async function migrateToLatest(db: Kysely<Database>, kind: DatabaseKind): Promise<string[]> {
  const { error, results = [] } = await migrator(db, kind).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

export interface SchemaStatus {
  /** In the code, not applied to the database. */
  pending: string[];
  /** Applied to the database, unknown to this code (a newer release migrated it). */
  unknown: string[];
}

/** How the database's schema compares with the code's migrations. */
export async function schemaStatus(db: Kysely<Database>, kind: DatabaseKind): Promise<SchemaStatus> {
  const known = Object.keys(migrations(kind));
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const applied = tables.some((t) => t.name === MIGRATION_TABLE)
    ? (await (db as unknown as Kysely<Record<typeof MIGRATION_TABLE, { name: string }>>).selectFrom(MIGRATION_TABLE).select('name').execute()).map((row) => row.name)
    : [];
  return { pending: known.filter((name) => !applied.includes(name)), unknown: applied.filter((name) => !known.includes(name)) };
}

/** Thrown at start when the schema does not match the code; says what to do. */
export class SchemaMismatchError extends Error {
  constructor(status: SchemaStatus, where: string) {
    super(
      status.unknown.length > 0
        ? `the database (${where}) has migrations this release does not know (${status.unknown.join(', ')}): it was migrated by a newer release; run that release, or restore a backup from before it`
        : `the database (${where}) is behind this release: ${status.pending.length} migration(s) pending (${status.pending.join(', ')}); run \`${MIGRATE_COMMAND}\` with the same DATABASE_URL, then start again`,
    );
    this.name = 'SchemaMismatchError';
  }
}

/** A table of ours on MySQL that would not keep 4-byte characters. */
export class CharsetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CharsetError';
  }
}

/**
 * MySQL only: every column of every table of ours must be utf8mb4. A table created by hand (or
 * converted) in `utf8`/`utf8mb3` or latin1 would store emoji as `?` or refuse them; the start
 * stops with the statement that converts it.
 */
export async function checkCharsets(db: Kysely<Database>): Promise<void> {
  const { rows } = await sql<{ table_name: string; character_set_name: string }>`
    select distinct table_name as table_name, character_set_name as character_set_name
    from information_schema.columns
    where table_schema = database() and character_set_name is not null and character_set_name <> 'utf8mb4'
      and table_name in (${sql.join(TABLES)})
    order by table_name`.execute(db);
  if (rows.length === 0) return;
  const tables = [...new Set(rows.map((row) => row.table_name))];
  throw new CharsetError(
    `MySQL tables in a charset other than utf8mb4 (${rows.map((row) => `${row.table_name}: ${row.character_set_name}`).join(', ')}) would break 4-byte characters such as emoji; ` +
      `convert them first: ${tables.map((name) => `ALTER TABLE \`${name}\` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;`).join(' ')}`,
  );
}
