/**
 * @jest-environment node
 *
 * A second team adopting the server package: a fresh Fastify app and a fresh Express app, each in
 * its own folder, install the packed wx-login-server tarball with npm, protect a route of their
 * own with requireSession, and the real mini-program auth service (through the Node wx adapter)
 * logs in over HTTP and calls that route. The package README's TypeScript blocks are type-checked
 * against the installed declarations.
 *
 * The registry is not reachable from tests: npm installs offline, the package's own dependencies
 * packed from the repository's node_modules the same way, and each app's framework (which a host
 * has installed already) linked from there.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAuth, type AuthClient } from '../../miniprogram/auth/index';
import { createNodeWx, type NodeWx } from '../../tools/node-wx';

const ROOT = path.join(__dirname, '..', '..');
const PACKAGE = path.join(ROOT, 'packages', 'server');
const NODE = process.execPath;
let work: string;
let tarball: string;
/** The package's runtime dependencies, packed: what npm would have fetched from the registry. */
const dependencyTarballs: Record<string, string> = {};

const write = (file: string, content: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
};

function run(command: string, args: string[], cwd: string): { status: number | null; output: string } {
  try {
    return { status: 0, output: execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const failed = error as { status: number | null; stdout?: string; stderr?: string };
    return { status: failed.status, output: `${failed.stdout || ''}${failed.stderr || ''}` };
  }
}

const pack = (dir: string): string => {
  const [report] = JSON.parse(execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work, dir], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  return path.join(work, report.filename);
};

/** A folder with its package.json naming the tarball (and its dependencies' tarballs), installed by npm offline; `frameworks` linked in. */
function installApp(name: string, frameworks: string[]): string {
  const dir = path.join(work, name);
  const dependencies: Record<string, string> = { 'wx-login-server': `file:${tarball}` };
  for (const [dependency, file] of Object.entries(dependencyTarballs)) dependencies[dependency] = `file:${file}`;
  write(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, dependencies }, null, 2));
  const install = run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], dir);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed in ${name}:\n${install.output}`);
  for (const framework of frameworks) {
    const link = path.join(dir, 'node_modules', framework);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', framework), link, 'dir');
  }
  return dir;
}

/** The Fastify team's app: the README's shape, a route of its own, and the development routes a host adds. */
const FASTIFY_APP = `'use strict';
const Fastify = require('fastify');
const { fastifyWxLogin } = require('wx-login-server/fastify');
const { createSimulatedWeChat } = require('wx-login-server/simulator');

const fastify = Fastify();
const wechat = createSimulatedWeChat();

async function main() {
  await fastify.register(fastifyWxLogin, { wechat });
  fastify.get('/mine', { preHandler: fastify.requireSession }, async (req) => ({ id: req.wxUser.id, nickname: req.wxUser.nickname }));
  fastify.post('/dev/codes', async (req) => ({ code: wechat.mintCode(req.body && req.body.user) }));
  fastify.post('/dev/sessions/expire', async () => ({ expired: await fastify.wxLogin.stores.sessions.deleteAll() }));
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write('listening on ' + fastify.server.address().port + '\\n');
}
main();
`;

/** The Express team's app. */
const EXPRESS_APP = `'use strict';
const express = require('express');
const { expressWxLogin } = require('wx-login-server/express');
const { createSimulatedWeChat } = require('wx-login-server/simulator');

const app = express();
const wechat = createSimulatedWeChat();
const { router, requireSession, service } = expressWxLogin({ wechat });

app.use(router);
app.get('/mine', requireSession, (req, res) => res.json({ id: req.wxUser.id, nickname: req.wxUser.nickname }));
app.post('/dev/codes', express.json(), (req, res) => res.json({ code: wechat.mintCode(req.body && req.body.user) }));
app.post('/dev/sessions/expire', async (req, res) => res.json({ expired: await service.stores.sessions.deleteAll() }));
const server = app.listen(0, '127.0.0.1', () => process.stdout.write('listening on ' + server.address().port + '\\n'));
`;

/** Starts `node server.js` in `dir`; resolves with its origin once it says where it listens. */
function startApp(dir: string, children: ChildProcess[]): Promise<string> {
  const child = spawn(NODE, ['server.js'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (\d+)/.exec(output);
      if (match) resolve(`http://127.0.0.1:${match[1]}`);
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`${dir}/server.js exited with ${code}:\n${output}`)));
  });
}

/**
 * The README's TypeScript: every fenced `ts` block whose first line names its file
 * (`// src/fastify-app.ts`), as a team would paste it into that file.
 */
