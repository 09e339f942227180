/**
 * `npm run accounts`, the real command in a child process, on a temporary SQLite file: what it
 * writes, what it prints, how it refuses, and that the password shows nowhere but the hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../../tools/free-port';
import { SIMULATED_APPID } from '../../../server/config';
import type { OpenDatabase } from '../../../server/database';
import { PASSWORD_PARAMS, verifyPassword } from '../../../server/passwords';
import { createRedisStores } from '../../../server/stores/redis';
import { createSqlStores } from '../../../server/stores/sql';
import { migrations } from '../../../server/stores/sql/migrations';
import { describeWithRedis } from '../helpers';
import { describeWithDatabase, openMigrated, sqliteUrl } from '../helpers-databases';
import { runAccounts, runAccountsAtTerminal } from './accounts-run';

const PASSWORD = 'Correct-Horse-42';

/** Everything a run printed, where a password or its hash must not be. */
const printed = (run: { stdout: string; stderr: string }) => run.stdout + run.stderr;

describe('npm run accounts, on an SQLite file', () => {
  let url: string;
  let opened: OpenDatabase;
  const rows = () => opened.db.selectFrom('accounts').selectAll().orderBy('name').execute();

  beforeEach(async () => {
    url = sqliteUrl();
    opened = await openMigrated(url);
  });
  afterEach(async () => {
    await opened.db.destroy();
    rmSync(path.dirname(url.slice('sqlite:'.length)), { recursive: true, force: true });
  });

  it('adds an account from one line of standard input, which list then shows with its roles, enabled and not bound; the password is in neither argv nor output, and stored only as a scrypt hash', async () => {
    const add = await runAccounts(['add', 'E1024', '--name', '张三', '--roles', 'staff'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
    expect(add).toMatchObject({ code: 0, stdout: "added E1024 (张三), roles: staff; it binds from the mini-program's 绑定已有账号 page\n" });
    expect(add.argvWhileWaiting).toMatch(/scripts\/accounts\.js add E1024 --name 张三 --roles staff/);
    expect(add.argvWhileWaiting).not.toContain(PASSWORD);
    expect(printed(add)).not.toContain(PASSWORD);

    const [row] = await rows();
    expect(row).toMatchObject({ name: 'E1024', display_name: '张三', roles: '["staff"]' });
    expect(Number(row.disabled)).toBe(0);
    expect(row.password_hash).toMatch(new RegExp(`^\\$scrypt\\$ln=${PASSWORD_PARAMS.logN},r=${PASSWORD_PARAMS.r},p=${PASSWORD_PARAMS.p}\\$`));
    expect(row.password_hash).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, row.password_hash)).toBe(true);

    const list = await runAccounts(['list'], { databaseUrl: url });
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')).toEqual([expect.stringMatching(/^ACCOUNT\s+NAME\s+ROLES\s+STATE\s+WECHAT$/), expect.stringMatching(/^E1024\s+张三\s+staff\s+enabled\s+not bound$/), '']);
    expect(printed(list)).not.toContain(row.password_hash.split('$')[4]);

    const json = await runAccounts(['list', '--json'], { databaseUrl: url });
    const accounts = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(accounts).toEqual([{ name: 'E1024', displayName: '张三', roles: ['staff'], disabled: false, bound: false, createdAt: expect.any(Number), updatedAt: expect.any(Number) }]);
  }, 120_000);

  it('gives an account added without --roles the default role, recorded as none so that it follows the default', async () => {
    const add = await runAccounts(['add', 'S2026001', '--name', 'Li Si'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/roles: member \(the default role\)/);
    expect((await rows())[0].roles).toBe('[]');
    expect((await runAccounts(['list'], { databaseUrl: url })).stdout).toMatch(/^S2026001\s+Li Si\s+member \(default\)\s+enabled\s+not bound$/m);
  }, 120_000);

  it('changes the password with passwd, and disables, enables and sets roles by name', async () => {
    await runAccounts(['add', 'E1', '--name', '王五'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
    const passwd = await runAccounts(['passwd', 'E1'], { databaseUrl: url, stdin: 'a-new-password\n' });
    expect(passwd).toMatchObject({ code: 0, stdout: 'password of E1 changed: the next bind needs the new one (a WeChat user already bound stays bound)\n' });
    expect(passwd.argvWhileWaiting).not.toContain('a-new-password');
    const hash = (await rows())[0].password_hash;
    expect(await verifyPassword('a-new-password', hash)).toBe(true);
    expect(await verifyPassword(PASSWORD, hash)).toBe(false);

    expect(await runAccounts(['disable', 'E1'], { databaseUrl: url })).toMatchObject({ code: 0, stdout: 'disabled E1: it can no longer bind or log in; 0 sessions ended\n' });
    expect(Number((await rows())[0].disabled)).toBe(1);
    expect((await runAccounts(['list'], { databaseUrl: url })).stdout).toMatch(/^E1\s+王五\s+member \(default\)\s+disabled\s+not bound$/m);
    expect(await runAccounts(['enable', 'E1'], { databaseUrl: url })).toMatchObject({ code: 0, stdout: 'enabled E1\n' });
    expect(await runAccounts(['roles', 'E1', 'staff,member'], { databaseUrl: url })).toMatchObject({ code: 0 });
    expect(await rows()).toEqual([expect.objectContaining({ disabled: 0, roles: '["staff","member"]' })]);
  }, 120_000);

  it('refuses, with its exit code and a clear message, a duplicate account, an unknown account, an unknown role and a short, empty or missing password, and changes nothing', async () => {
    await runAccounts(['add', 'E1', '--name', '张三'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
    const before = await rows();

    const duplicate = await runAccounts(['add', 'E1', '--name', '李四'], { databaseUrl: url, stdin: 'other-password\n' });
    expect(duplicate).toMatchObject({ code: 4, stdout: '' });
    expect(duplicate.stderr).toBe('accounts: an account named "E1" exists already (`passwd` changes its password)\n');
    // Refused before the password was asked for.
    expect(duplicate.argvWhileWaiting).toBe('');

    for (const kind of ['passwd', 'disable', 'enable', 'unbind']) {
      const unknown = await runAccounts([kind, 'E404'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
      expect(unknown).toMatchObject({ code: 3, stdout: '', stderr: 'accounts: no account named "E404" (`npm run accounts -- list` shows them)\n' });
    }

    const role = await runAccounts(['add', 'E2', '--name', '李四', '--roles', 'admin'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/^accounts: unknown role "admin": the roles are member, staff \(server\/access\.ts\)/);

    const short = await runAccounts(['add', 'E2', '--name', '李四'], { databaseUrl: url, stdin: 'short\n' });
    expect(short).toMatchObject({ code: 5, stdout: '' });
    expect(short.stderr).toMatch(/accounts: the password is too short: at least 8 characters \(got 5\)\n$/);
    expect(short.stderr).not.toMatch(/short\n.*short\n/s);
    expect(await runAccounts(['add', 'E2', '--name', '李四'], { databaseUrl: url, stdin: '\n' })).toMatchObject({ code: 5, stderr: expect.stringMatching(/accounts: the password is empty\n$/) });
    expect(await runAccounts(['passwd', 'E1'], { databaseUrl: url, stdin: '' })).toMatchObject({ code: 5, stderr: expect.stringMatching(/accounts: standard input ended before a password line/) });

    expect(await rows()).toEqual(before);
  }, 180_000);

  it('refuses a password on the command line, saying why, without echoing it or touching the database', async () => {
    const run = await runAccounts(['add', 'E1', '--name', '张三', `--password=${PASSWORD}`], { databaseUrl: url });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^accounts: a password is never taken from the command line: every user of this machine can read a command line \(ps, \/proc\) and the shell keeps it in its history/);
    expect(printed(run)).not.toContain(PASSWORD);
    expect(await rows()).toEqual([]);
  }, 60_000);

  it('refuses to run without DATABASE_URL, naming the variable, and on a database the server has not migrated, naming npm run migrate', async () => {
    const none = await runAccounts(['list']);
    expect(none).toMatchObject({ code: 2, stdout: '' });
    expect(none.stderr).toMatch(/^accounts: DATABASE_URL is not set: name the server's database \(for `npm start`'s, DATABASE_URL=sqlite:data\/wx-login\.db/);

    const fresh = sqliteUrl();
    const behind = await runAccounts(['list'], { databaseUrl: fresh });
    expect(behind.code).toBe(1);
    // A fresh file has every migration of this release pending.
    expect(behind.stderr).toMatch(new RegExp(`is behind this release: ${Object.keys(migrations('sqlite')).length} migration\\(s\\) pending .*run \`npm run migrate\` with the same DATABASE_URL`));
  }, 60_000);

  it('says a database that does not answer is unreachable, without the password of its URL', async () => {
    const port = await freePort();
    const run = await runAccounts(['list'], { databaseUrl: `postgres://wxlogin:pw-s3cret-77@127.0.0.1:${port}/wxlogin` });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^accounts: cannot use the database at DATABASE_URL \\(PostgreSQL at 127\\.0\\.0\\.1:${port}/wxlogin\\)`));
    expect(printed(run)).not.toContain('pw-s3cret-77');
  }, 60_000);

  it('reads the password at a terminal twice with echo off, and refuses two entries that differ', async () => {
    const typed = await runAccountsAtTerminal(['add', 'T1', '--name', '终端'], url, ['typed-at-a-tty', 'typed-at-a-tty']);
    expect(typed.code).toBe(0);
    expect(typed.transcript).toMatch(/New password: \r?\nThe same password again: \r?\nadded T1 \(终端\)/);
    expect(typed.transcript).not.toContain('typed-at-a-tty');
    expect(await verifyPassword('typed-at-a-tty', (await rows())[0].password_hash)).toBe(true);

    const differ = await runAccountsAtTerminal(['passwd', 'T1'], url, ['first-entry-1', 'second-entry-2']);
    expect(differ.code).toBe(5);
    expect(differ.transcript).toMatch(/accounts: the two passwords differ; nothing was changed/);
    expect(await verifyPassword('typed-at-a-tty', (await rows())[0].password_hash)).toBe(true);
  }, 120_000);
});

describeWithRedis('npm run accounts, with sessions in Redis (REDIS_URL)', (redis) => {
  it('disable ends the sessions the server keeps in Redis, and only that user\'s', async () => {
    const url = sqliteUrl();
    const opened = await openMigrated(url);
    const sql = createSqlStores({ ...opened, now: Date.now, sessionIdleMs: 3_600_000, sealKey: randomBytes(32), appId: SIMULATED_APPID, commandTimeoutMs: 2000 });
    // As the server composes them: sessions in Redis, under its default prefix; users and accounts in the database.
    const stores = await createRedisStores({ url: redis().url, now: Date.now, sessionIdleMs: 3_600_000, sealKey: randomBytes(32), userDatabase: sql });
    try {
      for (const name of ['E1', 'E2']) await runAccounts(['add', name, '--name', name], { databaseUrl: url, stdin: `${PASSWORD}\n` });
      const [e1, e2] = await Promise.all(['E1', 'E2'].map(async (name) => (await stores.accounts.byName(name))!.userId));
      const at = Date.now();
      for (const [userId, n] of [[e1, 1], [e1, 2], [e2, 1]] as const) {
        await stores.sessions.create({ skeyHash: createHash('sha256').update(`${userId}-${n}`).digest('hex'), userId, sessionKey: 'session-key', createdAt: at, lastSeenAt: at, expiresAt: at + 86_400_000 });
      }
      const live = (userId: string, n: number) => stores.sessions.touch(createHash('sha256').update(`${userId}-${n}`).digest('hex'));

      const run = await runAccounts(['disable', 'E1'], { databaseUrl: url, redisUrl: redis().url });
      expect(run).toMatchObject({ code: 0, stdout: 'disabled E1: it can no longer bind or log in; 2 sessions ended\n' });
      expect(await live(e1, 1)).toBeNull();
      expect(await live(e1, 2)).toBeNull();
      expect(await live(e2, 1)).not.toBeNull();
    } finally {
      await stores.close();
    }
  }, 120_000);

  it('says Redis is unreachable, without the password of REDIS_URL, and changes nothing', async () => {
    const url = sqliteUrl();
    const opened = await openMigrated(url);
    try {
      await runAccounts(['add', 'E1', '--name', 'E1'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
      const port = await freePort();
      const run = await runAccounts(['disable', 'E1'], { databaseUrl: url, redisUrl: `redis://:redis-s3cret@127.0.0.1:${port}` });
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^accounts: cannot connect to Redis at REDIS_URL \\(127\\.0\\.0\\.1:${port}\\)`));
      expect(printed(run)).not.toContain('redis-s3cret');
      expect(Number((await opened.db.selectFrom('accounts').select('disabled').executeTakeFirstOrThrow()).disabled)).toBe(0);
    } finally {
      await opened.db.destroy();
    }
  }, 120_000);
});

describeWithDatabase('postgres', 'npm run accounts, on PostgreSQL', (server) => {
  it('adds, lists, changes the password of and disables an account in the server\'s PostgreSQL database', async () => {
    const url = await server().createDatabase('accounts_cli');
    const opened = await openMigrated(url);
    try {
      expect(await runAccounts(['add', 'E1024', '--name', '张三', '--roles', 'staff'], { databaseUrl: url, stdin: `${PASSWORD}\n` })).toMatchObject({ code: 0 });
      expect((await runAccounts(['list'], { databaseUrl: url })).stdout).toMatch(/^E1024\s+张三\s+staff\s+enabled\s+not bound$/m);
      const duplicate = await runAccounts(['add', 'E1024', '--name', '李四'], { databaseUrl: url, stdin: `${PASSWORD}\n` });
      expect(duplicate.code).toBe(4);
      expect(await runAccounts(['passwd', 'E1024'], { databaseUrl: url, stdin: 'the-new-password\n' })).toMatchObject({ code: 0 });
      expect(await runAccounts(['disable', 'E1024'], { databaseUrl: url })).toMatchObject({ code: 0 });

      const row = await opened.db.selectFrom('accounts').selectAll().executeTakeFirstOrThrow();
      expect(row).toMatchObject({ name: 'E1024', display_name: '张三', roles: '["staff"]' });
      expect(Number(row.disabled)).toBe(1);
      expect(await verifyPassword('the-new-password', row.password_hash)).toBe(true);
    } finally {
      await opened.db.destroy();
    }
  }, 180_000);
});
