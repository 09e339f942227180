#!/usr/bin/env node
// `npm run migrate`: compiles the migration command as the server is compiled (scripts/build-server.js)
// and runs it: DATABASE_URL's database (data/wx-login.db by default) is brought to the current schema.
'use strict';
const path = require('node:path');
const { buildServer } = require('./build-server');

process.setSourceMapsEnabled(true);
require(buildServer(path.join(__dirname, '..', 'dist', 'migrate.js'), path.join(__dirname, '..', 'server', 'migrate.ts')));
