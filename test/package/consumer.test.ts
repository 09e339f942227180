/**
 * A second team adopting the package: a fresh mini-program in a temporary folder installs the
 * packed tarball with npm, builds miniprogram_npm as DevTools does, type-checks its own TypeScript
 * (the package README's example among it, taken from the README itself) against the package's
 * declarations, and logs in against the real server through the package, loaded by name from
 * miniprogram_npm, exactly where a mini-program's require() looks.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { setImmediate as nodeSetImmediate } from 'node:timers';
import { deserialize, serialize } from 'node:v8';
import simulate from 'miniprogram-simulate';
import { freePort } from '../../tools/free-port';
import { createNodeWx, type NodeWx } from '../../tools/node-wx';

const ROOT = path.join(__dirname, '..', '..');
const NODE = process.execPath;
let work: string;
let consumer: string;
let server: ChildProcess;
let base: string;

const write = (file: string, content: string) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
};

/** The consumer's component: imports the package by name, signs in, reads the profile. */
const COMPONENT = `
import { createAuth, isAuthError, type AuthClient } from 'wx-login-auth';

interface Me {
  id: string;
  nickname: string;
}

let auth: AuthClient<Me> | null = null;

Component({
  properties: { server: { type: String, value: '' } },
  data: { status: 'signed-out', userId: '', error: '' },
  methods: {
    signIn() {
      const client = (auth = auth || createAuth<Me>({ baseURL: this.data.server, storageKey: 'consumer_session' }));
      this.setData({ status: 'signing-in' });
      client
        .login()
        .then(() => client.request<{ user: Me }>({ url: '/api/profile' }))
        .then((answer) => this.setData({ status: 'signed-in', userId: answer.data.user.id }))
        .catch((error: unknown) => this.setData({ status: 'failed', error: isAuthError(error) ? error.code : String(error) }));
    },
  },
});
`;

/**
 * The package README's example: every fenced `ts` block whose first line names its file
 * (`// miniprogram/app.ts`), as a consumer would paste it into that file.
 */
function readmeExample(): { file: string; code: string }[] {
  const readme = fs.readFileSync(path.join(ROOT, 'packages', 'auth', 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n(\/\/ (\S+)[^\n]*\n[\s\S]*?)^```$/gm)].map(([, code, file]) => ({ file, code }));
}

/** The compiler options of DevTools' TypeScript template (miniprogram-ts), which consumers start from. */
const TEMPLATE_OPTIONS = {
  target: 'ES2020',
  module: 'CommonJS',
  moduleResolution: 'bundler',
  lib: ['ES2020'],
  strict: true,
  noImplicitAny: true,
  noImplicitThis: true,
  noImplicitReturns: true,
  noUnusedLocals: true,
  noUnusedParameters: true,
  noFallthroughCasesInSwitch: true,
  noEmit: true,
  skipLibCheck: true,
};

/** The real server, as `npm run server` starts it, in its own process. */
async function startServer(): Promise<void> {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  server = spawn(NODE, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(ROOT, 'server', 'index.ts')], {
    cwd: ROOT,
    env: { ...process.env, WX_MODE: 'simulated', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'silent', UPLOAD_DIR: path.join(work, 'uploads') },
    stdio: 'ignore',
  });
  // jsdom has no fetch; a plain HTTP probe until the server answers (401: no session, as expected).
  const answers = () =>
    new Promise<boolean>((resolve) => http.get(`${base}/auth/session`, (res) => resolve(res.resume() && res.statusCode === 401)).on('error', () => resolve(false)));
  const deadline = Date.now() + 20_000;
  while (!(await answers())) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`server did not start on ${base}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function run(command: string, args: string[], cwd: string): { status: number | null; output: string } {
  try {
    return { status: 0, output: execFileSync(command, args, { cwd, encoding: 'utf8', stdio: 'pipe' }) };
  } catch (error) {
    const failed = error as { status: number | null; stdout?: string; stderr?: string };
    return { status: failed.status, output: `${failed.stdout || ''}${failed.stderr || ''}` };
  }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-login-consumer-'));
  consumer = path.join(work, 'consumer');
  const serverReady = startServer();

  // Build and pack the package as its publisher would.
  execFileSync(NODE, [path.join(ROOT, 'scripts', 'build-auth.js')], { stdio: 'ignore' });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: path.join(ROOT, 'packages', 'auth'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));

  write(path.join(consumer, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, dependencies: { 'wx-login-auth': `file:${path.join(work, packed.filename)}` } }, null, 2));
  write(path.join(consumer, 'project.config.json'), JSON.stringify({ compileType: 'miniprogram', miniprogramRoot: 'miniprogram/', appid: 'touristappid', setting: { useCompilerPlugins: ['typescript'] } }));
  write(path.join(consumer, 'miniprogram', 'app.json'), JSON.stringify({ pages: ['pages/index/index'], usingComponents: { 'sign-in': '/components/sign-in/index' } }));
  write(path.join(consumer, 'miniprogram', 'components', 'sign-in', 'index.json'), JSON.stringify({ component: true }));
  write(path.join(consumer, 'miniprogram', 'components', 'sign-in', 'index.wxml'), '<view class="status">{{status}}</view>\n<view class="user">{{userId}}</view>\n<view class="error">{{error}}</view>\n<button class="sign-in" bindtap="signIn">Sign in</button>\n');
  write(path.join(consumer, 'miniprogram', 'components', 'sign-in', 'index.ts'), COMPONENT);
  for (const { file, code } of readmeExample()) write(path.join(consumer, file), code);
  write(
    path.join(consumer, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { ...TEMPLATE_OPTIONS, types: [path.join(ROOT, 'node_modules', 'miniprogram-api-typings')] },
      include: ['miniprogram/**/*.ts', 'typings/**/*.d.ts'],
      exclude: ['miniprogram/miniprogram_npm'],
    }),
  );

  const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], consumer);
  if (install.status !== 0) throw new Error(`npm install of the tarball failed:\n${install.output}`);
  await serverReady;
}, 120_000);

