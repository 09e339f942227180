import fs from 'fs';
import os from 'os';
import path from 'path';
import { loadMiniProgram, type LoadReport } from './mini-runtime';

const MINIPROGRAM = path.resolve(__dirname, '../../miniprogram');

describe('the mini-program, loaded as WeChat\'s runtime loads it', () => {
  let report: LoadReport;
  beforeAll(() => {
    if (!fs.existsSync(path.join(MINIPROGRAM, 'miniprogram_npm', '@vant', 'weapp'))) {
      throw new Error('miniprogram/miniprogram_npm is missing: run `npm run build:npm` first');
    }
    report = loadMiniProgram(MINIPROGRAM);
  });

  test('compiles every .ts on its own and loads every module without a problem', () => {
    expect(report.problems).toEqual([]);
  });

  test('registers the app once, every page of app.json and every component they use', () => {
    const app = JSON.parse(fs.readFileSync(path.join(MINIPROGRAM, 'app.json'), 'utf8')) as { pages: string[] };
    expect(report.registered.app).toEqual(['app']);
    expect(report.registered.pages).toEqual(app.pages);
    expect(report.registered.components).toEqual(expect.arrayContaining(['components/login-panel/index', 'miniprogram_npm/@vant/weapp/button/index']));
  });

  test('registers one privacy listener for the whole app', () => {
    expect(report.wxCalls.onNeedPrivacyAuthorization).toBe(1);
  });
});

describe('the load check itself', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'mini-load-'));
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** A one-page mini-program whose page is `pageSource`, plus any extra files. */
  function project(pageSource: string, extra: Record<string, string> = {}): LoadReport {
    const files: Record<string, string> = {
      'app.json': JSON.stringify({ pages: ['pages/home/home'] }),
      'app.ts': 'App({});',
      'pages/home/home.json': '{}',
      'pages/home/home.ts': pageSource,
      ...extra,
    };
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
      fs.writeFileSync(path.join(root, name), content);
    }
    return loadMiniProgram(root);
  }
  const messages = (report: LoadReport) => report.problems.map((p) => `${p.file}: ${p.message}`);

  test('passes a page that imports a sibling module and a package from miniprogram_npm', () => {
    const report = project("import { greet } from '../../utils/greet';\nimport lib from 'lib/index';\nComponent({ data: { text: greet(lib) } });", {
      'utils/greet.ts': 'export const greet = (n: string) => `hi ${n}`;',
      'miniprogram_npm/lib/index.js': 'module.exports = "lib";',
    });
    expect(report.problems).toEqual([]);
    expect(report.registered.pages).toEqual(['pages/home/home']);
  });

  test('fails a value import from outside the mini-program root, where only `import type` may go', () => {
    const report = project("import { LIMIT } from '../../../shared/limits';\nComponent({ data: { LIMIT } });");
    expect(messages(report)).toEqual([expect.stringMatching(/^pages\/home\/home\.js: throws while loading: Error: require\("\.\.\/\.\.\/\.\.\/shared\/limits"\) reaches outside the mini-program root/)]);
  });

  test('lets `import type` from outside the root through, since compiling erases it', () => {
    const report = project("import type { User } from '../../../typings/api';\nconst none: User | null = null;\nComponent({ data: { none } });");
    expect(report.problems).toEqual([]);
  });

  test('fails a Node built-in, a package only node_modules has, and a tsconfig paths alias', () => {
    for (const request of ['fs', 'lodash', '@/utils/greet']) {
      const report = project(`import x from '${request}';\nComponent({ data: { x } });`);
      expect(messages(report)).toEqual([expect.stringContaining(`require("${request}") resolves to nothing the mini-program runtime can load`)]);
    }
  });

  test('fails Node globals, whether loading runs them or not', () => {
    const atLoad = project('const debug = process.env.DEBUG;\nComponent({ data: { debug } });');
    expect(messages(atLoad)).toEqual([
      "pages/home/home.ts: uses Node's global `process`, which the mini-program runtime does not have",
      expect.stringMatching(/^pages\/home\/home\.js: throws while loading: ReferenceError: process is not defined/),
    ]);
    const later = project("Component({ methods: { encode(s: string) { return Buffer.from(s).toString('base64'); } } });");
    expect(messages(later)).toEqual(["pages/home/home.ts: uses Node's global `Buffer`, which the mini-program runtime does not have"]);
  });

  test('fails a module that throws while registering, and a page that registers nothing or twice', () => {
    expect(messages(project("Component({});\nthrow new Error('boom');"))).toEqual(['pages/home/home.js: throws while loading: Error: boom']);
    expect(messages(project('export const nothing = 1;'))).toEqual(['pages/home/home.js: registered nothing; expected exactly one Page or Component()']);
    expect(messages(project('Component({});\nComponent({});'))).toEqual(['pages/home/home.js: registered Component, Component; expected exactly one Page or Component()']);
  });

  test('fails a used component that is not in miniprogram_npm, and loads the ones that are', () => {
    const used = { 'pages/home/home.json': JSON.stringify({ usingComponents: { 'x-card': 'x/card', 'x-gone': 'x/gone' } }) };
    const report = project('Component({});', {
      ...used,
      'miniprogram_npm/x/card.json': '{"component": true}',
      'miniprogram_npm/x/card.js': 'Component({});',
    });
    expect(report.registered.components).toEqual(['miniprogram_npm/x/card']);
    expect(messages(report)).toEqual(['pages/home/home.json: usingComponents "x/gone" is not in any miniprogram_npm']);
  });
});
