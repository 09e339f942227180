#!/usr/bin/env node
// Builds the server package packages/server (`wx-login-server`) from the reference server's own
// source: tsc compiles the package's entries (server/core/index.ts, server/core/simulator.ts,
// server/fastify.ts, server/express.ts) and the modules they import (the nickname rule from
// miniprogram/utils among them) into dist/ as they sit in the repository, one .js and one .d.ts per
// module, so that the core's classes (ApiError) are one and the same from every entry. Then it
// checks that every package the built code requires is declared (a dependency, or an optional
// peer for what the host brings: fastify, express, ioredis) and that no dependency goes unused,
// and prints the packed size and the runtime dependencies.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');
const { builtinModules } = require('node:module');
const { execFileSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const PACKAGE = path.join(ROOT, 'packages', 'server');
const DIST = path.join(PACKAGE, 'dist');

/** Every JavaScript file under `dir`. */
function jsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? jsFiles(file) : entry.name.endsWith('.js') ? [file] : [];
  });
}

/** The packages the built code requires (by name; node's own modules left out), each with the files requiring it. */
function requiredPackages() {
  const builtins = new Set(builtinModules);
  const required = new Map();
  for (const file of jsFiles(DIST)) {
    for (const [, specifier] of fs.readFileSync(file, 'utf8').matchAll(/\brequire\("([^"]+)"\)/g)) {
      if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
      required.set(name, [...(required.get(name) ?? []), path.relative(DIST, file)]);
    }
  }
  return required;
}

/** What `npm pack` would publish: the tarball's size, unpacked size and files. */
function packed() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-login-server-pack-'));
  try {
    const [report] = JSON.parse(execFileSync('npm', ['pack', '--json', '--dry-run', '--pack-destination', out], { cwd: PACKAGE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    return { size: report.size, unpackedSize: report.unpackedSize, files: report.files.map((file) => file.path).sort() };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

function build() {
  fs.rmSync(DIST, { recursive: true, force: true });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(PACKAGE, 'tsconfig.json')], { stdio: 'inherit' });
  // The contract's types, where the declarations import them from (typings/ beside server/, as in the repository).
  fs.mkdirSync(path.join(DIST, 'typings'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'typings', 'api.d.ts'), path.join(DIST, 'typings', 'api.d.ts'));

  const manifest = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));
  const dependencies = Object.keys(manifest.dependencies ?? {});
  const peers = Object.keys(manifest.peerDependencies ?? {});
  const required = requiredPackages();
  const problems = [];
  for (const [name, files] of required) {
    if (!dependencies.includes(name) && !peers.includes(name)) problems.push(`${name} is required by ${files.join(', ')} but not declared in packages/server/package.json`);
  }
  for (const name of [...dependencies, ...peers]) {
    if (!required.has(name) && name !== 'fastify') problems.push(`${name} is declared but no built file requires it`);
  }
  return { dist: DIST, dependencies, peers, required: Object.fromEntries(required), problems, ...packed() };
}

module.exports = { build, PACKAGE, DIST };

if (require.main === module) {
  const result = build();
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else {
    const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
    console.log(`packages/server built: ${kb(result.size)} packed (${kb(result.unpackedSize)} unpacked, ${result.files.length} files)`);
    console.log(`  runtime dependencies: ${result.dependencies.map((name) => `${name} (${result.required[name].length} files)`).join(', ')}`);
    console.log(`  optional peers, the host's own: ${result.peers.map((name) => `${name}${result.required[name] ? ` (${result.required[name].join(', ')})` : ' (types only)'}`).join(', ')}`);
  }
  if (result.problems.length > 0) {
    console.error(`packages/server: ${result.problems.join('; ')}`);
    process.exit(1);
  }
}
