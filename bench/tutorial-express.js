// A peer for the benchmark: the login server the classic mini-program tutorials have you write,
// on Express 5. POST /auth/login exchanges the code at jscode2session (fetch, as the tutorials
// do) and hands out md5(openid + session_key) as the token, kept in a Map; GET /api/profile reads
// the token from a `token` header. Not a design to copy: the token is derived from secrets (anyone
// who learns the session_key can compute it), is the same for every login within a session_key's
// life, never expires, lives in one process, and the code travels in a URL nobody bounds in time
// or size. The user it answers has the same fields as this server's, so the bodies are the same size.
// PORT and WX_API_BASE (where jscode2session is answered) come from the environment.
'use strict';
const crypto = require('node:crypto');
const express = require('express');

const WX_API_BASE = process.env.WX_API_BASE || 'https://api.weixin.qq.com';
const APPID = process.env.WX_APPID || 'wx0000000000000000';
const SECRET = process.env.WX_SECRET || '00000000000000000000000000000000';

const app = express();
app.use(express.json());
const sessions = new Map();

app.post('/auth/login', async (req, res) => {
  const { code } = req.body;
  const url = `${WX_API_BASE}/sns/jscode2session?appid=${APPID}&secret=${SECRET}&js_code=${code}&grant_type=authorization_code`;
  const data = await (await fetch(url)).json();
  if (!data.openid) return res.status(401).json({ error: data.errmsg || 'login failed' });
  const token = crypto.createHash('md5').update(data.openid + data.session_key).digest('hex');
  const user = { id: crypto.randomUUID(), nickname: '', avatarUrl: '', profileComplete: false, createdAt: Date.now(), phone: null, phoneRequired: false };
  sessions.set(token, { openid: data.openid, sessionKey: data.session_key, user });
  res.json({ token, user });
});

app.get('/api/profile', (req, res) => {
  const session = sessions.get(req.headers.token);
  if (!session) return res.status(401).json({ error: 'not logged in' });
  res.json({ user: session.user });
});

app.listen(Number(process.env.PORT), '127.0.0.1');

// Exit normally on SIGTERM, so that node --cpu-prof writes its profile.
process.on('SIGTERM', () => process.exit(0));
