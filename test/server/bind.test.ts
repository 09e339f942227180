/**
 * Bind mode over real HTTP, on both adapters (fastify and express): login to a bind ticket,
 * POST /auth/bind, DELETE /auth/binding, and every refusal in the contract's envelope.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { createSimulatedWeChat, type SimulatedWeChat } from '../../server/core/simulator';
import type { AccountEvent } from '../../server/core/bind';
import type { LoginServiceOptions } from '../../server/core/login-service';
import { expressWxLogin } from '../../server/express';
import { fastifyWxLogin } from '../../server/fastify';
import { hashPassword, needsRehash, type PasswordParams } from '../../server/passwords';
import { createMemoryStores, type MemoryStores } from '../../server/stores/memory';
import type { BindRequiredResponse, LoginResponse } from '../../typings/api';
import { createSqlStores } from '../../server/stores/sql';
import { openMigrated, sqliteUrl } from './helpers-databases';
import { bearer as bearerHeader, fakeClock, mintCode, testApp, type FakeClock } from './helpers';

const MINUTE = 60_000;
/** Cheap parameters: what is tested is which work is done, not how much (production uses OWASP's). */
const PARAMS: PasswordParams = { logN: 12, r: 8, p: 1 };
const PASSWORD = 'correct horse battery staple';

type Options = Partial<Omit<LoginServiceOptions, 'wechat' | 'stores' | 'now'>>;

interface Host {
  base: string;
  wechat: SimulatedWeChat;
  stores: MemoryStores;
  clock: FakeClock;
  events: AccountEvent[];
  close(): Promise<void>;
}

