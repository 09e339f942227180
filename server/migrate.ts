/**
 * `npm run migrate`: brings DATABASE_URL's database (the embedded data/wx-login.db when unset) to
 * this code's schema. Idempotent: a database already current is left as it is. Reads only the
 * DATABASE_ variables, so that it runs without the server's WeChat settings.
 */
import { EMBEDDED_DATABASE_URL } from './config';
import { describeLocation, openDatabase, parseDatabaseUrl, withoutPassword } from './database';
import { checkCharsets, migrateToLatest, schemaStatus } from './stores/sql/migrations';

async function main(): Promise<number> {
  const raw = process.env.DATABASE_URL?.trim() || EMBEDDED_DATABASE_URL;
  const location = parseDatabaseUrl(raw);
  if (!location) {
    process.stderr.write('DATABASE_URL must be sqlite:PATH, postgres://... or mysql://...\n');
    return 1;
  }
  const where = describeLocation(location);
  const { db, kind } = openDatabase(location, { poolSize: 1, commandTimeoutMs: 30_000 });
  try {
    const status = await schemaStatus(db, kind);
    if (status.unknown.length > 0) {
      process.stderr.write(`${where} has migrations this release does not know (${status.unknown.join(', ')}): it was migrated by a newer release; nothing done\n`);
      return 1;
    }
    const applied = await migrateToLatest(db, kind);
    if (kind === 'mysql') await checkCharsets(db);
    process.stdout.write(applied.length > 0 ? `${where}: applied ${applied.join(', ')}\n` : `${where}: already current, nothing to do\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`migrating ${where} failed: ${withoutPassword(error instanceof Error ? error.message : String(error), location)}\n`);
    return 1;
  } finally {
    await db.destroy().catch(() => undefined);
  }
}

main().then((code) => process.exit(code));
