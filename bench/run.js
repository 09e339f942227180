#!/usr/bin/env node
// `npm run bench`: builds the auth package (its size is a figure, its file is measured too), bundles
// the benchmark with esbuild and runs it under plain Node with --expose-gc. Plain Node rather than
// tsx: tsx compiles with keepNames, which wraps every closure the client makes per request and
// would add tens of microseconds that no mini-program pays.
'use strict';
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const esbuild = require('esbuild');
const { build, BUDGET_BYTES } = require('../scripts/build-auth.js');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(__dirname, '.tmp', 'bench.cjs');

const { dist, gzipBytes } = build();
esbuild.buildSync({
  entryPoints: [path.join(__dirname, 'index.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  outfile: OUT,
  logLevel: 'warning',
});
const run = spawnSync(process.execPath, ['--expose-gc', OUT], {
  cwd: ROOT,
  stdio: 'inherit',
  env: {
    ...process.env,
    BENCH_PACKAGE_BYTES: String(gzipBytes),
    BENCH_PACKAGE_BUDGET: String(BUDGET_BYTES),
    BENCH_PACKAGE_ENTRY: path.join(dist, 'index.js'),
  },
});
process.exit(run.status === null ? 1 : run.status);
