/**
 * A database named by a DATABASE_URL, opened and migrated to this release's schema: what the
 * benchmarks and the tests start from. (The server checks the schema first and migrates only
 * with DATABASE_MIGRATE=auto: stores/from-config.ts.)
 */
import { openDatabase, parseDatabaseUrl, type DatabaseOptions, type OpenDatabase } from '../server/database';
import { migrateToLatest } from '../server/stores/sql/migrations';

export async function openMigrated(url: string, options: DatabaseOptions = {}): Promise<OpenDatabase> {
  const location = parseDatabaseUrl(url);
  if (!location) throw new Error(`not a DATABASE_URL: ${url}`);
  const opened = openDatabase(location, options);
  try {
    await migrateToLatest(opened.db, opened.kind);
  } catch (error) {
    // The pool would keep the process alive (and, on SQLite, the file open) with nobody to close it.
    await opened.db.destroy().catch(() => undefined);
    throw error;
  }
  return opened;
}
