/**
 * `npm run demo -- --bind` against `ACCOUNT_MODE=bind npm start`, both real processes: the walk a
 * developer makes to see bind mode, with the demo account's password from the start banner given
 * on standard input.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { freePort } from '../../tools/free-port';
import type { BindRequiredResponse, LoginResponse } from '../../typings/api';
import { testConfig, until } from '../server/helpers';
import { npmStart, stopped } from './npm-start';

const root = path.resolve(__dirname, '../..');

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** /proc/<pid>/cmdline while it waited for the password. */
  argv: string;
}

/** The demo (tsx scripts/demo.ts, as npm run demo runs it) with `args`; `password` goes on standard input once it asks. */
function runDemo(port: number, args: string[], password: string): Promise<DemoRun> {
  const child = spawn(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/demo.ts', ...args], {
    cwd: root,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const run: DemoRun = { code: null, stdout: '', stderr: '', argv: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
    if (!run.argv && run.stderr.includes('Reading the password from standard input')) {
      run.argv = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      child.stdin.end(`${password}\n`);
    }
  });
  child.stdin.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      if (!run.argv) child.stdin.destroy();
      resolve({ ...run, code });
    });
  });
}

// One server for the cases: together they make 4 bind attempts from 127.0.0.1, under the server's 5 per client address in 15 minutes.
describe('npm run demo -- --bind, against ACCOUNT_MODE=bind npm start', () => {
  let cwd: string;
  let port: number;
  let server: ChildProcess;
  let password: string;

  beforeAll(async () => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'wx-login-demo-bind-'));
    port = await freePort();
    const started = await npmStart(cwd, port, { ACCOUNT_MODE: 'bind' });
    server = started.child;
    await until(() => /Demo account: demo, password \S+ /.test(started.output()), 'the demo account in the start banner', 30_000);
    password = /Demo account: demo, password (\S+) /.exec(started.output())![1];
  }, 120_000);
  afterAll(async () => {
    if (server) await stopped(server);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('walks login → bindRequired → bind → menus with 审批 → approvals → unbind → bindRequired again, one line per step, and exits 0', async () => {
    const { code, stdout, argv } = await runDemo(port, ['--bind'], password);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^✔ 1\. server at http:\/\/127\.0\.0\.1:\d+: answers, and refuses a request without a session \(401\)$/),
      expect.stringMatching(/^✔ 2\. log in \(wx\.login → POST \/auth\/login\): bindRequired: ticket \S+…, good until \d\d:\d\d:\d\d UTC; no session, nothing stored/),
      expect.stringMatching(/^✔ 3\. bind with the demo account demo \(POST \/auth\/bind\): skey \S+… for user \S+, account demo \(演示账号\), roles staff$/),
      '✔ 4. read the menus (GET /auth/session): 我的订单, 审批',
      expect.stringMatching(/^✔ 5\. list the approvals \(GET \/api\/approvals, which needs approvals:read\): [1-9]\d* approvals$/),
      '✔ 6. unbind (DELETE /auth/binding): every session of the binding ended; the local session cleared',
      '✔ 7. use the old skey: refused: 401 SESSION_EXPIRED',
      expect.stringMatching(/^✔ 8\. log in again: bindRequired again, a new ticket \S+…$/),
      'Done: bind mode works against this server.',
    ]);
    expect(argv).toMatch(/scripts\/demo\.ts --bind$/);
    expect(argv + stdout).not.toContain(password);
  }, 120_000);

  it('unbinds first what a walk stopped midway left bound, then walks as usual', async () => {
    // A walk stopped after its bind: the demo's WeChat user stays bound to the demo account.
    const base = `http://127.0.0.1:${port}`;
    const post = async <T>(route: string, body: unknown) =>
      (await (await fetch(`${base}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json()) as T;
    const { code } = await post<{ code: string }>('/dev/codes', { user: 'demo-bind-walk' });
    const { bindTicket } = await post<BindRequiredResponse>('/auth/login', { code });
    expect((await post<LoginResponse>('/auth/bind', { bindTicket, account: 'demo', password })).user.account?.name).toBe('demo');

    const run = await runDemo(port, ['--bind'], password);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^✔ 2\. unbind what an earlier walk left bound \(demo\): DELETE \/auth\/binding$/m);
    expect(run.stdout).toMatch(/^✔ 3\. log in \(wx\.login → POST \/auth\/login\): bindRequired/m);
    expect(run.stdout).toMatch(/^Done: bind mode works against this server\.$/m);
  }, 120_000);

  it('stops at the bind with a wrong password, exit 1, saying what the server answered', async () => {
    const run = await runDemo(port, ['--bind'], 'not-the-password');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✘ 3\. bind with the demo account demo \(POST \/auth\/bind\): .*INVALID_CREDENTIALS/m);
    expect(run.stdout).not.toMatch(/^Done/m);
  }, 120_000);

  it('refuses a password on the command line before doing anything, without echoing it', async () => {
    const run = await runDemo(port, ['--bind', `--password=${password}`], password);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^demo: --password: a password is never taken from the command line/);
    expect(run.stderr).not.toContain(password);
  }, 60_000);
});

describe('npm run demo -- --bind, against a server in open mode', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), log: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  it('stops at the login, saying the server runs in open mode and how to start it in bind mode', async () => {
    const run = await runDemo((app.server.address() as { port: number }).port, ['--bind'], 'any-password');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^✘ 2\. log in \(wx\.login → POST \/auth\/login\): the server created a session for an unknown WeChat user: it runs in open mode; start it with `ACCOUNT_MODE=bind npm start`$/m);
  }, 60_000);
});
