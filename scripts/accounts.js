#!/usr/bin/env node
// `npm run accounts -- <command>`: compiles the accounts command as the server is compiled
// (scripts/build-server.js) and runs it on DATABASE_URL's database: the platform accounts of bind
// mode (add, list, passwd, disable, enable, roles, unbind). `npm run accounts -- help` lists them.
'use strict';
const path = require('node:path');
const { buildServer } = require('./build-server');

process.setSourceMapsEnabled(true);
require(buildServer(path.join(__dirname, '..', 'dist', 'accounts.js'), path.join(__dirname, '..', 'server', 'operator', 'accounts-command.ts')));
