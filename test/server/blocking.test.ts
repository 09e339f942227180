/**
 * Blocking and the audit trail through the whole server over real HTTP: a blocked user's login
 * and sessions, what the trail records of logins, phone bindings and profile changes (with the
 * client's network, behind a trusted proxy), an audit write that fails, and the retention purge.
 */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { BLOCKED_MESSAGE } from '../../server/blocking';
import type { Config } from '../../server/config';
import { createOperator, type Operator } from '../../server/operator/admin-actions';
import { createMemoryStores } from '../../server/stores/memory';
import { createSqlStores } from '../../server/stores/sql';
import type { AuditEntry, Stores } from '../../server/stores/types';
import type { LoginResponse } from '../../typings/api';

/** An answer's body as these tests read it: a login's, a minted code's, or the error envelope. */
type Answer = Partial<LoginResponse> & { code?: string; error?: { code: string; message: string } };
import { openMigrated, sqliteUrl } from './helpers-databases';
import { logSink, testConfig } from './helpers';

const DAY = 24 * 3600 * 1000;

interface Running {
  app: FastifyInstance;
  stores: Stores;
  operator: Operator;
  /** fetch on the server, JSON in and out, from `client` (an X-Forwarded-For the trusted proxy appended). */
  call(path: string, options?: { method?: string; body?: unknown; skey?: string; client?: string }): Promise<{ status: number; body: Answer }>;
  login(user: string, client?: string): Promise<{ status: number; body: Answer }>;
}

async function running(stores: Stores, overrides: Partial<Config> = {}, log: ReturnType<typeof logSink> | null = null): Promise<Running> {
  // One proxy in front: the client is the address it appended.
  const app = await buildApp({ config: testConfig({ trustProxy: 1, ...overrides }), stores, log: log?.stream ?? false });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const call: Running['call'] = async (path, { method = 'GET', body, skey, client } = {}) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (skey) headers.authorization = `Bearer ${skey}`;
    if (client) headers['x-forwarded-for'] = client;
    const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Answer };
  };
  return {
    app,
    stores,
    operator: createOperator({ stores, now: Date.now }),
    call,
    async login(user, client = '203.0.113.7') {
      const { body } = await call('/dev/codes', { method: 'POST', body: { user } });
      return call('/auth/login', { method: 'POST', body: { code: body.code }, client });
    },
  };
}

const storeKinds: [string, () => Promise<Stores>][] = [
  ['memory', async () => createMemoryStores({ now: Date.now, sessionIdleMs: DAY })],
  ['SQLite', async () => createSqlStores({ ...(await openMigrated(sqliteUrl())), now: Date.now, sessionIdleMs: DAY, sealKey: Buffer.alloc(32, 3), appId: 'wx00000000simulated', commandTimeoutMs: 2000 })],
];

