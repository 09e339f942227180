/**
 * The auth service as a package: built from the app's own source, small, ES2015, dependency-free,
 * and packed with exactly the files a consumer needs.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'acorn';

const ROOT = path.join(__dirname, '..', '..');
const PACKAGE = path.join(ROOT, 'packages', 'auth');

let built: { dist: string; gzipBytes: number; budgetBytes: number; shippedBytes: number; shippedGzipBytes: number };
beforeAll(() => {
  // In a child process: esbuild refuses to run inside jsdom, and this is what `npm run build:auth` runs.
  const out = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-auth.js'), '--json'], { encoding: 'utf8' });
  built = JSON.parse(out.trim().split('\n').pop()!);
});

test('the package code stays within its 4 KB minified + gzipped budget', () => {
  expect(built.budgetBytes).toBe(4096);
  expect(built.gzipBytes).toBeGreaterThan(1000); // a real build, not an empty file
  expect(built.gzipBytes).toBeLessThanOrEqual(4096);
});

test('the shipped file is the readable build, and the budget is measured on its minified form, as DevTools uploads it', () => {
  const code = fs.readFileSync(path.join(built.dist, 'index.js'), 'utf8');
  expect(built.shippedBytes).toBe(Buffer.byteLength(code));
  expect(code.split('\n').length).toBeGreaterThan(100); // readable: one statement a line, not one long line
  expect(built.shippedGzipBytes).toBeGreaterThan(built.gzipBytes);
});

test('both READMEs quote the sizes this build measures (minified + gzipped, and the readable file gzipped)', () => {
  for (const readme of [path.join(ROOT, 'README.md'), path.join(PACKAGE, 'README.md')]) {
    const text = fs.readFileSync(readme, 'utf8');
    expect({ readme, quotesBudgetFigure: text.includes(`${built.gzipBytes} bytes`) }).toEqual({ readme, quotesBudgetFigure: true });
    expect({ readme, quotesShippedFigure: text.includes(`${built.shippedBytes} bytes, ${built.shippedGzipBytes} gzipped`) }).toEqual({ readme, quotesShippedFigure: true });
  }
});

test('the built code is plain ES2018 that the base library runs without transpiling', () => {
  const code = fs.readFileSync(path.join(built.dist, 'index.js'), 'utf8');
  expect(() => parse(code, { ecmaVersion: 2018, sourceType: 'script' })).not.toThrow();
});

test('the built code requires nothing at run time', () => {
  const code = fs.readFileSync(path.join(built.dist, 'index.js'), 'utf8');
  expect(code).not.toMatch(/\brequire\(/);
});

test('the built code exports the public API', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the built CommonJS file, loaded as a mini-program loads it
  const api = require(path.join(built.dist, 'index.js'));
  expect(Object.keys(api).sort()).toEqual(['AuthError', 'createAuth', 'isAuthError']);
  const error = new api.AuthError('HTTP', 'GET /x', 'HTTP 500');
  expect(api.isAuthError(error, 'HTTP')).toBe(true);
});

test('package.json names the built folder for DevTools and declares no dependencies', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));
  expect(manifest).toMatchObject({
    name: 'wx-login-auth',
    miniprogram: 'miniprogram_dist',
    main: 'miniprogram_dist/index.js',
    types: 'miniprogram_dist/index.d.ts',
    files: ['miniprogram_dist'],
  });
  expect(manifest.dependencies).toBeUndefined();
  expect(manifest.peerDependencies).toBeUndefined();
});

test('the package carries the MIT licence it declares', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));
  expect(manifest.license).toBe('MIT');
  expect(fs.readFileSync(path.join(PACKAGE, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
});

test('npm pack ships the code, the declarations, the README, the licence and nothing else', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-login-pack-'));
  try {
    const [report] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: PACKAGE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const files = (report.files as { path: string }[]).map((f) => f.path).sort();
    expect(files).toEqual([
      'LICENSE',
      'README.md',
      'miniprogram_dist/client.d.ts',
      'miniprogram_dist/errors.d.ts',
      'miniprogram_dist/index.d.ts',
      'miniprogram_dist/index.js',
      'miniprogram_dist/stages.d.ts',
      'miniprogram_dist/storage.d.ts',
      'miniprogram_dist/transport.d.ts',
      'miniprogram_dist/types.d.ts',
      'package.json',
    ]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
