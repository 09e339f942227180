/**
 * `npm run admin` as the operator runs it: a child process (node scripts/admin.js) on the database
 * and Redis of a server that is running meanwhile, whose next request sees what it did.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { parseCommand, runCommand } from '../../server/operator/admin-arguments';
import { buildApp } from '../../server/app';
import { openDatabase, parseDatabaseUrl } from '../../server/database';
import { migrations, schemaStatus } from '../../server/stores/sql/migrations';
import { createOperator, UnrecordedError } from '../../server/operator/admin-actions';
import { createMemoryStores } from '../../server/stores/memory';
import type { LoginResponse } from '../../typings/api';

/** An answer's body as these tests read it: a login's, a minted code's, or the error envelope. */
type Answer = Partial<LoginResponse> & { code?: string; error?: { code: string; message: string } };
import { openMigrated, sqliteUrl } from './helpers-databases';
import { describeWithRedis, testConfig } from './helpers';

const ROOT = path.join(__dirname, '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `npm run admin -- ...args` with `env` as its whole environment (besides PATH). Each run compiles
 * and starts a process: seconds on a loaded machine, hence the tests' long bounds.
 */
function admin(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'admin.js'), ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const json = (run: Run) => {
  if (run.code !== 0) throw new Error(`admin exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout);
};

/** A server on `databaseUrl` (and Redis), listening, with calls over real HTTP. */
async function runningServer(databaseUrl: string, redisUrl: string | null) {
  await (await openMigrated(databaseUrl)).db.destroy();
  const app: FastifyInstance = await buildApp({ config: testConfig({ database: parseDatabaseUrl(databaseUrl), redisUrl }), log: false });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const call = async (url: string, { method = 'GET', body, skey }: { method?: string; body?: unknown; skey?: string } = {}) => {
    const response = await fetch(base + url, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(skey ? { authorization: `Bearer ${skey}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Answer };
  };
  const login = async (user: string) => call('/auth/login', { method: 'POST', body: { code: (await call('/dev/codes', { method: 'POST', body: { user } })).body.code } });
  return { app, call, login };
}

function operatorCases(setting: () => { databaseUrl: string; redisUrl: string | null }) {
  let server: Awaited<ReturnType<typeof runningServer>>;
  let env: Record<string, string>;
  beforeAll(async () => {
    const { databaseUrl, redisUrl } = setting();
    server = await runningServer(databaseUrl, redisUrl);
    env = { DATABASE_URL: databaseUrl, ...(redisUrl ? { REDIS_URL: redisUrl } : {}) };
  });
  afterAll(() => server.app.close());

  it('deletes an account as its own deletion does: the running server refuses its skey, the trail is anonymised, the next login is a new account', async () => {
    const { skey, user } = (await server.login('zoe')).body as LoginResponse;
    const run = await admin(env, 'delete', user.id);
    expect(run).toMatchObject({ code: 0, stdout: `deleted ${user.id}; 1 live session(s) ended\n` });
    expect((await server.call('/api/profile', { skey })).status).toBe(401);
    expect((await admin(env, 'show', user.id)).code).toBe(1);
    expect(json(await admin(env, 'audit', user.id, '--json'))).toEqual([]);
    const again = (await server.login('zoe')).body as LoginResponse;
    expect(again.user.id).not.toBe(user.id);
    expect(again.isNewUser).toBe(true);
  }, 60_000);

  it('answers a user that does not exist with exit 1 and prints nothing on stdout', async () => {
    expect(await admin(env, 'show', 'no-such-user')).toMatchObject({ code: 1, stdout: '', stderr: 'no user "no-such-user"\n' });
    expect(await admin(env, 'block', 'no-such-user', '--reason', 'x')).toMatchObject({ code: 1, stderr: 'no user "no-such-user"\n' });
  }, 60_000);

  it('finds a user by phone and nickname, shows them, and blocks them: the running server refuses their skey and their next login', async () => {
    const first = (await server.login('ada')).body as LoginResponse;
    const second = (await server.login('ada')).body as LoginResponse;
    await server.call('/api/profile', { method: 'PUT', skey: first.skey, body: { nickname: '阿达 Ada' } });
    const { code } = (await server.call('/dev/phone-codes', { method: 'POST', body: { user: 'ada', phoneNumber: '13700137000' } })).body;
    expect((await server.call('/auth/phone', { method: 'POST', skey: first.skey, body: { code } })).status).toBe(200);

    expect(json(await admin(env, 'find', '--phone', '13700137000', '--json')).map((u: { id: string }) => u.id)).toEqual([first.user.id]);
    expect(json(await admin(env, 'find', '--phone', '+86 13700137000', '--json')).map((u: { id: string }) => u.id)).toEqual([first.user.id]);
    expect(json(await admin(env, 'find', '--nickname', '阿达', '--json')).map((u: { id: string }) => u.id)).toEqual([first.user.id]);
    const shown = json(await admin(env, 'show', first.user.id, '--json'));
    expect(shown).toMatchObject({ id: first.user.id, nickname: '阿达 Ada', identities: { phone: '+86 13700137000' }, blocked: null, liveSessions: 2 });
    expect(JSON.stringify(shown)).not.toMatch(/sessionKey|session_key|skey/i);

    const blocked = await admin(env, 'block', first.user.id, '--reason', 'reported for spam');
    expect(blocked).toMatchObject({ code: 0, stdout: `blocked ${first.user.id}; 2 live session(s) ended\n` });
    // The running server's very next requests.
    for (const { skey } of [first, second]) expect((await server.call('/api/profile', { skey })).status).toBe(401);
    expect((await server.login('ada')).body.error?.code).toBe('USER_BLOCKED');

    const text = await admin(env, 'show', first.user.id);
    expect(text.stdout).toMatch(/blocked {3}since \d{4}-\d\d-\d\dT[\d:.]+Z: "reported for spam"/);
    expect(text.stdout).toContain('sessions  0 live');

    expect((await admin(env, 'unblock', first.user.id)).stdout).toBe(`unblocked ${first.user.id}\n`);
    const again = await server.login('ada');
    expect(again.status).toBe(200);
    expect((await admin(env, 'logout-all', first.user.id)).stdout).toBe(`1 live session(s) of ${first.user.id} ended\n`);
    expect((await server.call('/api/profile', { skey: again.body.skey })).status).toBe(401);

    const trail = json(await admin(env, 'audit', first.user.id, '--json'));
    expect(trail.map((e: { action: string; outcome: string; actor: string }) => `${e.action} ${e.outcome} ${e.actor}`)).toEqual([
      'logout-all ok operator',
      'login ok user',
      'unblocked ok operator',
      'login refused user',
      'blocked ok operator',
      'phone.bound ok user',
      'profile.changed ok user',
      'login ok user',
      'login ok user',
    ]);
    expect(trail.find((e: { action: string }) => e.action === 'login').clientNetwork).toBe('127.0.0.0/24');
    const lines = (await admin(env, 'audit', first.user.id, '--limit', '2')).stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-.*Z {2}logout-all {7}ok {7}by operator - \{"sessionsEnded":1\}$/);
  }, 180_000);

}

