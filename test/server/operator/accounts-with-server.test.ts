/**
 * `npm run accounts` while the server runs on the same SQLite file (ACCOUNT_MODE=bind): what the
 * command does is what the server does next, over real HTTP, with the real password hashing.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../server/app';
import { parseDatabaseUrl } from '../../../server/database';
import type { ApiErrorBody, BindRequiredResponse, LoginResponse } from '../../../typings/api';
import { testConfig } from '../helpers';
import { openMigrated, sqliteUrl } from '../helpers-databases';
import { runAccounts } from './accounts-run';

const PASSWORD = 'Correct-Horse-42';

describe('npm run accounts, with the server running on the same database', () => {
  let url: string;
  let app: FastifyInstance;
  let base: string;

  // A server and database per case: every bind from this one address counts against the server's
  // per-client limit (5 in 15 minutes), which the cases together would pass.
  beforeEach(async () => {
    url = sqliteUrl();
    await (await openMigrated(url)).db.destroy();
    app = await buildApp({ config: testConfig({ database: parseDatabaseUrl(url), accountMode: 'bind' }), log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    await app.close();
    rmSync(path.dirname(url.slice('sqlite:'.length)), { recursive: true, force: true });
  });

  async function post<T>(route: string, body: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as T };
  }
  /** A login of the simulated WeChat user `user`: the session, or the bind ticket bind mode answers instead. */
  async function login(user: string) {
    const { body: minted } = await post<{ code: string }>('/dev/codes', { user });
    return post<LoginResponse | BindRequiredResponse | ApiErrorBody>('/auth/login', { code: minted.code });
  }
  async function ticket(user: string): Promise<string> {
    const { status, body } = await login(user);
    expect(status).toBe(200);
    expect(body).toMatchObject({ bindRequired: true });
    return (body as BindRequiredResponse).bindTicket;
  }
  const bind = async (user: string, account: string, password: string) => post<LoginResponse | ApiErrorBody>('/auth/bind', { bindTicket: await ticket(user), account, password });
  const profileStatus = async (skey: string) => (await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${skey}` } })).status;
  const add = (name: string, ...options: string[]) => runAccounts(['add', name, '--name', name, ...options], { databaseUrl: url, stdin: `${PASSWORD}\n` });

  it('an account added while the server runs binds at once, with its roles and menus, and list then shows it bound', async () => {
    expect(await add('E1', '--roles', 'staff')).toMatchObject({ code: 0 });
    expect((await runAccounts(['list'], { databaseUrl: url })).stdout).toMatch(/^E1\s+E1\s+staff\s+enabled\s+not bound$/m);

    const { status, body } = await bind('wx-a', 'E1', PASSWORD);
    expect(status).toBe(200);
    const session = body as LoginResponse;
    expect(session.user).toMatchObject({ roles: ['staff'], account: { name: 'E1', displayName: 'E1' } });
    expect(session.menus.map((menu) => menu.key)).toEqual(['orders', 'approvals']);
    expect((await fetch(`${base}/api/approvals`, { headers: { authorization: `Bearer ${session.skey}` } })).status).toBe(200);
    expect((await runAccounts(['list'], { databaseUrl: url })).stdout).toMatch(/^E1\s+E1\s+staff\s+enabled\s+bound$/m);
  }, 120_000);

  it('passwd changes which password binds: the old one is refused INVALID_CREDENTIALS, the new one binds', async () => {
    expect(await add('E2')).toMatchObject({ code: 0 });
    expect(await runAccounts(['passwd', 'E2'], { databaseUrl: url, stdin: 'the-new-password\n' })).toMatchObject({ code: 0 });

    const old = await bind('wx-b', 'E2', PASSWORD);
    expect(old).toEqual({ status: 401, body: { error: { code: 'INVALID_CREDENTIALS', message: expect.any(String) } } });
    const fresh = await bind('wx-b', 'E2', 'the-new-password');
    expect(fresh.status).toBe(200);
    expect((fresh.body as LoginResponse).user).toMatchObject({ roles: ['member'], account: { name: 'E2' } });
  }, 120_000);

  it('disable ends every session of the bound user at once, its logins and binds answer 403 USER_BLOCKED, and enable lets it in again', async () => {
    expect(await add('E3')).toMatchObject({ code: 0 });
    const first = (await bind('wx-c', 'E3', PASSWORD)).body as LoginResponse;
    const second = (await login('wx-c')).body as LoginResponse;
    expect(await profileStatus(first.skey)).toBe(200);
    expect(await profileStatus(second.skey)).toBe(200);

    const disable = await runAccounts(['disable', 'E3'], { databaseUrl: url });
    expect(disable).toMatchObject({ code: 0, stdout: 'disabled E3: it can no longer bind or log in; 2 sessions ended\n' });
    expect(await profileStatus(first.skey)).toBe(401);
    expect(await profileStatus(second.skey)).toBe(401);
    expect(await login('wx-c')).toMatchObject({ status: 403, body: { error: { code: 'USER_BLOCKED' } } });
    // Another WeChat user with the right password: refused for the account, before its binding is looked at.
    expect(await bind('wx-d', 'E3', PASSWORD)).toMatchObject({ status: 403, body: { error: { code: 'USER_BLOCKED' } } });

    expect(await runAccounts(['enable', 'E3'], { databaseUrl: url })).toMatchObject({ code: 0, stdout: 'enabled E3\n' });
    const back = await login('wx-c');
    expect(back.status).toBe(200);
    expect(await profileStatus((back.body as LoginResponse).skey)).toBe(200);
  }, 120_000);

  it('unbind detaches the WeChat user of a lost phone: its sessions end, its next login asks to bind again, and another WeChat user can bind the account', async () => {
    expect(await add('E4')).toMatchObject({ code: 0 });
    const lost = (await bind('wx-lost', 'E4', PASSWORD)).body as LoginResponse;
    expect(await bind('wx-new', 'E4', PASSWORD)).toMatchObject({ status: 409, body: { error: { code: 'ACCOUNT_ALREADY_BOUND' } } });

    const unbind = await runAccounts(['unbind', 'E4'], { databaseUrl: url });
    expect(unbind).toMatchObject({ code: 0, stdout: 'unbound E4 from its WeChat user: 1 session ended; the next login of that WeChat user must bind again\n' });
    expect(await profileStatus(lost.skey)).toBe(401);
    expect((await login('wx-lost')).body).toMatchObject({ bindRequired: true });
    const moved = await bind('wx-new', 'E4', PASSWORD);
    expect(moved.status).toBe(200);
    expect((moved.body as LoginResponse).user.id).toBe(lost.user.id);
  }, 120_000);
});
