#!/usr/bin/env node
// Builds the auth service (miniprogram/auth, the app's own source) into the publishable
// mini-program package packages/auth: one CommonJS file that WeChat's base library runs as is,
// plus .d.ts declarations. Prints the minified + gzipped size and fails above the budget.
//
// The file shipped is readable (not minified), so that a consumer can read and debug it in
// DevTools. What reaches a phone is minified: DevTools minifies every script, miniprogram_npm
// included, when it uploads with `setting.minified: true` (上传时压缩代码, on in DevTools'
// templates). So the budget measures the minified build; the readable file's gzip size is
// reported beside it.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const zlib = require('node:zlib');
const { execFileSync } = require('node:child_process');
const esbuild = require('esbuild');

const ROOT = path.join(__dirname, '..');
const PACKAGE = path.join(ROOT, 'packages', 'auth');
const DIST = path.join(PACKAGE, 'miniprogram_dist');
const ENTRY = path.join(ROOT, 'miniprogram', 'auth', 'index.ts');
const BUDGET_BYTES = 4096;

// ES2018 (native async/await and object spread) runs on every base library WeChat still supports
// (iOS 12+, Android 5+); lowering them to helpers would cost up to twice the CPU per request.
const common = { entryPoints: [ENTRY], bundle: true, format: 'esm', platform: 'neutral', target: 'es2018', write: false, logLevel: 'silent' };

/**
 * The bundle as CommonJS, which is what the base library's require loads. esbuild's own cjs format
 * wraps the exports in getters through five interop helpers (about 220 of the budget's bytes, and
 * a getter call on every access); the module has nothing else to convert, so its final
 * `export { a as B }` statement becomes a plain `module.exports = { B: a }`.
 */
function commonJs(options) {
  const [file] = esbuild.buildSync({ ...common, ...options }).outputFiles;
  const match = /\bexport\s*\{([^}]*)\};?\s*$/.exec(file.text);
  if (!match) throw new Error('build-auth: no final export statement in the bundle');
  const exported = match[1].split(',').map((item) => {
    const [local, name = local] = item.trim().split(/\s+as\s+/);
    return `${name}:${local}`;
  });
  return `"use strict";\n${file.text.slice(0, match.index)}module.exports={${exported.join(',')}};\n`;
}

const gzipBytes = (code) => zlib.gzipSync(code, { level: 9 }).length;

/** Minified + gzipped size of the package's code, the figure the budget is about. */
function measure() {
  return gzipBytes(commonJs({ minify: true }));
}

function build() {
  fs.rmSync(DIST, { recursive: true, force: true });
  fs.mkdirSync(DIST, { recursive: true });
  const shipped = `/* wx-login-auth: see README.md */\n${commonJs({})}`;
  fs.writeFileSync(path.join(DIST, 'index.js'), shipped);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(PACKAGE, 'tsconfig.json')], { stdio: 'inherit' });
  return { dist: DIST, gzipBytes: measure(), budgetBytes: BUDGET_BYTES, shippedBytes: Buffer.byteLength(shipped), shippedGzipBytes: gzipBytes(shipped) };
}

module.exports = { build, measure, PACKAGE, DIST, BUDGET_BYTES };

if (require.main === module) {
  const result = build();
  const { gzipBytes, shippedBytes, shippedGzipBytes } = result;
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    console.log(`packages/auth built: ${gzipBytes} bytes minified + gzipped (budget ${BUDGET_BYTES}), what DevTools uploads with "minified": true`);
    console.log(`  miniprogram_dist/index.js ships readable: ${shippedBytes} bytes, ${shippedGzipBytes} gzipped`);
  }
  if (gzipBytes > BUDGET_BYTES) {
    console.error(`over budget by ${gzipBytes - BUDGET_BYTES} bytes`);
    process.exit(1);
  }
}
