/**
 * `npm run accounts -- <command>`: the platform accounts of bind mode (ACCOUNT_MODE=bind), in the
 * database the server uses (DATABASE_URL; sessions in Redis with REDIS_URL), also while the server
 * runs. See accounts-arguments.ts for the commands and exit codes, docs/deploying.md for the guide.
 */
import { ConfigError } from '../config';
import { withoutUrlPassword } from '../url-password';
import { describeFailure, runAccountCommand } from './accounts-actions';
import { CommandError, EXIT, parseCommand, USAGE } from './accounts-arguments';
import { PasswordInputError, readNewPassword } from './password-input';
import { operatorConfig, openOperatorStores } from './stores';

/** A failure's message with every connection URL's password cut out (drivers are not known to echo them; this makes sure). */
function redacted(message: string, env: Record<string, string | undefined>): string {
  let text = message;
  for (const url of [env.DATABASE_URL, env.REDIS_URL]) {
    try {
      if (url) text = withoutUrlPassword(text, url.trim());
    } catch {
      // Not a URL (sqlite:…): there is no password in it.
    }
  }
  return text;
}

async function accountsMain(argv: readonly string[], env: Record<string, string | undefined>, stdio: { stdin: NodeJS.ReadStream; stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const fail = (message: string, code: number) => {
    stdio.stderr.write(`accounts: ${message}\n`);
    return code;
  };
  let command;
  let config;
  try {
    command = parseCommand(argv);
    if (command.kind === 'help') {
      stdio.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    config = operatorConfig(env);
  } catch (error) {
    if (error instanceof CommandError) return fail(error.message, error.exitCode);
    if (error instanceof ConfigError) return fail(error.problems.join('\n  '), EXIT.usage);
    throw error;
  }

  let stores;
  try {
    stores = await openOperatorStores(config, () => undefined);
  } catch (error) {
    return fail(redacted(error instanceof Error ? error.message : String(error), env), EXIT.storeFailed);
  }
  try {
    const output = await runAccountCommand(command, { stores, newPassword: () => readNewPassword({ input: stdio.stdin, prompts: stdio.stderr }) });
    stdio.stdout.write(output);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommandError) return fail(redacted(error.message, env), error.exitCode);
    if (error instanceof PasswordInputError) return fail(error.message, error.interrupted ? EXIT.interrupted : EXIT.passwordRefused);
    return fail(`failed: ${redacted(describeFailure(error), env)}`, EXIT.storeFailed);
  } finally {
    await stores.close().catch(() => undefined);
  }
}

accountsMain(process.argv.slice(2), process.env, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`accounts: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(EXIT.storeFailed);
  },
);
