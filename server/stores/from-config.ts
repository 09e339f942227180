/**
 * The one place that chooses the stores from the configuration: the users in DATABASE_URL's
 * database (in memory in simulated mode without one); sessions, rate limits and the access token
 * in Redis with REDIS_URL, in that same database otherwise.
 */
import type { Config } from '../config';
import { describeLocation, openDatabase, withoutPassword, type DatabaseLocation, type OpenDatabase } from '../database';
import { createMemoryStores } from './memory';
import { createRedisStores } from './redis';
import { createSqlStores } from './sql';
import { CharsetError, checkCharsets, migrateToLatest, SchemaMismatchError, schemaStatus } from './sql/migrations';
import type { Clock, Stores } from './types';

/** The database could not be used at start: says where (never the password) and why. */
export class DatabaseUnreachableError extends Error {
  constructor(location: DatabaseLocation, cause: unknown) {
    const why = cause instanceof Error ? cause.message || (cause as { code?: string }).code || cause.name : String(cause);
    super(`cannot use the database at DATABASE_URL (${describeLocation(location)}): ${withoutPassword(why, location)}`);
    this.name = 'DatabaseUnreachableError';
  }
}

/**
 * Opens DATABASE_URL's database and makes sure its schema is this code's: migrated first with
 * DATABASE_MIGRATE=auto, else refused when behind or ahead (SchemaMismatchError names the command).
 * On MySQL, a table of ours in a charset other than utf8mb4 is refused too.
 */
export async function openCheckedDatabase(config: Config, location: DatabaseLocation, onError: (error: Error) => void): Promise<OpenDatabase> {
  const opened = openDatabase(location, {
    poolSize: config.databasePoolSize,
    commandTimeoutMs: config.databaseCommandTimeoutMs,
    sqliteSynchronous: config.sqliteSynchronous,
    preparedStatements: config.databasePreparedStatements,
    onError,
  });
  try {
    let status = await schemaStatus(opened.db, opened.kind);
    // A schema ahead of the code is never touched: a newer release migrated it.
    if (config.databaseMigrate === 'auto' && status.unknown.length === 0 && status.pending.length > 0) {
      await migrateToLatest(opened.db, opened.kind);
      status = await schemaStatus(opened.db, opened.kind);
    }
    if (status.pending.length > 0 || status.unknown.length > 0) throw new SchemaMismatchError(status, describeLocation(location));
    if (opened.kind === 'mysql') await checkCharsets(opened.db);
    return opened;
  } catch (error) {
    await opened.db.destroy().catch(() => undefined);
    if (error instanceof SchemaMismatchError || error instanceof CharsetError) throw error;
    throw new DatabaseUnreachableError(location, error);
  }
}

export interface StoreWarnings {
  database(error: Error): void;
  redis(error: Error): void;
}

export async function storesFromConfig(config: Config, now: Clock, warn: StoreWarnings): Promise<Stores> {
  const options = { now, sessionIdleMs: config.sessionIdleMs, maxSessionsPerUser: config.maxSessionsPerUser };
  const database =
    config.database === null
      ? createMemoryStores(options)
      : createSqlStores({
          ...(await openCheckedDatabase(config, config.database, warn.database)),
          ...options,
          sealKey: config.sessionKeySealKey,
          appId: config.wechat.appId,
          commandTimeoutMs: config.databaseCommandTimeoutMs,
        });
  if (!config.redisUrl) return database;
  try {
    // Sessions, limits and the access token in Redis; users stay in the database.
    return await createRedisStores({
      ...options,
      url: config.redisUrl,
      commandTimeoutMs: config.redisCommandTimeoutMs,
      sealKey: config.sessionKeySealKey,
      onError: warn.redis,
      userDatabase: database,
    });
  } catch (error) {
    await database.close();
    throw error;
  }
}
