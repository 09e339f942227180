#!/usr/bin/env node
// `npm start`: builds miniprogram_npm as DevTools' "构建 npm" would, then runs the development server
// with the simulated WeChat, in this one process. The server itself refuses to start without an
// explicit WX_MODE (it must never fall back to a simulator in production); this is the place that
// makes the development choice, unless WX_MODE is already set.
'use strict';
const { buildNpm } = require('./build-npm');
const { buildServer } = require('./build-server');

// npm runs a script through `sh -c`, and a shell that gets SIGTERM (npm passes its own on, as an
// IDE's stop button sends it) ends without passing it to this process, which would serve on
// orphaned. The shell that started us going away is therefore taken as that SIGTERM. (Ctrl+C
// signals the whole process group and needs none of this.)
const launcher = process.ppid;
const orphanWatch = setInterval(() => {
  if (process.ppid === launcher) return;
  clearInterval(orphanWatch);
  process.kill(process.pid, 'SIGTERM');
}, 200);
orphanWatch.unref();

buildNpm();
process.env.WX_MODE = process.env.WX_MODE || 'simulated';
// Accounts, profiles and sessions survive a restart: an embedded SQLite file in data/, which the
// server migrates itself (the production server only checks, and names `npm run migrate`).
process.env.DATABASE_URL = process.env.DATABASE_URL || 'sqlite:data/wx-login.db';
process.env.DATABASE_MIGRATE = process.env.DATABASE_MIGRATE || 'auto';
process.setSourceMapsEnabled(true);
require(buildServer());
