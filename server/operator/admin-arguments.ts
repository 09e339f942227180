/**
 * The command line of `npm run admin` (server/admin.ts runs it): its parsing, what each command
 * prints, and where its configuration comes from. The actions themselves are in operator.ts.
 */
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config';
import { operatorConfig } from './stores';
import { ApiError } from '../errors';
import { checkReason, MAX_AUDIT_ENTRIES, MAX_FOUND, parsePhone, UsageError, type Operator, type UserDetails, type UserSummary } from './admin-actions';
import type { AuditEntry } from '../stores/types';

export const USAGE = `usage: npm run admin -- <command> [--json]
  find --phone <number>          the user holding a phone number (13800138000, +852 51234567)
  find --nickname <text> [--limit N]   users whose nickname contains text (at most ${MAX_FOUND})
  show <userId>                  the user, identities, block and live sessions
  block <userId> --reason <text> block: every session ends, logins answer 403 USER_BLOCKED
  unblock <userId>               lift a block
  logout-all <userId>            end every session of the user
  delete <userId>                delete the account, as the user's own deletion does
  audit <userId> [--limit N]     the user's audit trail, newest first (at most ${MAX_AUDIT_ENTRIES})
The database and Redis are the server's: DATABASE_URL (required), REDIS_URL and the rest of its environment.`;

/**
 * Where the stores are, as `npm run accounts` finds them (DATABASE_URL required: never a database
 * of the command's own choosing), and where a deletion finds the user's avatar file: the server's
 * UPLOAD_DIR, and the origin its avatar URLs carry (PUBLIC_URL, else HOST and PORT on this machine).
 */
export function adminConfig(env: Record<string, string | undefined>): Config {
  const config = operatorConfig(env);
  const files: Record<string, string> = { WX_MODE: 'simulated' };
  for (const name of env.PUBLIC_URL?.trim() ? ['UPLOAD_DIR', 'PUBLIC_URL'] : ['UPLOAD_DIR', 'HOST', 'PORT']) {
    const value = env[name];
    if (value !== undefined) files[name] = value;
  }
  const { uploadDir, publicUrl, host, port } = loadConfig(files);
  return { ...config, uploadDir, publicUrl, host, port };
}

const time = (ms: number) => new Date(ms).toISOString();

function userLines(user: UserSummary | UserDetails): string[] {
  return [
    `user ${user.id}`,
    `  created   ${time(user.createdAt)}`,
    `  nickname  ${JSON.stringify(user.nickname)}`,
    `  avatar    ${user.avatarUrl || '-'}`,
    `  wechat    ${user.identities.wechat || '-'}`,
    `  unionid   ${user.identities.unionid ?? '-'}`,
    `  phone     ${user.identities.phone ?? '-'}`,
    `  roles     ${user.roles.join(', ')}`,
    `  blocked   ${user.blocked ? `since ${time(user.blocked.at)}: ${JSON.stringify(user.blocked.reason)}` : 'no'}`,
    ...('liveSessions' in user ? [`  sessions  ${user.liveSessions} live`] : []),
  ];
}

function auditLine(entry: AuditEntry): string {
  const detail = entry.detail === null ? '' : ` ${JSON.stringify(entry.detail)}`;
  return `${time(entry.at)}  ${entry.action.padEnd(16)} ${entry.outcome.padEnd(8)} by ${entry.actor.padEnd(8)} ${entry.clientNetwork ?? '-'}${detail}`;
}

/** What a command prints: its JSON (--json), and its text. */
export interface Output {
  json: unknown;
  text: string[];
}

function limitFrom(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) throw new UsageError(`--limit must be an integer from 1 to ${max}`);
  return n;
}

/** A command line, understood: which command, on which user, with which options. */
export interface Command {
  name: 'find' | 'show' | 'block' | 'unblock' | 'logout-all' | 'delete' | 'audit';
  userId: string;
  phone?: string;
  nickname?: string;
  reason?: string;
  limit?: string;
  json: boolean;
}

const COMMANDS: Command['name'][] = ['find', 'show', 'block', 'unblock', 'logout-all', 'delete', 'audit'];

/** Reads a command line (argv after `npm run admin --`); UsageError for anything that is not one. Touches nothing. */
export function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { phone: { type: 'string' }, nickname: { type: 'string' }, reason: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { positionals, values } = parsed;
  const [name, userId = '', ...extra] = positionals;
  if (name === undefined) throw new UsageError('no command given');
  if (!(COMMANDS as string[]).includes(name)) throw new UsageError(`unknown command ${JSON.stringify(name)}`);
  if (extra.length > 0) throw new UsageError(`unexpected ${JSON.stringify(extra[0])}`);
  const command = { name: name as Command['name'], userId, ...values, json: values.json === true };
  if (name === 'find') {
    if (userId) throw new UsageError(`find takes --phone or --nickname, not ${JSON.stringify(userId)}`);
    if ((values.phone === undefined) === (values.nickname === undefined)) throw new UsageError('find needs exactly one of --phone <number> and --nickname <text>');
    if (values.phone !== undefined) parsePhone(values.phone);
    if (values.nickname === '') throw new UsageError('--nickname needs the text to look for');
  } else if (!userId) {
    throw new UsageError(`${name} needs a user id`);
  }
  if (name === 'block') checkReason(values.reason);
  if (values.limit !== undefined) limitFrom(values.limit, 0, name === 'audit' ? MAX_AUDIT_ENTRIES : MAX_FOUND);
  return command;
}

/** Runs a command with an operator; what to print. */
export async function runCommand(command: Command, operator: Operator): Promise<Output> {
  const { userId } = command;
  switch (command.name) {
    case 'find': {
      const users = command.phone !== undefined ? await operator.findByPhone(command.phone) : await operator.findByNickname(command.nickname ?? '', limitFrom(command.limit, 20, MAX_FOUND));
      return { json: users, text: users.length === 0 ? ['no user found'] : users.flatMap(userLines) };
    }
    case 'show': {
      const user = await operator.show(userId);
      return { json: user, text: userLines(user) };
    }
    case 'block': {
      const { user, sessionsEnded } = await operator.block(userId, command.reason ?? '');
      return { json: { user, sessionsEnded }, text: [`blocked ${user.id}; ${sessionsEnded} live session(s) ended`] };
    }
    case 'unblock': {
      const { user, wasBlocked } = await operator.unblock(userId);
      return { json: { user, wasBlocked }, text: [wasBlocked ? `unblocked ${user.id}` : `${user.id} was not blocked; nothing changed`] };
    }
    case 'logout-all': {
      const { sessionsEnded } = await operator.logoutAll(userId);
      return { json: { sessionsEnded }, text: [`${sessionsEnded} live session(s) of ${userId} ended`] };
    }
    case 'delete': {
      const { kept, sessionsEnded } = await operator.delete(userId);
      const what = kept === 'platform-account' ? '; its platform account stays, unbound' : '';
      return { json: { deleted: true, kept, sessionsEnded }, text: [`deleted ${userId}; ${sessionsEnded} live session(s) ended${what}`] };
    }
    case 'audit': {
      const entries = await operator.audit(userId, limitFrom(command.limit, 50, MAX_AUDIT_ENTRIES));
      return { json: entries, text: entries.length === 0 ? [`no audit entries for ${userId}`] : entries.map(auditLine) };
    }
  }
}

/** Why a failure happened, for stderr: a store's 503 names its cause (the driver's message). */
export function failureText(error: unknown): string {
  if (error instanceof ApiError && error.code === 'STORE_UNAVAILABLE') {
    const cause = (error as { cause?: unknown }).cause;
    return `storage is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