async function listening(server: Server): Promise<string> {
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

type Adapter = (options: LoginServiceOptions) => Promise<{ base: string; close(): Promise<void> }>;

const adapters: [string, Adapter][] = [
  [
    'fastify',
    async (options) => {
      const fastify = Fastify();
      await fastify.register(fastifyWxLogin, options);
      await fastify.listen({ port: 0, host: '127.0.0.1' });
      return { base: await listening(fastify.server), close: () => fastify.close() };
    },
  ],
  [
    'express',
    async (options) => {
      const app = express();
      app.use(expressWxLogin({ ...options, logger: { warn: () => undefined, error: () => undefined } }).router);
      const server = app.listen(0, '127.0.0.1');
      return { base: await listening(server), close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    },
  ],
];

async function call(host: Host, path: string, init: { method?: string; authorization?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = { ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.authorization ? { authorization: init.authorization } : {}) };
  const response = await fetch(`${host.base}${path}`, { method: init.method ?? 'GET', headers, body: init.json !== undefined ? JSON.stringify(init.json) : undefined });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const bearer = (skey: string) => `Bearer ${skey}`;

describe.each(adapters)('bind mode on the %s adapter, over HTTP', (_name, adapter) => {
  const hosts: Host[] = [];
  afterEach(async () => {
    for (const host of hosts.splice(0)) await host.close();
  });

  async function host(options: Options = {}): Promise<Host> {
    const clock = fakeClock();
    const wechat = createSimulatedWeChat({ now: clock.now });
    const stores = createMemoryStores({ now: clock.now, sessionIdleMs: 60 * MINUTE });
    const events: AccountEvent[] = [];
    const served = await adapter({ wechat, stores, now: clock.now, accountMode: 'bind', passwordParams: PARAMS, onAccountEvent: (event) => void events.push(event), ...options });
    const made = { ...served, wechat, stores, clock, events };
    hosts.push(made);
    return made;
  }

  const account = async (h: Host, name: string, { roles = ['staff'], params = PARAMS }: { roles?: string[]; params?: PasswordParams } = {}) => {
    const created = await h.stores.accounts.create({ name, displayName: '张三', roles, passwordHash: await hashPassword(PASSWORD, params) });
    if (!created.ok) throw new Error('not created');
    return created.account;
  };
  const loginAs = (h: Host, user: string) => call(h, '/auth/login', { method: 'POST', json: { code: h.wechat.mintCode(user) } });
  const ticketOf = async (h: Host, user: string) => {
    const response = await loginAs(h, user);
    expect(response.status).toBe(200);
    const answer = response.json() as unknown as BindRequiredResponse;
    expect(answer.bindRequired).toBe(true);
    return answer.bindTicket;
  };
  const bind = (h: Host, bindTicket: string, name: string, password = PASSWORD) => call(h, '/auth/bind', { method: 'POST', json: { bindTicket, account: name, password } });
  const expectError = (response: { status: number; json(): unknown }, status: number, code: string) => {
    expect({ status: response.status, body: response.json() }).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
  };

  it('answers an unknown WeChat user’s login with a bind ticket and creates nothing; a bind answers a session with the account, roles and menus; the next login goes straight in', async () => {
    const h = await host({ menus: (roles) => (roles.includes('staff') ? [{ key: 'approvals', title: '审批', path: '/pages/approvals/approvals', icon: 'todo-list-o' }] : []) });
    const made = await account(h, 'T1001');

    const first = await loginAs(h, 'zhang');
    expect(first.status).toBe(200);
    expect(first.json()).toEqual({ bindRequired: true, bindTicket: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAt: h.clock.now() + 10 * MINUTE });
    expect(first.text).not.toContain(h.wechat.openidFor('zhang'));
    expect(await h.stores.users.find({ openid: h.wechat.openidFor('zhang') })).toBeNull();
    expect(await h.stores.accounts.list()).toMatchObject([{ name: 'T1001', bound: false }]);

    const bound = await bind(h, first.json().bindTicket as string, 'T1001');
    expect(bound.status).toBe(200);
    const session = bound.json() as unknown as LoginResponse;
    expect(session).toMatchObject({ isNewUser: false, user: { id: made.userId, roles: ['staff'], account: { name: 'T1001', displayName: '张三' } }, menus: [{ key: 'approvals' }] });
    expect(bound.text).not.toMatch(/openid|password|passwordHash|scrypt/i);
    expect((await call(h, '/auth/session', { authorization: bearer(session.skey) })).json()).toMatchObject({ user: { account: { name: 'T1001' } }, menus: [{ key: 'approvals' }] });
    expect(h.events).toEqual([{ type: 'bind', at: h.clock.now(), userId: made.userId, account: 'T1001', clientAddress: expect.any(String) }]);

    const again = await loginAs(h, 'zhang');
    expect(again.json()).toMatchObject({ isNewUser: false, user: { id: made.userId, account: { name: 'T1001' } } });
    expect(await h.stores.accounts.list()).toMatchObject([{ name: 'T1001', bound: true }]);
  });

  it('of 20 concurrent binds with one ticket and the right password, exactly 1 succeeds and 19 answer INVALID_BIND_TICKET', async () => {
    // The failure limit raised: this counts what the ticket allows, not what the limiter does.
    const h = await host({ bindFailureLimit: 100 });
    await account(h, 'T20');
    const ticket = await ticketOf(h, 'twenty');
    const answers = await Promise.all(Array.from({ length: 20 }, () => bind(h, ticket, 'T20')));
    expect(answers.filter((answer) => answer.status === 200)).toHaveLength(1);
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(refused).toHaveLength(19);
    for (const answer of refused) expectError(answer, 401, 'INVALID_BIND_TICKET');
  });

  it('answers an unknown account and a wrong password alike, at the same cost: medians of 50 each within 25% of each other', async () => {
    const h = await host({ bindFailureLimit: 1000, passwordParams: { logN: 13, r: 8, p: 1 } });
    await account(h, 'T30', { params: { logN: 13, r: 8, p: 1 } });
    const ticket = await ticketOf(h, 'timing');
    const unknown = await bind(h, ticket, 'nobody-here');
    const wrong = await bind(h, ticket, 'T30', 'not the password');
    expect(unknown.status).toBe(401);
    expect({ status: wrong.status, body: wrong.text }).toEqual({ status: unknown.status, body: unknown.text });
    expectError(unknown, 401, 'INVALID_CREDENTIALS');

    const timed = async (name: string, password: string) => {
      const started = process.hrtime.bigint();
      const answer = await bind(h, ticket, name, password);
      expect(answer.status).toBe(401);
      return Number(process.hrtime.bigint() - started);
    };
    const unknownTimes: number[] = [];
    const wrongTimes: number[] = [];
    // Interleaved, so that the machine's load falls on both alike.
    for (let i = 0; i < 50; i++) {
      unknownTimes.push(await timed(`nobody-${i}`, 'guess'));
      wrongTimes.push(await timed('T30', `guess-${i}`));
    }
    const median = (times: number[]) => times.sort((a, b) => a - b)[times.length / 2];
    const [a, b] = [median(unknownTimes), median(wrongTimes)];
    expect(Math.abs(a - b) / Math.max(a, b)).toBeLessThan(0.25);
  }, 60_000);

  it('answers the 6th failure within 15 minutes 429 with Retry-After, and lets the right password in only after the wait', async () => {
    const h = await host();
    await account(h, 'T40');
    const ticket = await ticketOf(h, 'guesser');
    for (let i = 0; i < 5; i++) {
      expectError(await bind(h, ticket, 'T40', `wrong-${i}`), 401, 'INVALID_CREDENTIALS');
      h.clock.advance(1000);
    }
    const limited = await bind(h, ticket, 'T40');
    expectError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBe(15 * 60 - 5);
    h.clock.advance(15 * MINUTE - 5000 - 1);
    // The ticket has expired meanwhile (10 minutes): the mini-program logs in again for a fresh one.
    const fresh = await ticketOf(h, 'guesser');
    expectError(await bind(h, fresh, 'T40'), 429, 'RATE_LIMITED');
    h.clock.advance(1);
    expect((await bind(h, fresh, 'T40')).status).toBe(200);
  });

  it('counts failures per client address too: 5 on different accounts, then 429 for a sixth account', async () => {
    const h = await host();
    await account(h, 'T50');
    const ticket = await ticketOf(h, 'sprayer');
    for (let i = 0; i < 5; i++) expectError(await bind(h, ticket, `spray-${i}`, 'password1'), 401, 'INVALID_CREDENTIALS');
    const limited = await bind(h, ticket, 'T50');
    expectError(limited, 429, 'RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('lets 10 people bind their own accounts from one address in a row, and still refuses that address after 5 failures', async () => {
    const h = await host();
    const names = Array.from({ length: 10 }, (_, i) => `T6${i}`);
    for (const name of names) await account(h, name);
    for (const name of names) {
      const bound = await bind(h, await ticketOf(h, `colleague-${name}`), name);
      expect({ name, status: bound.status }).toEqual({ name, status: 200 });
    }
    expect((await h.stores.accounts.list()).filter((listed) => listed.bound)).toHaveLength(10);
    // The successes gave back only their own places: the address still has exactly five failures to spend.
    const ticket = await ticketOf(h, 'sprayer-after');
    for (let i = 0; i < 5; i++) expectError(await bind(h, ticket, `spray-${i}`, 'password1'), 401, 'INVALID_CREDENTIALS');
    expectError(await bind(h, ticket, 'spray-5', 'password1'), 429, 'RATE_LIMITED');
  });

  it('gives an address back a success’s attempt and never its failures: after 4 failures and a bind, a 5th failure is answered and the next attempt is refused', async () => {
    const h = await host();
    await account(h, 'T70');
    const ticket = await ticketOf(h, 'sprayer-with-one-account');
    for (let i = 0; i < 4; i++) {
      expectError(await bind(h, ticket, `spray-${i}`, 'password1'), 401, 'INVALID_CREDENTIALS');
      h.clock.advance(1000);
    }
    expect((await bind(h, await ticketOf(h, 'owner-of-T70'), 'T70')).status).toBe(200);
    h.clock.advance(1000);
    expectError(await bind(h, ticket, 'spray-4', 'password1'), 401, 'INVALID_CREDENTIALS');
    h.clock.advance(1000);
    const limited = await bind(h, ticket, 'spray-5', 'password1');
    expectError(limited, 429, 'RATE_LIMITED');
    // Until the first failure (at 0 s) leaves the window: the success's own place was the one given back.
    expect(Number(limited.headers.get('retry-after'))).toBe(15 * 60 - 6);
  });

  it('finds an account whose name is typed with a decomposed accent (NFC, as npm run accounts stores names)', async () => {
    const h = await host();
    const made = await account(h, 'Ren\u00e9e');
    const ticket = await ticketOf(h, 'renee');
    const bound = await bind(h, ticket, 'Rene\u0301e');
    expect(bound.status).toBe(200);
    expect(bound.json()).toMatchObject({ user: { id: made.userId, account: { name: 'Ren\u00e9e' } } });
  });

  it('refuses an expired ticket with INVALID_BIND_TICKET, and binds nothing', async () => {
    const h = await host();
    await account(h, 'T60');
    const ticket = await ticketOf(h, 'late');
    h.clock.advance(10 * MINUTE);
    expectError(await bind(h, ticket, 'T60'), 401, 'INVALID_BIND_TICKET');
    expect(await h.stores.accounts.list()).toMatchObject([{ bound: false }]);
    for (const unusable of ['A'.repeat(43), 'not a ticket']) expectError(await bind(h, unusable, 'T60'), 401, 'INVALID_BIND_TICKET');
  });

  it('answers 409 ACCOUNT_ALREADY_BOUND for an account bound to another WeChat user, and the ticket stays good for the user’s own account', async () => {
    const h = await host();
    await account(h, 'T70');
    await account(h, 'T71');
    expect((await bind(h, await ticketOf(h, 'first'), 'T70')).status).toBe(200);
    const ticket = await ticketOf(h, 'second');
    expectError(await bind(h, ticket, 'T70'), 409, 'ACCOUNT_ALREADY_BOUND');
    expect((await bind(h, ticket, 'T71')).status).toBe(200);
  });

  it('answers 403 USER_BLOCKED for a disabled account, at bind and at the login of its bound WeChat user, whose sessions end', async () => {
    const h = await host();
    await account(h, 'T80');
    await account(h, 'T81');
    const { skey } = (await bind(h, await ticketOf(h, 'staff-80'), 'T80')).json() as unknown as LoginResponse;
    await h.stores.accounts.setDisabled('T80', true);
    await h.stores.accounts.setDisabled('T81', true);
    // A session the disabling did not end (nothing ended it here) is refused as the login is: 403, the one check of blocking.ts.
    expectError(await call(h, '/auth/session', { authorization: bearer(skey) }), 403, 'USER_BLOCKED');
    expectError(await loginAs(h, 'staff-80'), 403, 'USER_BLOCKED');
    expectError(await bind(h, await ticketOf(h, 'staff-81'), 'T81'), 403, 'USER_BLOCKED');
    // A wrong password on a disabled account says only that: nothing about the account's state.
    expectError(await bind(h, await ticketOf(h, 'staff-81'), 'T81', 'wrong'), 401, 'INVALID_CREDENTIALS');
  });

  it('after DELETE /auth/binding every skey of the user answers 401 and the next login answers bindRequired', async () => {
    const h = await host();
    const made = await account(h, 'T90');
    const first = (await bind(h, await ticketOf(h, 'leaver'), 'T90')).json() as unknown as LoginResponse;
    const others = await Promise.all([loginAs(h, 'leaver'), loginAs(h, 'leaver')]);
    const skeys = [first.skey, ...others.map((answer) => (answer.json() as unknown as LoginResponse).skey)];

    const unbound = await call(h, '/auth/binding', { method: 'DELETE', authorization: bearer(skeys[1]) });
    expect({ status: unbound.status, body: unbound.json() }).toEqual({ status: 200, body: { ok: true } });
    for (const skey of skeys) expectError(await call(h, '/auth/session', { authorization: bearer(skey) }), 401, 'SESSION_EXPIRED');
    expect((await loginAs(h, 'leaver')).json()).toMatchObject({ bindRequired: true });
    expect(h.events.map((event) => [event.type, event.userId, event.account])).toEqual([
      ['bind', made.userId, 'T90'],
      ['unbind', made.userId, 'T90'],
    ]);
    // The host's hook heard them after the audit trail recorded them, as the user's, with the account.
    const trail = (await h.stores.audit.listOf(made.userId, 10)).filter((entry) => entry.action === 'bind' || entry.action === 'unbind');
    expect(trail.map((entry) => [entry.action, entry.actor, entry.outcome, entry.detail])).toEqual([
      ['unbind', 'user', 'ok', { account: 'T90' }],
      ['bind', 'user', 'ok', { account: 'T90' }],
    ]);
    expectError(await call(h, '/auth/binding', { method: 'DELETE' }), 401, 'SESSION_EXPIRED');
  });

  it('upgrades a password hashed with older parameters at a successful bind', async () => {
    const h = await host();
    await account(h, 'T100', { params: { logN: 11, r: 8, p: 1 } });
    expect((await bind(h, await ticketOf(h, 'old-hash'), 'T100')).status).toBe(200);
    const upgraded = (await h.stores.accounts.byName('T100'))!.passwordHash;
    expect(needsRehash(upgraded, PARAMS)).toBe(false);
    expect(upgraded).toMatch(/^\$scrypt\$ln=12,r=8,p=1\$/);
  });

  it('answers 400 BAD_REQUEST for a bind without its fields, or with a password beyond 256 characters', async () => {
    const h = await host();
    for (const json of [{}, { bindTicket: 'x', account: 'a' }, { bindTicket: 'x', account: 'a', password: 'p'.repeat(257) }, { bindTicket: 'x', account: '', password: 'p' }]) {
      expectError(await call(h, '/auth/bind', { method: 'POST', json }), 400, 'BAD_REQUEST');
    }
  });

  it('leaves open mode as it was: a login creates the user, and the bind routes answer 404', async () => {
    const h = await host({ accountMode: 'open' });
    const login = await loginAs(h, 'open-user');
    expect(login.json()).toMatchObject({ isNewUser: true, user: { account: null, roles: ['member'] } });
    expectError(await bind(h, 'A'.repeat(43), 'T1'), 404, 'NOT_FOUND');
    expectError(await call(h, '/auth/binding', { method: 'DELETE', authorization: bearer((login.json() as unknown as LoginResponse).skey) }), 404, 'NOT_FOUND');
  });
});

describe('the reference server in bind mode, on SQLite', () => {
  it('walks login → bindRequired → bind → menus → approvals → unbind → bindRequired, the WeChat identity rows added and removed in the database', async () => {
    const clock = fakeClock();
    const opened = await openMigrated(sqliteUrl());
    const stores = createSqlStores({ ...opened, now: clock.now, sessionIdleMs: 60 * MINUTE, sealKey: Buffer.alloc(32, 7), appId: 'wx00000000simulated', commandTimeoutMs: 2000 });
    // The reference server hashes at OWASP's parameters: this account's hash is made the same way.
    await stores.accounts.create({ name: 'S001', displayName: '李老师', roles: ['staff'], passwordHash: await hashPassword(PASSWORD) });
    const { app } = await testApp({ clock, stores, config: { accountMode: 'bind' } });
    try {
      const login = async () => (await app.inject({ method: 'POST', url: '/auth/login', payload: { code: await mintCode(app, 'teacher') } })).json<Record<string, unknown>>();
      const first = await login();
      expect(first).toMatchObject({ bindRequired: true });
      const bound = await app.inject({ method: 'POST', url: '/auth/bind', payload: { bindTicket: first.bindTicket, account: 'S001', password: PASSWORD } });
      expect(bound.statusCode).toBe(200);
      const { skey, menus, user } = bound.json<LoginResponse>();
      expect(menus.map((menu) => menu.key)).toContain('approvals');
      expect(user).toMatchObject({ roles: ['staff'], account: { name: 'S001', displayName: '李老师' } });
      expect((await app.inject({ url: '/api/approvals', headers: bearerHeader(skey) })).statusCode).toBe(200);
      const identities = () => opened.db.selectFrom('identities').select('kind').where('user_id', '=', user.id).execute();
      expect((await identities()).map((row) => row.kind)).toEqual(['wechat']);

      expect((await app.inject({ method: 'DELETE', url: '/auth/binding', headers: bearerHeader(skey) })).json()).toEqual({ ok: true });
      expect(await identities()).toEqual([]);
      expect((await app.inject({ url: '/api/approvals', headers: bearerHeader(skey) })).statusCode).toBe(401);
      expect(await login()).toMatchObject({ bindRequired: true });
    } finally {
      await app.close();
      await stores.close();
    }
  }, 60_000);
});
