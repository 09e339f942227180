/**
 * `npm start` as a developer uses it all day: log in, set a nickname, stop the server, start it
 * again. The skey still works, the profile is still there, and logging in again finds the same
 * user: everything lives in data/wx-login.db, which npm start creates (private) and migrates itself.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../tools/free-port';
import type { LoginResponse, ProfileResponse } from '../../typings/api';
import { npmStart, stopped } from './npm-start';

const json = { 'content-type': 'application/json' };

describe('npm start, restarted', () => {
  let cwd: string;
  let running: ChildProcess | undefined;
  beforeAll(() => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'wx-login-start-'));
  });
  afterAll(async () => {
    if (running && running.exitCode === null) await stopped(running);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('keeps the user logged in with the same profile, and finds the same user on the next login', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    running = (await npmStart(cwd, port)).child;
    const { code } = (await (await fetch(`${base}/dev/codes`, { method: 'POST', headers: json, body: JSON.stringify({ user: 'alice' }) })).json()) as { code: string };
    const login = (await (await fetch(`${base}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ code }) })).json()) as LoginResponse;
    const auth = { authorization: `Bearer ${login.skey}` };
    const nickname = '爱丽丝🐱';
    expect((await fetch(`${base}/api/profile`, { method: 'PUT', headers: { ...json, ...auth }, body: JSON.stringify({ nickname }) })).status).toBe(200);
    expect(await stopped(running)).toBe(0);

    const data = path.join(cwd, 'data');
    expect(existsSync(path.join(data, 'wx-login.db'))).toBe(true);
    expect(statSync(data).mode & 0o777).toBe(0o700);

    running = (await npmStart(cwd, port)).child;
    const after = await fetch(`${base}/api/profile`, { headers: auth });
    expect(after.status).toBe(200);
    expect(((await after.json()) as ProfileResponse).user).toMatchObject({ id: login.user.id, nickname });
    const { code: again } = (await (await fetch(`${base}/dev/codes`, { method: 'POST', headers: json, body: JSON.stringify({ user: 'alice' }) })).json()) as { code: string };
    const second = (await (await fetch(`${base}/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ code: again }) })).json()) as LoginResponse;
    expect(second).toMatchObject({ isNewUser: false, user: { id: login.user.id, nickname } });
  }, 120_000);
});

describe('npm start and WeChat account events', () => {
  let cwd: string;
  let running: ChildProcess | undefined;
  beforeAll(() => {
    cwd = mkdtempSync(path.join(os.tmpdir(), 'wx-login-push-'));
  });
  afterAll(async () => {
    if (running && running.exitCode === null) await stopped(running);
    rmSync(cwd, { recursive: true, force: true });
  });

  it('has the message push configured with private keys of its data folder, never printed, and a pushed revoke removes the phone from 我的', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const started = await npmStart(cwd, port);
    running = started.child;
    const post = (route: string, body: unknown, skey?: string) =>
      fetch(`${base}${route}`, { method: 'POST', headers: { ...json, ...(skey ? { authorization: `Bearer ${skey}` } : {}) }, body: JSON.stringify(body) });
    const { code } = (await (await post('/dev/codes', { user: 'alice' })).json()) as { code: string };
    const { skey } = (await (await post('/auth/login', { code })).json()) as LoginResponse;
    const { code: phoneCode } = (await (await post('/dev/phone-codes', { user: 'alice', phoneNumber: '13800138000' })).json()) as { code: string };
    expect((await post('/auth/phone', { code: phoneCode }, skey)).status).toBe(200);

    expect(await (await post('/dev/wechat-events', { user: 'alice', event: 'user_authorization_revoke', revokeInfo: '8' })).json()).toEqual({ status: 200, answer: 'success' });
    const profile = (await (await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${skey}` } })).json()) as ProfileResponse;
    expect(profile.user.phone).toBeNull();
    expect(await stopped(running)).toBe(0);

    const file = path.join(cwd, 'data', 'push-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const keys = JSON.parse(readFileSync(file, 'utf8')) as { token: string; encodingAesKey: string };
    expect(keys.token).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(keys.encodingAesKey).toMatch(/^[A-Za-z0-9]{43}$/);
    expect(started.output()).not.toContain(keys.token);
    expect(started.output()).not.toContain(keys.encodingAesKey);

    // The same keys after a restart.
    running = (await npmStart(cwd, port)).child;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(keys);
  }, 120_000);
});
