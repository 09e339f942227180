/**
 * `npm start` as a developer uses it all day: log in, set a nickname, stop the server, start it
 * again. The skey still works, the profile is still there, and logging in again finds the same
 * user: everything lives in data/wx-login.db, which npm start creates (private) and migrates itself.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
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
