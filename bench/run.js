#!/usr/bin/env node
// `npm run bench`: builds the auth package (its size is a figure, its file is measured too), bundles
// the benchmark with esbuild and runs it under plain Node with --expose-gc (see bundle.js for why
// not tsx).
'use strict';
const path = require('node:path');
const { build, BUDGET_BYTES } = require('../scripts/build-auth.js');
const serverPackage = require('../scripts/build-server-package.js');
const { runBundled } = require('./bundle.js');

const { dist, gzipBytes } = build();
// The Express adapter's peer (bench/adapter-express.js) runs the built server package.
serverPackage.build();
process.exit(
  runBundled(path.join(__dirname, 'index.ts'), 'bench', {
    nodeArgs: ['--expose-gc'],
    env: {
      BENCH_PACKAGE_BYTES: String(gzipBytes),
      BENCH_PACKAGE_BUDGET: String(BUDGET_BYTES),
      BENCH_PACKAGE_ENTRY: path.join(dist, 'index.js'),
    },
  }),
);
