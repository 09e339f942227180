#!/usr/bin/env node
// `npm run admin -- <command>`: compiles the operator's command as the server is compiled
// (scripts/build-server.js) and runs it on the server's database and Redis (see server/operator/admin-command.ts).
'use strict';
const path = require('node:path');
const { buildServer } = require('./build-server');

process.setSourceMapsEnabled(true);
require(buildServer(path.join(__dirname, '..', 'dist', 'admin.js'), path.join(__dirname, '..', 'server', 'operator', 'admin-command.ts')));
