/**
 * `npm run admin -- <command>`: the operator's controls, on the database (and Redis) the server
 * uses, read from the same environment as `npm run accounts` reads it (DATABASE_URL, REDIS_URL, ...:
 * stores.ts). No HTTP surface: whoever can run this can already read the database. Safe while the
 * server runs: see admin-actions.ts.
 *
 * Exit status: 0 done, 1 failed (no such user, storage unavailable, an action not recorded in the
 * audit trail), 2 the command line was wrong.
 */
import { adminConfig, failureText, parseCommand, runCommand, USAGE } from './admin-arguments';
import { configuredAvatarFiles } from '../avatars';
import { ConfigError } from '../config';
import { createOperator, NoSuchUserError, UsageError } from './admin-actions';
import { openOperatorStores } from './stores';
import type { Stores } from '../stores/types';

async function main(argv: string[]): Promise<number> {
  const warn = (what: string) => (error: Error) => process.stderr.write(`${what}: ${error.message}\n`);
  let stores: Stores | undefined;
  try {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${USAGE}\n`);
      return argv.length === 0 ? 2 : 0;
    }
    // The command line first: a mistake in it is told without touching the database.
    const command = parseCommand(argv);
    const config = adminConfig(process.env);
    stores = await openOperatorStores(config, warn('store'));
    // The avatar files a deletion removes: the server's folder, its URLs under the server's origin.
    const files = configuredAvatarFiles(config, (name, error) => process.stderr.write(`deleting the avatar file ${name} failed: ${error.message}; it stays on disk\n`));
    const output = await runCommand(command, createOperator({ stores, now: Date.now, files }));
    process.stdout.write(command.json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text.join('\n')}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n${USAGE}\n`);
      return 2;
    }
    if (error instanceof ConfigError || error instanceof NoSuchUserError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    process.stderr.write(`${failureText(error)}\n`);
    return 1;
  } finally {
    await stores?.close().catch(() => undefined);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