describe.each(storeKinds)('a blocked user, on %s stores', (_kind, makeStores) => {
  let server: Running;
  beforeEach(async () => {
    server = await running(await makeStores());
  });
  afterEach(() => server.app.close());

  it('loses every session at once (401), and each login after answers 403 USER_BLOCKED without the operator’s reason, recorded as refused', async () => {
    const first = (await server.login('alice')).body as LoginResponse;
    const second = (await server.login('alice')).body as LoginResponse;
    expect((await server.call('/api/profile', { skey: first.skey })).status).toBe(200);

    const { sessionsEnded } = await server.operator.block(first.user.id, 'chargeback fraud, ticket #4411');
    expect(sessionsEnded).toBe(2);
    for (const { skey } of [first, second]) expect((await server.call('/api/profile', { skey })).status).toBe(401);

    const refused = await server.login('alice', '198.51.100.23');
    expect(refused).toEqual({ status: 403, body: { error: { code: 'USER_BLOCKED', message: BLOCKED_MESSAGE } } });
    expect(JSON.stringify(refused.body)).not.toContain('chargeback');
    expect(await server.stores.sessions.countOf(first.user.id)).toBe(0);

    const trail = await server.stores.audit.listOf(first.user.id, 10);
    expect(trail.map((e) => [e.action, e.outcome, e.actor, e.clientNetwork])).toEqual([
      ['login', 'refused', 'user', '198.51.100.0/24'],
      ['blocked', 'ok', 'operator', null],
      ['login', 'ok', 'user', '203.0.113.0/24'],
      ['login', 'ok', 'user', '203.0.113.0/24'],
    ]);
    expect(trail[0].detail).toEqual({ reason: 'USER_BLOCKED' });
    expect(trail[1].detail).toEqual({ reason: 'chargeback fraud, ticket #4411', sessionsEnded: 2 });
  });

  it('is refused 403 USER_BLOCKED with a session that slipped through the block, on every authenticated route', async () => {
    const { skey, user } = (await server.login('bob')).body as LoginResponse;
    // The block without its session sweep: as a login racing with the block would leave a session behind.
    await server.stores.users.block(user.id, { at: Date.now(), reason: 'x' });
    for (const [path, method, body] of [
      ['/api/profile', 'GET', undefined],
      ['/auth/session', 'GET', undefined],
      ['/api/profile', 'PUT', { nickname: '新名字' }],
      ['/api/orders', 'GET', undefined],
    ] as const) {
      const answer = await server.call(path, { method, skey, body });
      expect([path, method, answer.status, answer.body.error?.code]).toEqual([path, method, 403, 'USER_BLOCKED']);
    }
    expect((await server.stores.users.get(user.id))?.nickname).toBe('');
  });

  it('logs in again once unblocked, as the same user, and the trail says who lifted the block', async () => {
    const { user } = (await server.login('carol')).body as LoginResponse;
    await server.operator.block(user.id, 'mistaken identity');
    expect((await server.login('carol')).status).toBe(403);
    expect((await server.operator.unblock(user.id)).wasBlocked).toBe(true);
    const again = await server.login('carol');
    expect(again.status).toBe(200);
    expect(again.body.user?.id).toBe(user.id);
    expect((await server.stores.audit.listOf(user.id, 10)).map((e) => `${e.action}:${e.outcome}:${e.actor}`)).toEqual([
      'login:ok:user',
      'unblocked:ok:operator',
      'login:refused:user',
      'blocked:ok:operator',
      'login:ok:user',
    ]);
  });
});

