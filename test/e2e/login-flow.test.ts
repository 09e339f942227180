import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createAuth, type AuthClient } from '../../miniprogram/auth/index';
import { buildApp } from '../../server/app';
import { createNodeWx, type NodeWx } from '../../tools/node-wx';
import type { AvatarUploadResponse, DevExpireResponse, ProfileResponse, User } from '../../typings/api';
import { testConfig } from '../server/helpers';
import { SMALL_PNG } from '../support/images';

/**
 * The mini-program's real auth service against the real server over HTTP, with the Node wx
 * adapter standing in for WeChat's runtime.
 */
describe('login flow, end to end', () => {
  let app: FastifyInstance;
  let base: string;
  let wx: NodeWx;
  let auth: AuthClient<User>;
  /** Codes wx.login handed out; set `replayNext` to hand the last one out again. */
  const codes: string[] = [];
  let replayNext = false;
  const events: string[] = [];

  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
    wx = createNodeWx({ server: base, user: 'e2e' });
    const login = wx.login.bind(wx);
    wx.login = (options) => {
      if (replayNext) {
        replayNext = false;
        wx.calls.login++;
        setImmediate(() => options.success?.({ code: codes[codes.length - 1], errMsg: 'login:ok' }));
        return;
      }
      login({ ...options, success: (result) => (codes.push(result.code), options.success?.(result)) });
    };
    auth = createAuth<User>({ baseURL: base, wx, timeout: 5000 });
    for (const event of ['login', 'logout', 'sessionExpired', 'loginFailed'] as const) auth.on(event, () => events.push(event));
  });
  afterAll(() => app.close());

  const serverSays = async (skey: string) => (await fetch(`${base}/auth/session`, { headers: { authorization: `Bearer ${skey}` } })).status;

  it('logs in once and reads the profile', async () => {
    const session = await auth.login();
    expect(session.skey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(session.user.nickname).toBe('');
    const profile = await auth.request<ProfileResponse>({ url: '/api/profile' });
    expect(profile.statusCode).toBe(200);
    expect(profile.data.user.id).toBe(session.user.id);
    expect(wx.calls.login).toBe(1);
    expect(events).toEqual(['login']);
  });

  it('updates the nickname with emoji and reads it back intact', async () => {
    const nickname = '小明 👨‍👩‍👧 ✨';
    const updated = await auth.request<ProfileResponse>({ url: '/api/profile', method: 'PUT', data: { nickname } });
    expect(updated.data.user.nickname).toBe(nickname);
    expect((await auth.request<ProfileResponse>({ url: '/api/profile' })).data.user.nickname).toBe(nickname);
  });

  it('uploads an avatar through wx.uploadFile and completes the profile', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'e2e-')), 'me.png');
    writeFileSync(file, SMALL_PNG);
    const { data } = await auth.uploadFile<AvatarUploadResponse>({ url: '/api/avatar', filePath: file, name: 'file' });
    const { data: profile } = await auth.request<ProfileResponse>({ url: '/api/profile', method: 'PUT', data: { avatarUrl: data.avatarUrl } });
    expect(profile.user.profileComplete).toBe(true);
  });

  it('heals a session expired on the server with exactly one transparent re-login', async () => {
    const before = auth.getSession()!;
    const loginsBefore = wx.calls.login;
    const expire = await fetch(`${base}/dev/sessions/expire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ skey: before.skey }) });
    expect((await expire.json()) as DevExpireResponse).toEqual({ expired: 1 });

    const [a, b] = await Promise.all([auth.request<ProfileResponse>({ url: '/api/profile' }), auth.request<ProfileResponse>({ url: '/api/orders' })]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(wx.calls.login - loginsBefore).toBe(1);
    expect(a.data.user.id).toBe(before.user.id);
    expect(auth.getSession()!.skey).not.toBe(before.skey);
    expect(events.filter((e) => e === 'sessionExpired')).toHaveLength(1);
    expect(await serverSays(before.skey)).toBe(401);
  });

  it('rejects a replayed code with 401 INVALID_CODE and keeps the current session', async () => {
    const current = auth.getSession()!;
    replayNext = true;
    await expect(auth.login()).rejects.toMatchObject({ code: 'LOGIN_FAILED', statusCode: 401, data: { error: { code: 'INVALID_CODE' } } });
    expect(events[events.length - 1]).toBe('loginFailed');
    expect(await serverSays(current.skey)).toBe(200);
  });

  it('logs out: the old skey is refused with 401 SESSION_EXPIRED', async () => {
    const { skey } = auth.getSession()!;
    await auth.logout();
    expect(auth.getSession()).toBeNull();
    const response = await fetch(`${base}/auth/session`, { headers: { authorization: `Bearer ${skey}` } });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('SESSION_EXPIRED');
    expect(events[events.length - 1]).toBe('logout');
  });
});

/** WeChat DevTools in tourist mode, as a developer first opens the project: one mock code for every wx.login. */
describe('tourist mode, end to end', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  it('logs in, logs out and logs in again with the mock code as the same development user, and a replayed ordinary code is still refused', async () => {
    const wx = createNodeWx({ server: base, tourist: true });
    const auth = createAuth<User>({ baseURL: base, wx, timeout: 5000 });
    const first = await auth.login();
    await auth.logout();
    const second = await auth.login();
    await auth.logout();
    const third = await auth.login();
    expect(wx.calls.login).toBe(3);
    expect(new Set([first.user.id, second.user.id, third.user.id]).size).toBe(1);
    expect(new Set([first.skey, second.skey, third.skey]).size).toBe(3);
    expect((await auth.request<ProfileResponse>({ url: '/api/profile' })).data.user.id).toBe(first.user.id);

    // An ordinary code keeps its one-time rule: WeChat's 40163 reaches the client as 401 INVALID_CODE.
    const { code } = (await (await fetch(`${base}/dev/codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { code: string };
    const once = (c: string) => fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: c }) });
    expect((await once(code)).status).toBe(200);
    const replay = await once(code);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: { code: string } }).error.code).toBe('INVALID_CODE');
  });
});