describe('npm run admin on a server with SQLite sessions', () => {
  operatorCases(() => ({ databaseUrl: sqliteUrl(), redisUrl: null }));
});

describeWithRedis('npm run admin on a server with sessions in Redis', (redis) => {
  operatorCases(() => ({ databaseUrl: sqliteUrl(), redisUrl: redis().url }));
});

describe('npm run admin refuses what it cannot work on', () => {
  it('a wrong command line: exit 2 with the usage, before any database is opened (the one named does not exist)', async () => {
    const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    for (const args of [['frob'], ['delete'], ['block', 'someone'], ['block', 'someone', '--reason', 'bell\u0007'], ['find'], ['find', '--phone', '12'], ['find', '--nickname', ''], ['show'], ['audit', 'u', '--limit', '0'], ['show', 'a', 'b'], ['show', 'u', '--bogus']]) {
      const run = await admin(env, ...args);
      expect([args, run.code, run.stderr]).toEqual([args, 2, expect.stringContaining('usage: npm run admin -- <command>')]);
    }
  }, 120_000);

  it('a database behind the code: exit 1 naming npm run migrate, and the database left as it was', async () => {
    const url = sqliteUrl();
    const run = await admin({ DATABASE_URL: url }, 'show', 'u');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('run `npm run migrate` with the same DATABASE_URL');
    const { db, kind } = openDatabase(parseDatabaseUrl(url)!);
    try {
      expect((await schemaStatus(db, kind)).pending).toEqual(Object.keys(migrations(kind)));
    } finally {
      await db.destroy();
    }
  }, 30_000);

  it('no DATABASE_URL: never a database of its own choosing, where the server would not see what it did', async () => {
    const run = await admin({}, 'show', 'u');
    expect(run).toMatchObject({ code: 1, stderr: expect.stringContaining('DATABASE_URL is not set') });
  }, 30_000);

  it('DATABASE_URL=memory:, whose users live inside the server process', async () => {
    const run = await admin({ DATABASE_URL: 'memory:' }, 'show', 'u');
    expect(run).toMatchObject({ code: 1, stderr: expect.stringContaining("DATABASE_URL=memory: is a server's own memory, which no other process can reach") });
  }, 30_000);

  it('an action whose audit entry cannot be written: done, and reported as unrecorded', async () => {
    const stores = createMemoryStores({ now: Date.now, sessionIdleMs: 60_000 });
    await stores.users.findOrCreate({ openid: 'o' }, () => ({ id: 'u1', openid: 'o', nickname: '', avatarUrl: '', createdAt: 1 }));
    stores.audit.record = async () => {
      throw new Error('audit table full');
    };
    const operation = runCommand(parseCommand(['block', 'u1', '--reason', 'fraud']), createOperator({ stores, now: Date.now }));
    await expect(operation).rejects.toThrow(UnrecordedError);
    await expect(operation).rejects.toThrow('u1 is blocked and 0 session(s) ended, but its audit entry could not be written: audit table full');
    expect((await stores.users.get('u1'))?.blocked?.reason).toBe('fraud');
  });
});
