/**
 * The stores an operator command works on: those of the server it administers, found as the server
 * finds them (server/stores/from-config.ts), from the variables that say where they are. A command
 * run while the server runs changes what the server reads: users and accounts in DATABASE_URL's
 * database; sessions there too, or in Redis with REDIS_URL, so that ending a user's sessions ends
 * them for every instance.
 */
import { ConfigError, EMBEDDED_DATABASE_URL, loadConfig, type Config } from '../config';
import { storesFromConfig } from '../stores/from-config';
import type { Stores } from '../stores/types';

/**
 * Where the stores are, and how to talk to them. The command needs none of the WeChat settings
 * (it runs where the operator is, without WX_SECRET), so only these are read from the environment.
 */
const STORE_VARIABLES = [
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'DATABASE_COMMAND_TIMEOUT_MS',
  'SQLITE_SYNCHRONOUS',
  'DATABASE_PREPARED_STATEMENTS',
  'REDIS_URL',
  'REDIS_COMMAND_TIMEOUT_MS',
  'SESSION_IDLE_SECONDS',
  'SESSION_LIFETIME_SECONDS',
  'SESSION_KEY_ENCRYPTION_KEY',
] as const;

/**
 * The configuration for the stores, by the server's own rules (loadConfig: the same checks and
 * messages). Throws ConfigError when DATABASE_URL is missing: an operator command never falls back
 * to a database of its own choosing, where the server would not see what it did.
 */
export function operatorConfig(env: Record<string, string | undefined>): Config {
  const databaseUrl = env.DATABASE_URL?.trim();
  if (!databaseUrl) {
    throw new ConfigError([
      `DATABASE_URL is not set: name the server's database (for \`npm start\`'s, DATABASE_URL=${EMBEDDED_DATABASE_URL} in the project folder)`,
    ]);
  }
  if (databaseUrl === 'memory:') throw new ConfigError(["DATABASE_URL=memory: is a server's own memory, which no other process can reach: name the server's database"]);
  const chosen: Record<string, string> = { WX_MODE: 'simulated' };
  for (const name of STORE_VARIABLES) {
    const value = env[name];
    if (value !== undefined) chosen[name] = value;
  }
  // Never migrates: the schema is the server's (`npm run migrate`), and a command refuses a database
  // behind or ahead of its code as the server does.
  return { ...loadConfig(chosen), databaseMigrate: 'check' };
}

/**
 * The server's stores, as storesFromConfig opens them. The command only reads and deletes what the
 * server sealed, never seals anything, so the seal key is not needed to be the server's.
 */
export function openOperatorStores(config: Config, warn: (error: Error) => void): Promise<Stores> {
  return storesFromConfig(config, Date.now, { database: warn, redis: warn });
}