function readmeExamples(): { file: string; code: string }[] {
  const readme = fs.readFileSync(path.join(PACKAGE, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n(\/\/ (\S+)[^\n]*\n[\s\S]*?)^```$/gm)].map(([, code, file]) => ({ file, code }));
}

const children: ChildProcess[] = [];
const apps: Record<'fastify' | 'express', { dir: string; base: string }> = {} as never;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-login-server-consumer-'));
  // Build and pack the package as its publisher would.
  execFileSync(NODE, [path.join(ROOT, 'scripts', 'build-server-package.js')], { stdio: 'ignore' });
  tarball = pack(PACKAGE);
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dependency of Object.keys(manifest.dependencies)) dependencyTarballs[dependency] = pack(path.join(ROOT, 'node_modules', dependency));

  const fastifyDir = installApp('fastify-app', ['fastify']);
  write(path.join(fastifyDir, 'server.js'), FASTIFY_APP);
  const expressDir = installApp('express-app', ['express']);
  write(path.join(expressDir, 'server.js'), EXPRESS_APP);
  const [fastifyBase, expressBase] = await Promise.all([startApp(fastifyDir, children), startApp(expressDir, children)]);
  apps.fastify = { dir: fastifyDir, base: fastifyBase };
  apps.express = { dir: expressDir, base: expressBase };
}, 180_000);

afterAll(() => {
  for (const child of children) child.kill();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('npm installs the tarball with exactly its declared runtime dependencies, and no framework of its own', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const installed = fs.readdirSync(path.join(apps.express.dir, 'node_modules')).filter((name) => !name.startsWith('.'));
  expect(installed.sort()).toEqual(['express', ...Object.keys(manifest.dependencies), 'wx-login-server'].sort());
  expect(JSON.parse(fs.readFileSync(path.join(apps.express.dir, 'node_modules', 'wx-login-server', 'package.json'), 'utf8')).name).toBe('wx-login-server');
});

describe.each(['fastify', 'express'] as const)('a fresh %s app with the packed package', (framework) => {
  let wx: NodeWx;
  let auth: AuthClient<{ id: string; nickname: string }>;
  let base: string;

  beforeAll(() => {
    base = apps[framework].base;
    wx = createNodeWx({ server: base, user: `${framework}-team` });
    auth = createAuth({ baseURL: base, wx, timeout: 5000 });
  });

  test('answers its own route behind requireSession with 200 and the session’s user, after one login', async () => {
    const session = await auth.login();
    const mine = await auth.request<{ id: string; nickname: string }>({ url: '/mine' });
    expect(mine.statusCode).toBe(200);
    expect(mine.data).toEqual({ id: session.user.id, nickname: '' });
    expect(wx.calls.login).toBe(1);
  });

  test('answers the route without a session with 401 in the contract’s envelope', async () => {
    const response = await fetch(`${base}/mine`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'SESSION_EXPIRED', message: expect.any(String) } });
  });

  test('heals a server-side expiry with exactly one re-login, the same user behind it', async () => {
    const before = await auth.request<{ id: string }>({ url: '/mine' });
    const logins = wx.calls.login;
    const expired = await fetch(`${base}/dev/sessions/expire`, { method: 'POST' });
    expect(((await expired.json()) as { expired: number }).expired).toBe(1);

    const [first, second] = await Promise.all([auth.request<{ id: string }>({ url: '/mine' }), auth.request<{ id: string }>({ url: '/mine' })]);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(first.data.id).toBe(before.data.id);
    expect(wx.calls.login).toBe(logins + 1);
  });
});

describe('the README’s TypeScript', () => {
  let consumer: string;
  const tsc = () => run(NODE, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], consumer);

  beforeAll(() => {
    consumer = apps.fastify.dir;
    for (const name of ['express', 'ioredis', '@types/express', '@types/node']) {
      const link = path.join(consumer, 'node_modules', name);
      if (!fs.existsSync(link)) {
        fs.mkdirSync(path.dirname(link), { recursive: true });
        fs.symlinkSync(path.join(ROOT, 'node_modules', name), link, 'dir');
      }
    }
    for (const { file, code } of readmeExamples()) write(path.join(consumer, file), code);
    write(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, esModuleInterop: true, skipLibCheck: true, types: ['node'] },
        include: ['src/**/*.ts'],
      }),
    );
  });

  test('type-checks against the installed package’s declarations under strict nodenext settings', () => {
    expect(readmeExamples().map((block) => block.file)).toEqual(['src/fastify-app.ts', 'src/express-app.ts', 'src/production.ts', 'src/plain-node.ts']);
    const result = tsc();
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  });

  test('the declarations are real types: a misuse is a compile error', () => {
    const misuse = path.join(consumer, 'src', 'misuse.ts');
    write(
      misuse,
      "import Fastify from 'fastify';\nimport { fastifyWxLogin } from 'wx-login-server/fastify';\nconst app = Fastify();\napp.register(fastifyWxLogin, { wechat: { appId: 'wx1' }, loginRateLimit: '20' });\napp.get('/x', { preHandler: app.requireSession }, async (req) => req.wxUser.nickName);\n",
    );
    try {
      const result = tsc();
      expect(result.status).not.toBe(0);
      expect(result.output).toMatch(/misuse\.ts\(4,\d+\)/);
      expect(result.output).toMatch(/misuse\.ts\(5,\d+\).*'nickName' does not exist/);
    } finally {
      fs.rmSync(misuse);
    }
  });
});
