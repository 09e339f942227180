#!/usr/bin/env node
// Runs bench/sql-stores.ts bundled under plain Node, as `npm run bench` runs its benchmarks (see bundle.js).
'use strict';
const path = require('node:path');
const { runBundled } = require('./bundle.js');

process.exit(runBundled(path.join(__dirname, 'sql-stores.ts'), 'sql-stores'));
