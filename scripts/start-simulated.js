#!/usr/bin/env node
// `npm start`: builds miniprogram_npm as DevTools' "构建 npm" would, then runs the development server
// with the simulated WeChat, in this one process. The server itself refuses to start without an
// explicit WX_MODE (it must never fall back to a simulator in production); this is the place that
// makes the development choice, unless WX_MODE is already set.
'use strict';
const { buildNpm } = require('./build-npm');
const { buildServer } = require('./build-server');
const { dataDirOf, simulatedPushKeys } = require('./simulated-push-keys');

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
// WeChat's message push (/wechat/events) with keys of this data folder, so that the simulated
// WeChat can push account events (POST /dev/wechat-events). Keys given in the environment win.
if (process.env.WX_MODE === 'simulated' && !process.env.WX_PUSH_TOKEN && !process.env.WX_PUSH_AES_KEY) {
  const keys = simulatedPushKeys(dataDirOf(process.env.DATABASE_URL));
  process.env.WX_PUSH_TOKEN = keys.token;
  process.env.WX_PUSH_AES_KEY = keys.encodingAesKey;
}
process.setSourceMapsEnabled(true);
require(buildServer());
