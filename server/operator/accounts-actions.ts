/**
 * What each `npm run accounts` command does to the stores the server uses. Returns what the
 * command prints; refusals are CommandErrors with their exit code. Nothing printed carries a
 * password or a hash.
 */
import { DEFAULT_ROLE } from '../access';
import { hashPassword } from '../passwords';
import type { PlatformAccount, Stores } from '../stores/types';
import { CommandError, EXIT, type AccountCommand } from './accounts-arguments';
import { accountsJson, accountsTable } from './accounts-table';

export interface AccountsContext {
  stores: Pick<Stores, 'accounts' | 'sessions'>;
  /** The new password, read and checked (password-input.ts); asked only once the command knows it will use it. */
  newPassword(): Promise<string>;
  /** passwords.ts's hash by default; tests may pass a cheaper one. */
  hash?(password: string): Promise<string>;
}

const noSuchAccount = (name: string) => new CommandError(`no account named ${JSON.stringify(name)} (\`npm run accounts -- list\` shows them)`, EXIT.noSuchAccount);
const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** What a failure says: its own words, and the driver's beneath them (a store's 503 wraps the cause). */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

/**
 * Ends every session of the account's user, once its account row says why. Should the session
 * store fail there, the change stands and the operator is told what did not happen.
 */
async function endSessions(stores: AccountsContext['stores'], userId: string, done: string): Promise<number> {
  try {
    return await stores.sessions.deleteAllOf(userId);
  } catch (error) {
    throw new CommandError(`${done}, but its sessions could not be ended: ${describeFailure(error)}; run the command again`, EXIT.storeFailed);
  }
}

async function existing(stores: AccountsContext['stores'], name: string): Promise<PlatformAccount> {
  const account = await stores.accounts.byName(name);
  if (!account) throw noSuchAccount(name);
  return account;
}

/** Runs one command (not `help`); the text to print on standard output. */
export async function runAccountCommand(command: Exclude<AccountCommand, { kind: 'help' }>, { stores, newPassword, hash = hashPassword }: AccountsContext): Promise<string> {
  switch (command.kind) {
    case 'list': {
      const accounts = await stores.accounts.list();
      return command.json ? accountsJson(accounts) : accountsTable(accounts, DEFAULT_ROLE);
    }
    case 'add': {
      // Refused before the password is asked for; create() refuses it again should another add win meanwhile.
      if (await stores.accounts.byName(command.name)) throw new CommandError(`an account named ${JSON.stringify(command.name)} exists already (\`passwd\` changes its password)`, EXIT.accountExists);
      const passwordHash = await hash(await newPassword());
      const created = await stores.accounts.create({ name: command.name, displayName: command.displayName, roles: command.roles, passwordHash });
      if (!created.ok) throw new CommandError(`an account named ${JSON.stringify(command.name)} was added meanwhile; nothing changed`, EXIT.accountExists);
      // AUDIT (operator): account created — the lead wires the audit trail here.
      const roles = command.roles.length > 0 ? command.roles.join(', ') : `${DEFAULT_ROLE} (the default role)`;
      return `added ${command.name} (${command.displayName}), roles: ${roles}; it binds from the mini-program's 绑定已有账号 page\n`;
    }
    case 'passwd': {
      await existing(stores, command.name);
      const passwordHash = await hash(await newPassword());
      if (!(await stores.accounts.setPasswordHash(command.name, passwordHash))) throw noSuchAccount(command.name);
      // AUDIT (operator): account password changed.
      return `password of ${command.name} changed: the next bind needs the new one (a WeChat user already bound stays bound)\n`;
    }
    case 'disable': {
      const before = await existing(stores, command.name);
      const after = await stores.accounts.setDisabled(command.name, true);
      if (!after) throw noSuchAccount(command.name);
      // After the flag: a login racing with this either ends before it (its session is ended here) or is refused.
      const ended = await endSessions(stores, after.userId, `disabled ${command.name} (it can no longer bind or log in)`);
      // AUDIT (operator): account disabled, `ended` sessions ended.
      return `${before.disabled ? `${command.name} was disabled already` : `disabled ${command.name}`}: it can no longer bind or log in; ${plural(ended, 'session')} ended\n`;
    }
    case 'enable': {
      const before = await existing(stores, command.name);
      if (!(await stores.accounts.setDisabled(command.name, false))) throw noSuchAccount(command.name);
      // AUDIT (operator): account enabled.
      return before.disabled ? `enabled ${command.name}\n` : `${command.name} was enabled already\n`;
    }
    case 'roles': {
      await existing(stores, command.name);
      if (!(await stores.accounts.setRoles(command.name, command.roles))) throw noSuchAccount(command.name);
      // AUDIT (operator): account roles changed.
      return `${command.name} now has roles: ${command.roles.join(', ')} (menus and permissions follow at its next request)\n`;
    }
    case 'unbind': {
      const account = await existing(stores, command.name);
      const removed = await stores.accounts.unbind(account.userId);
      const ended = await endSessions(stores, account.userId, `unbound ${command.name}`);
      // AUDIT (operator): account unbound by the operator.
      return removed > 0
        ? `unbound ${command.name} from its WeChat user: ${plural(ended, 'session')} ended; the next login of that WeChat user must bind again\n`
        : `${command.name} was bound to no WeChat user; ${plural(ended, 'session')} ended\n`;
    }
  }
}
