// A peer for the benchmark: the Express adapter of the server package (wx-login-server/express,
// the build bench/run.js makes) in an Express 5 app of its own, memory store, simulated WeChat in
// process. GET /api/profile sits behind requireSession and answers the session's user as the
// reference server does, so that beside the tutorial's Express server (same framework, same body
// size) the ratio shows what the login layer costs. POST /dev/codes mints codes for the login the
// benchmark makes first. PORT comes from the environment.
'use strict';
const path = require('node:path');
const express = require('express');

const DIST = path.join(__dirname, '..', 'packages', 'server', 'dist', 'server');
const { expressWxLogin } = require(path.join(DIST, 'express.js'));
const { createSimulatedWeChat } = require(path.join(DIST, 'core', 'simulator.js'));

const wechat = createSimulatedWeChat();
// Every connection comes from 127.0.0.1: the per-address login limit out of the way, as for ours.
const { router, requireSession, service } = expressWxLogin({ wechat, loginRateLimit: 100000, loginRateWindowMs: 1000 });
const app = express();
app.use(router);
app.post('/dev/codes', (req, res) => res.json({ code: wechat.mintCode() }));
app.get('/api/profile', requireSession, (req, res) => res.json({ user: service.toApiUser(req.wxUser) }));
app.listen(Number(process.env.PORT), '127.0.0.1');

// Exit normally on SIGTERM, so that node --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
