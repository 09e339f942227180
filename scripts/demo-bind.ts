/**
 * `npm run demo -- --bind`: bind mode's journey, step by step, against a server started with
 * `ACCOUNT_MODE=bind npm start`: a WeChat user the platform does not know logs in and is asked to
 * bind, binds with the demo account, sees the menus its roles grant (审批 for staff) and the
 * approvals, unbinds, and is asked to bind again. The real auth service runs on the Node wx
 * adapter, as in the open-mode walk (demo.ts).
 */
import { parseArgs } from 'node:util';
import { createAuth, isAuthError, type AuthClient, type BindTicket } from '../miniprogram/auth/index';
import { serverErrorCodeOf } from '../miniprogram/utils/error-message';
import { DEMO_ACCOUNT } from '../server/demo-account';
import { readPassword } from '../server/operator/password-input';
import { createNodeWx } from '../tools/node-wx';
import type { ApiErrorCode, ApprovalsResponse, SessionResponse, User } from '../typings/api';
import { base, serverAnswers, short, step } from './demo-steps';

/** The platform account the walk binds with. */
export interface DemoCredentials {
  account: string;
  password: string;
}

/**
 * The account to bind with: `--account <name>` or the demo account; its password typed at a hidden
 * prompt, or one line of standard input (npm start prints the demo account's, fresh on each start).
 * Never from the command line, which every user of the machine can read.
 */
export async function credentialsFromCommandLine(argv: readonly string[]): Promise<DemoCredentials> {
  const { values } = parseArgs({ args: [...argv], options: { bind: { type: 'boolean' }, account: { type: 'string' }, password: { type: 'string' } }, strict: true });
  if (values.password !== undefined) throw new Error('--password: a password is never taken from the command line (every user of this machine can read it); type it at the prompt, or give it as one line on standard input');
  const account = values.account ?? DEMO_ACCOUNT;
  const password = await readPassword({ input: process.stdin, prompts: process.stderr }, { prompt: `Password of ${account} (npm start printed the demo account's): ` });
  return { account, password };
}

/**
 * One WeChat user for every walk: a walk stopped before it unbound (Ctrl+C) leaves the demo
 * account bound to this user, whom the next walk then finds logged in and unbinds first, rather
 * than meeting ACCOUNT_ALREADY_BOUND.
 */
const DEMO_WECHAT_USER = 'demo-bind-walk';

const clock = (epochMs: number) => new Date(epochMs).toISOString().slice(11, 19);

const ACCOUNTS_COMMAND = 'DATABASE_URL=sqlite:data/wx-login.db npm run accounts --';

/** What the walk says when the server refuses its bind, by the server's code: what it means and what to do. */
const BIND_REFUSALS: Partial<Record<ApiErrorCode, (account: string) => string>> = {
  INVALID_CREDENTIALS: (account) => `the account or the password is wrong (npm start prints the demo account's password, a fresh one on every start; for ${account}, \`${ACCOUNTS_COMMAND} passwd ${account}\` sets one)`,
  ACCOUNT_ALREADY_BOUND: (account) => `${account} is bound to another WeChat user (DevTools?): unbind it there (我的 → 解除绑定) or with \`${ACCOUNTS_COMMAND} unbind ${account}\``,
  USER_BLOCKED: (account) => `${account} is disabled: \`${ACCOUNTS_COMMAND} enable ${account}\``,
  RATE_LIMITED: () => 'too many bind attempts from this address or for this account (5 in any 15 minutes): try again later',
};

/** A login that must be answered with a bind request; the ticket. Refuses to go on against an open-mode server. */
async function loginForTicket(auth: AuthClient<User>): Promise<BindTicket> {
  try {
    const session = await auth.login();
    if (session.user.account === null) throw new Error('the server created a session for an unknown WeChat user: it runs in open mode; start it with `ACCOUNT_MODE=bind npm start`');
    throw new Error(`this WeChat user is bound to ${session.user.account.name} already`);
  } catch (error) {
    if (isAuthError(error, 'BIND_REQUIRED') && error.ticket) return error.ticket;
    throw error;
  }
}

export async function walkBindMode(credentials: DemoCredentials): Promise<void> {
  const wx = createNodeWx({ server: base, user: DEMO_WECHAT_USER });
  const auth = createAuth<User>({ baseURL: base, wx, timeout: 10_000 });

  await serverAnswers('`ACCOUNT_MODE=bind npm start`');
  const leftOver = await auth.login().then(
    (session) => session.user.account,
    () => null,
  );
  if (leftOver) {
    await step(
      `unbind what an earlier walk left bound (${leftOver.name})`,
      () => auth.unbind(),
      () => 'DELETE /auth/binding',
    );
  }
  const ticket = await step(
    'log in (wx.login → POST /auth/login)',
    () => loginForTicket(auth),
    (t) => `bindRequired: ticket ${short(t.bindTicket)}, good until ${clock(t.expiresAt)} UTC; no session, nothing stored, the openid stays on the server`,
  );
  const session = await step(
    `bind with the demo account ${credentials.account} (POST /auth/bind)`,
    async () => {
      try {
        return await auth.bind({ bindTicket: ticket.bindTicket, account: credentials.account, password: credentials.password });
      } catch (error) {
        const code = serverErrorCodeOf(error);
        const why = code === undefined ? undefined : BIND_REFUSALS[code];
        throw why ? new Error(`${code}: ${why(credentials.account)}`) : error;
      }
    },
    (s) => `skey ${short(s.skey)} for user ${s.user.id}, account ${s.user.account?.name} (${s.user.account?.displayName}), roles ${s.user.roles.join(', ')}`,
  );
  await step(
    'read the menus (GET /auth/session)',
    async () => {
      const { data } = await auth.request<SessionResponse>({ url: '/auth/session' });
      const titles = data.menus.map((menu) => menu.title);
      if (!titles.includes('审批')) throw new Error(`the menus are ${titles.join(', ') || 'empty'}: the demo account's roles do not grant 审批`);
      return titles;
    },
    (titles) => `${titles.join(', ')}`,
  );
  await step(
    'list the approvals (GET /api/approvals, which needs approvals:read)',
    () => auth.request<ApprovalsResponse>({ url: '/api/approvals' }),
    (r) => `${r.data.approvals.length} approvals`,
  );
  await step(
    'unbind (DELETE /auth/binding)',
    () => auth.unbind(),
    () => 'every session of the binding ended; the local session cleared',
  );
  await step(
    'use the old skey',
    async () => {
      const response = await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${session.skey}` } });
      if (response.status !== 401) throw new Error(`expected 401, got ${response.status}`);
      return ((await response.json()) as { error: { code: string } }).error.code;
    },
    (code) => `refused: 401 ${code}`,
  );
  await step(
    'log in again',
    () => loginForTicket(auth),
    (t) => `bindRequired again, a new ticket ${short(t.bindTicket)}`,
  );
  process.stdout.write('Done: bind mode works against this server.\n');
}
