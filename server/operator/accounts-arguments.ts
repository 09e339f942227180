/**
 * What `npm run accounts -- <command>` was asked to do: its command line read and checked (account
 * names, display names, roles against access.ts), before anything is opened. The password is
 * never among the arguments: a command line is readable by every user of the machine.
 */
import { parseArgs } from 'node:util';
import { ROLES } from '../access';

/** Exit codes, for scripts: each failure the command can meet has its own. */
export const EXIT = {
  ok: 0,
  /** The database or Redis could not be used (unreachable, schema behind or ahead, a failed statement). */
  storeFailed: 1,
  /** The command line is wrong: unknown command, missing or extra arguments, --password, an unknown role, no DATABASE_URL. */
  usage: 2,
  /** No account of that name. */
  noSuchAccount: 3,
  /** `add`: an account of that name exists. */
  accountExists: 4,
  /** The password is refused (empty, too short, too long, the two entries differ, no line on standard input). */
  passwordRefused: 5,
  /** Ctrl+C at the password prompt, as shells report an interrupt. */
  interrupted: 130,
} as const;

export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export const USAGE = `Usage: npm run accounts -- <command>   (the platform accounts of bind mode, in DATABASE_URL's database)

  add <account> --name <display name> [--roles <role,…>]
                          a new account; its password is asked for (see below); without --roles the default role
  list [--json]           every account: name, display name, roles, disabled, bound to a WeChat user
  passwd <account>        sets a new password (the binding and its sessions stay)
  disable <account>       the account can no longer bind or log in, and every session of its user ends now
  enable <account>        undoes disable
  roles <account> <role,…>
                          replaces the account's roles (they apply from the user's next request)
  unbind <account>        detaches the WeChat user bound to the account (a lost phone) and ends its sessions

Roles: ${Object.keys(ROLES).join(', ')} (server/access.ts).
The password is typed at a hidden prompt, twice, on a terminal; otherwise it is the first line of
standard input. It is never taken from the command line. At least 8 characters.
Exit codes: 0 done, 1 database or Redis failed, 2 wrong command line, 3 no such account,
4 account exists, 5 password refused, 130 interrupted.`;

export type AccountCommand =
  | { kind: 'help' }
  | { kind: 'add'; name: string; displayName: string; roles: string[] }
  | { kind: 'list'; json: boolean }
  | { kind: 'passwd' | 'disable' | 'enable' | 'unbind'; name: string }
  | { kind: 'roles'; name: string; roles: string[] };

/** The longest account name and display name taken: an account name is a staff or member number, not prose. */
export const MAX_NAME_LENGTH = 64;

const usage = (message: string) => new CommandError(`${message}\n\n${USAGE}`, EXIT.usage);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** An account name: what the user types on the bind page, so no spaces and nothing invisible. */
export function checkAccountName(raw: string): string {
  const name = raw.normalize('NFC');
  if (name.length === 0) throw usage('the account name is empty');
  // Counted as the bind route counts it (UTF-16 units), so that every name added here can be typed there.
  if (name.length > MAX_NAME_LENGTH) throw usage(`the account name is longer than ${MAX_NAME_LENGTH} characters`);
  if (/\s/u.test(name) || CONTROL.test(name)) throw usage(`the account name ${JSON.stringify(name)} contains a space or a control character: it is typed on the bind page as one word`);
  if (name.startsWith('-')) throw usage(`the account name ${JSON.stringify(name)} starts with "-": write the options after it`);
  return name;
}

function checkDisplayName(raw: string): string {
  const name = raw.normalize('NFC').trim();
  if (name.length === 0) throw usage('--name is empty: give the person\'s name as the platform knows it (张三)');
  if ([...name].length > MAX_NAME_LENGTH) throw usage(`--name is longer than ${MAX_NAME_LENGTH} characters`);
  if (CONTROL.test(name)) throw usage('--name contains a control character');
  return name;
}

/** `staff,member` → ['staff', 'member']: each once, each one access.ts defines. */
export function checkRoles(raw: string): string[] {
  const roles = [...new Set(raw.split(',').map((role) => role.trim()).filter((role) => role !== ''))];
  if (roles.length === 0) throw usage(`no role given: name one or more of ${Object.keys(ROLES).join(', ')}, separated by commas`);
  const unknown = roles.filter((role) => !Object.prototype.hasOwnProperty.call(ROLES, role));
  if (unknown.length > 0) {
    throw usage(`unknown role${unknown.length > 1 ? 's' : ''} ${unknown.map((role) => JSON.stringify(role)).join(', ')}: the roles are ${Object.keys(ROLES).join(', ')} (server/access.ts)`);
  }
  return roles;
}

/** Any spelling of a password option: refused with the reason, before anything else is read. */
const PASSWORD_OPTION = /^(--?p|--?pass(word|wd)?|--?pw|--?secret)(=|$)/i;

/** The command line after `npm run accounts --`, understood; throws CommandError (exit 2) with what is wrong. */
export function parseCommand(argv: readonly string[]): AccountCommand {
  if (argv.some((arg) => PASSWORD_OPTION.test(arg))) {
    throw new CommandError(
      'a password is never taken from the command line: every user of this machine can read a command line (ps, /proc) and the shell keeps it in its history. ' +
        'Run the command without it: it asks on a terminal, or reads one line of standard input (e.g. from a file: < password.txt).',
      EXIT.usage,
    );
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: { name: { type: 'string' }, roles: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const [kind, ...operands] = positionals;
  if (values.help || kind === 'help' || kind === undefined) {
    if (kind === undefined && !values.help) throw usage('no command given');
    return { kind: 'help' };
  }
  if (!['add', 'list', 'passwd', 'disable', 'enable', 'unbind', 'roles'].includes(kind)) throw usage(`unknown command ${/^[a-z-]{1,16}$/.test(kind) ? JSON.stringify(kind) : '(not shown, in case it is a password)'}`);
  const allowed: Record<string, readonly string[]> = { add: ['name', 'roles'], list: ['json'] };
  const misplaced = Object.keys(values).filter((option) => !(allowed[kind] ?? []).includes(option));
  if (misplaced.length > 0) throw usage(`${kind} takes no --${misplaced[0]}`);
  const expected = kind === 'list' ? 0 : kind === 'roles' ? 2 : 1;
  if (operands.length < expected) throw usage(`${kind} needs ${expected === 2 ? 'an account and its roles' : 'an account'}`);
  // Not echoed: a stray word is most often a password typed where it does not belong.
  if (operands.length > expected) throw usage(`${kind} takes ${expected === 0 ? 'no account' : expected === 1 ? 'one account' : 'an account and its roles'}; ${operands.length - expected} more argument(s) given (not shown, in case one is a password)`);

  if (kind === 'list') return { kind, json: values.json === true };
  const name = checkAccountName(operands[0]);
  if (kind === 'add') {
    if (values.name === undefined) throw usage('add needs --name <display name>');
    return { kind, name, displayName: checkDisplayName(values.name), roles: values.roles === undefined ? [] : checkRoles(values.roles) };
  }
  if (kind === 'roles') return { kind, name, roles: checkRoles(operands[1]) };
  return { kind: kind as 'passwd' | 'disable' | 'enable' | 'unbind', name };
}