describe('the audit trail of a user’s own actions, over HTTP', () => {
  let server: Running;
  afterEach(() => server.app.close());

  it('records a first login, a profile change (the fields, not their values) and a phone binding, with the client’s network', async () => {
    server = await running(createMemoryStores({ now: Date.now, sessionIdleMs: DAY }));
    const { skey, user } = (await server.login('dave', '2001:db8:abcd:12::1')).body as LoginResponse;
    expect((await server.call('/api/profile', { method: 'PUT', skey, body: { nickname: '大卫' }, client: '2001:db8:abcd:ff::9' })).status).toBe(200);
    // Saving the form unchanged changes nothing, and records nothing.
    expect((await server.call('/api/profile', { method: 'PUT', skey, body: { nickname: '大卫' }, client: '2001:db8:abcd:ff::9' })).status).toBe(200);
    const phoneCode = (await server.call('/dev/phone-codes', { method: 'POST', body: { user: 'dave', phoneNumber: '13800138000' } })).body.code;
    expect((await server.call('/auth/phone', { method: 'POST', skey, body: { code: phoneCode }, client: '::ffff:192.0.2.77' })).status).toBe(200);

    const trail = await server.stores.audit.listOf(user.id, 10);
    expect(trail.map(({ action, outcome, actor, clientNetwork, detail }) => ({ action, outcome, actor, clientNetwork, detail }))).toEqual([
      { action: 'phone.bound', outcome: 'ok', actor: 'user', clientNetwork: '192.0.2.0/24', detail: null },
      { action: 'profile.changed', outcome: 'ok', actor: 'user', clientNetwork: '2001:db8:abcd::/48', detail: { fields: ['nickname'] } },
      { action: 'login', outcome: 'ok', actor: 'user', clientNetwork: '2001:db8:abcd::/48', detail: { newUser: true } },
    ]);
    expect(JSON.stringify(trail)).not.toMatch(/13800138000|大卫|skey/);
  });

  it('records a phone number refused as another user’s, for that number’s history', async () => {
    server = await running(createMemoryStores({ now: Date.now, sessionIdleMs: DAY }));
    const holder = (await server.login('erin')).body as LoginResponse;
    const other = (await server.login('frank')).body as LoginResponse;
    const phone = async (user: string, skey: string) => {
      const { code } = (await server.call('/dev/phone-codes', { method: 'POST', body: { user, phoneNumber: '13900139000' } })).body;
      return (await server.call('/auth/phone', { method: 'POST', skey, body: { code } })).status;
    };
    expect(await phone('erin', holder.skey)).toBe(200);
    expect(await phone('frank', other.skey)).toBe(409);
    const [latest] = await server.stores.audit.listOf(other.user.id, 1);
    expect(latest).toMatchObject({ action: 'phone.bound', outcome: 'refused', detail: { reason: 'PHONE_IN_USE' } });
  });

  it('records logins refused by the rate limit once per client network and window, however many there are', async () => {
    server = await running(createMemoryStores({ now: Date.now, sessionIdleMs: DAY }), { loginRateLimit: 2, loginRateWindowMs: 60_000 });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await server.login('gina', `203.0.113.${i % 2 === 0 ? 5 : 6}`)).status);
    // 203.0.113.5 and .6 are two clients of one /24: each gets 2 logins, then 4 refusals each.
    expect(statuses.filter((s) => s === 429)).toHaveLength(8);
    const refusals = await server.stores.audit.listOf('gina', 100);
    expect(refusals.filter((e) => e.outcome === 'refused')).toEqual([]);
    // Refused before WeChat named a user: entries without a user; the memory store's whole trail shows one.
    const anonymous = await (server.stores.audit as unknown as { listOf(id: null, n: number): Promise<AuditEntry[]> }).listOf(null, 100);
    expect(anonymous.map(({ action, outcome, clientNetwork, detail }) => ({ action, outcome, clientNetwork, detail }))).toEqual([
      { action: 'login', outcome: 'refused', clientNetwork: '203.0.113.0/24', detail: { reason: 'RATE_LIMITED' } },
    ]);
  });

  it('lets a login through when its audit entry cannot be written, and logs the failure at error with the entry', async () => {
    const stores = createMemoryStores({ now: Date.now, sessionIdleMs: DAY });
    stores.audit.record = async () => {
      throw new Error('disk full');
    };
    const log = logSink();
    server = await running(stores, {}, log);
    const answer = await server.login('hank');
    expect(answer.status).toBe(200);
    expect((await server.call('/api/profile', { skey: answer.body.skey })).status).toBe(200);
    await log.written();
    const lines = log.text().split('\n').filter(Boolean).map((line) => JSON.parse(line));
    const failure = lines.find((line) => line.msg === 'an audit entry could not be written; what it records went ahead');
    expect(failure).toMatchObject({ level: 50, err: 'disk full', entry: { action: 'login', outcome: 'ok', userId: answer.body.user?.id, clientNetwork: '203.0.113.0/24' } });
    expect(JSON.stringify(lines)).not.toContain(answer.body.skey);
  });
});

describe('the audit trail’s retention', () => {
  it('is purged at start of the entries older than AUDIT_RETENTION_DAYS, and the rest kept', async () => {
    const now = Date.now();
    const stores = createMemoryStores({ now: Date.now, sessionIdleMs: DAY });
    const at = (daysAgo: number): AuditEntry => ({ at: now - daysAgo * DAY, userId: 'u', actor: 'user', action: 'login', outcome: 'ok', clientNetwork: null, detail: { daysAgo } });
    for (const days of [400, 31, 29, 1]) await stores.audit.record(at(days));
    const log = logSink();
    const app = await buildApp({ config: testConfig({ auditRetentionDays: 30 }), stores, log: log.stream });
    try {
      // The purge runs at start without holding it; the store answers at once, so a turn is enough.
      await log.written();
      expect((await stores.audit.listOf('u', 10)).map((e) => e.detail?.daysAgo)).toEqual([1, 29]);
      expect(log.text()).toContain('"count":2');
    } finally {
      await app.close();
    }
  });
});