afterAll(() => {
  server?.kill();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('npm installs the tarball with no dependencies of its own', () => {
  const installed = JSON.parse(fs.readFileSync(path.join(consumer, 'node_modules', 'wx-login-auth', 'package.json'), 'utf8'));
  expect(installed.name).toBe('wx-login-auth');
  expect(fs.readdirSync(path.join(consumer, 'node_modules'))).toEqual(expect.arrayContaining(['wx-login-auth']));
  expect(fs.readdirSync(path.join(consumer, 'node_modules')).filter((name) => !name.startsWith('.'))).toEqual(['wx-login-auth']);
});

const tsc = () => run(NODE, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], consumer);

test('the consumer\'s TypeScript, the README\'s example included, type-checks against the package\'s declarations under the template\'s strict settings', () => {
  expect(readmeExample().map((block) => block.file)).toEqual(['typings/index.d.ts', 'miniprogram/app.ts', 'miniprogram/pages/orders/orders.ts']);
  const result = tsc();
  expect(result.output).toBe('');
  expect(result.status).toBe(0);
});

test('the README\'s getApp<IAppOption>() is what types the page: a bare getApp() does not compile', () => {
  const page = path.join(consumer, 'miniprogram', 'pages', 'orders', 'orders.ts');
  const original = fs.readFileSync(page, 'utf8');
  expect(original).toContain('getApp<IAppOption>()');
  fs.writeFileSync(page, original.replace('getApp<IAppOption>()', 'getApp()'));
  try {
    const result = tsc();
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/orders\.ts\(\d+,\d+\): error TS2347: Untyped function calls may not accept type arguments/);
  } finally {
    fs.writeFileSync(page, original);
  }
});

test('the declarations are real types: a misuse is a compile error in the consumer', () => {
  const misuse = path.join(consumer, 'miniprogram', 'misuse.ts');
  write(misuse, "import { createAuth } from 'wx-login-auth';\nconst auth = createAuth({ baseURL: 'x' });\nauth.request({ uri: '/api/profile' });\nexport const n: number = auth.getSession();\n");
  try {
    const result = tsc();
    expect(result.status).not.toBe(0);
    expect(result.output).toMatch(/misuse\.ts\(3,\d+\).*'uri' does not exist/);
    expect(result.output).toMatch(/misuse\.ts\(4,\d+\)/);
  } finally {
    fs.rmSync(misuse);
  }
});

describe('inside the consumer mini-program', () => {
  let wx: NodeWx;

  beforeAll(() => {
    // jsdom hides Node's setImmediate and structuredClone, which the Node wx adapter relies on.
    Object.assign(globalThis, {
      setImmediate: globalThis.setImmediate || nodeSetImmediate,
      structuredClone: globalThis.structuredClone || ((value: unknown) => deserialize(serialize(value))),
    });
    // DevTools' "build npm", then nothing left in node_modules: only miniprogram_npm can serve the import.
    execFileSync(NODE, [path.join(ROOT, 'scripts', 'build-npm.js'), '--quiet', '--project', consumer]);
    fs.rmSync(path.join(consumer, 'node_modules'), { recursive: true, force: true });
  });

  test('"build npm" puts the package where require(\'wx-login-auth\') looks', () => {
    const built = path.join(consumer, 'miniprogram', 'miniprogram_npm', 'wx-login-auth');
    expect(fs.readdirSync(built)).toEqual(expect.arrayContaining(['index.js', 'index.d.ts']));
  });

  test('a component importing the package by name logs in against the real server and reads the profile', async () => {
    const id = simulate.load(path.join(consumer, 'miniprogram', 'components', 'sign-in', 'index'), { rootPath: path.join(consumer, 'miniprogram') });
    // The package reads the global wx when a call runs; here it is real HTTP to the real server.
    wx = createNodeWx({ server: base, user: 'second-team' });
    (globalThis as { wx?: unknown }).wx = wx;
    const comp = simulate.render(id, { server: base });
    // test/tsconfig has no DOM lib; jsdom provides the document at run time.
    const { document } = globalThis as unknown as { document: { createElement(tag: string): Parameters<typeof comp.attach>[0] } };
    comp.attach(document.createElement('parent-wrapper'));

    comp.querySelector('.sign-in')!.dispatchEvent('tap');
    const deadline = Date.now() + 10_000;
    const turn = () => new Promise((resolve) => setTimeout(resolve, 20));
    while (/^(signed-out|signing-in)$/.test(comp.data.status) && Date.now() < deadline) await turn();
    await turn(); // j-component renders setData on a later turn

    expect(comp.data.error).toBe('');
    expect(comp.querySelector('.status')!.dom!.textContent).toBe('signed-in');
    expect(comp.querySelector('.user')!.dom!.textContent).toMatch(/\S+/);
    expect(wx.calls.login).toBe(1);
    expect(wx.getStorageSync('consumer_session')).toMatchObject({ v: 1, user: { id: comp.data.userId } });
  });
});
