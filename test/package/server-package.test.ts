/**
 * @jest-environment node
 *
 * The server package as built and packed: what it ships, what it requires at run time, and that
 * the build says so.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const PACKAGE = path.join(ROOT, 'packages', 'server');
const BUILD = path.join(ROOT, 'scripts', 'build-server-package.js');

interface Built {
  dependencies: string[];
  peers: string[];
  required: Record<string, string[]>;
  problems: string[];
  size: number;
  unpackedSize: number;
  files: string[];
}

let built: Built;
let printed: string;
beforeAll(() => {
  // In a child process, as `npm run build:packages` runs it.
  printed = execFileSync(process.execPath, [BUILD], { encoding: 'utf8' });
  built = JSON.parse(execFileSync(process.execPath, [BUILD, '--json'], { encoding: 'utf8' }).trim().split('\n').pop()!);
}, 120_000);

const manifest = () => JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));

test('the build prints the packed size and the runtime dependencies', () => {
  const lines = printed.trim().split('\n');
  expect(lines[0]).toBe(`packages/server built: ${(built.size / 1024).toFixed(1)} kB packed (${(built.unpackedSize / 1024).toFixed(1)} kB unpacked, ${built.files.length} files)`);
  expect(lines[1]).toMatch(/^ {2}runtime dependencies: fastify-plugin \(1 files\), ipaddr\.js \(2 files\), secure-json-parse \(\d+ files\), undici \(1 files\)$/);
  expect(lines[2]).toBe('  optional peers, the host\'s own: express (server/express.js), fastify (types only), ioredis (server/stores/redis.js)');
});

test('the built code requires only what the manifest declares, and the manifest declares nothing it does not require', () => {
  expect(built.problems).toEqual([]);
  expect(Object.keys(built.required).sort()).toEqual(['express', 'fastify-plugin', 'ioredis', 'ipaddr.js', 'secure-json-parse', 'undici']);
  expect(built.dependencies).toEqual(['fastify-plugin', 'ipaddr.js', 'secure-json-parse', 'undici']);
});

test('fastify, express and ioredis are optional peers, none a dependency', () => {
  const { dependencies, peerDependencies, peerDependenciesMeta } = manifest();
  for (const peer of ['fastify', 'express', 'ioredis']) {
    expect(dependencies[peer]).toBeUndefined();
    expect(peerDependencies[peer]).toMatch(/^\^5\./);
    expect(peerDependenciesMeta[peer]).toEqual({ optional: true });
  }
});

test('the core loads without fastify, express or ioredis: only undici and ipaddr.js', () => {
  const script = `
    require(${JSON.stringify(path.join(PACKAGE, 'dist', 'server', 'core', 'index.js'))});
    require(${JSON.stringify(path.join(PACKAGE, 'dist', 'server', 'core', 'simulator.js'))});
    const names = Object.keys(require.cache).filter((file) => file.includes('node_modules')).map((file) => file.split('node_modules/').pop().split('/')[0]);
    process.stdout.write(JSON.stringify([...new Set(names)].sort()));`;
  expect(JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))).toEqual(['ipaddr.js', 'undici']);
});

test('every entry point exports its API, and the entries share one ApiError class', () => {
  /* eslint-disable @typescript-eslint/no-require-imports -- the built CommonJS files, loaded as a host loads them */
  const core = require(path.join(PACKAGE, 'dist', 'server', 'core', 'index.js'));
  const fastify = require(path.join(PACKAGE, 'dist', 'server', 'fastify.js'));
  const express = require(path.join(PACKAGE, 'dist', 'server', 'express.js'));
  const simulator = require(path.join(PACKAGE, 'dist', 'server', 'core', 'simulator.js'));
  const errors = require(path.join(PACKAGE, 'dist', 'server', 'errors.js'));
  /* eslint-enable @typescript-eslint/no-require-imports */
  expect(Object.keys(core).sort()).toEqual(['ApiError', 'CONTRACT_ROUTES', 'OptionError', 'PASSWORD_PARAMS', 'clientKey', 'contractPaths', 'createAccountLifecycle', 'createLoginService', 'createMemoryStores', 'hashPassword', 'isSimulatedWeChat', 'needsRehash', 'sealKeyFromSecret']);
  expect(typeof fastify.fastifyWxLogin).toBe('function');
  expect(fastify.default).toBe(fastify.fastifyWxLogin);
  expect(Object.keys(express)).toEqual(['expressWxLogin']);
  expect(Object.keys(simulator).sort()).toEqual(['DEFAULT_USER', 'DEVTOOLS_MOCK_CODE', 'createSimulatedWeChat', 'isSimulatedWeChat']);
  expect(errors.ApiError).toBe(core.ApiError);
});

/** The packages the declarations reachable from `entry` (a .d.ts in dist) import, following their relative imports. */
function declaredImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, specifier] of fs.readFileSync(file, 'utf8').matchAll(/\bfrom '([^']+)'/g)) {
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(file), `${specifier}.d.ts`));
      else packages.add(specifier);
    }
  };
  visit(path.join(PACKAGE, 'dist', 'server', entry));
  return packages;
}

test('the declarations of the core and the simulator need no other package\'s types, and each adapter only its framework\'s', () => {
  expect([...declaredImports('core/index.d.ts')]).toEqual([]);
  expect([...declaredImports('core/simulator.d.ts')]).toEqual([]);
  expect([...declaredImports('express.d.ts')]).toEqual(['express']);
  expect([...declaredImports('fastify.d.ts')]).toEqual(['fastify']);
});

test('the exports map names files the pack ships, each with its declarations', () => {
  const { exports, typesVersions } = manifest();
  for (const [subpath, target] of Object.entries(exports as Record<string, string | { types: string; default: string }>)) {
    if (typeof target === 'string') {
      expect(built.files).toContain(target.replace('./', ''));
      continue;
    }
    expect({ subpath, js: built.files.includes(target.default.replace('./', '')), types: built.files.includes(target.types.replace('./', '')) }).toEqual({ subpath, js: true, types: true });
  }
  for (const [subpath, [types]] of Object.entries(typesVersions['*'] as Record<string, string[]>)) expect({ subpath, shipped: built.files.includes(types) }).toEqual({ subpath, shipped: true });
});

test('npm pack ships the built code, its declarations and the contract’s types, the README, the licence and the manifest, nothing else', () => {
  const others = built.files.filter((file) => !/^dist\/.+\.(js|d\.ts)$/.test(file));
  expect(others.sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
  expect(built.files).toContain('dist/typings/api.d.ts');
  expect(built.files.filter((file) => file.endsWith('.js')).length).toBe(built.files.filter((file) => file.endsWith('.d.ts')).length - 1);
});

test('the package carries the MIT licence it declares', () => {
  expect(manifest().license).toBe('MIT');
  expect(fs.readFileSync(path.join(PACKAGE, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
});
