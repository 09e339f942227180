/**
 * `npm run demo`: the login journey of the mini-program, step by step in a terminal, against a
 * server started with `npm start` (or `WX_MODE=simulated npm run server`), HOST and PORT as for
 * that server. The real auth service runs on the Node wx adapter, so what works here works the
 * same in WeChat DevTools. `npm run demo -- --bind` walks bind mode instead (demo-bind.ts).
 */
import { createAuth, isAuthError } from '../miniprogram/auth/index';
import { createNodeWx } from '../tools/node-wx';
import type { DevExpireResponse, DevPhoneCodeResponse, OrdersResponse, PhoneBindResponse, ProfileResponse, User } from '../typings/api';
import { credentialsFromCommandLine, walkBindMode } from './demo-bind';
import { base, serverAnswers, short, step, StepFailed } from './demo-steps';

async function main(): Promise<void> {
  const wx = createNodeWx({ server: base, user: `demo-${process.pid}` });
  const auth = createAuth<User>({ baseURL: base, wx, timeout: 5000 });
  const codes: string[] = [];
  const login = wx.login.bind(wx);
  wx.login = (options) => login({ ...options, success: (result) => (codes.push(result.code), options.success?.(result)) });

  await serverAnswers('`npm start` (or `WX_MODE=simulated npm run server`)');
  const first = await step(
    'log in (wx.login → POST /auth/login)',
    () =>
      auth.login().catch((error: unknown) => {
        if (isAuthError(error, 'BIND_REQUIRED')) throw new Error('the server asks this WeChat user to bind an account: it runs in bind mode; walk it with `npm run demo -- --bind`');
        throw error;
      }),
    (s) => `skey ${short(s.skey)} for user ${s.user.id}`,
  );
  await step('read the profile', () => auth.request<ProfileResponse>({ url: '/api/profile' }), (r) => `nickname "${r.data.user.nickname}", complete: ${r.data.user.profileComplete}`);
  await step(
    'set an emoji nickname',
    () => auth.request<ProfileResponse>({ url: '/api/profile', method: 'PUT', data: { nickname: '小明 🐱' } }),
    (r) => `nickname is now "${r.data.user.nickname}"`,
  );
  await step(
    'list orders',
    async () => {
      try {
        return `${(await auth.request<OrdersResponse>({ url: '/api/orders' })).data.orders.length} orders`;
      } catch (error) {
        // A server started with REQUIRE_PHONE=true serves orders only to accounts with a phone.
        const code = isAuthError(error, 'HTTP') ? (error.data as { error?: { code?: string } } | undefined)?.error?.code : undefined;
        if (code === 'PHONE_REQUIRED') return 'refused: 403 PHONE_REQUIRED, the server requires a phone first';
        throw error;
      }
    },
    (outcome) => outcome,
  );
  const phoneCode = await step(
    "tap 使用微信手机号 (WeChat's getPhoneNumber button hands the page a one-time code; here POST /dev/phone-codes)",
    async () => {
      const response = await fetch(`${base}/dev/phone-codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: wx.user }) });
      if (response.status !== 200) throw new Error(`POST /dev/phone-codes answered ${response.status}`);
      return ((await response.json()) as DevPhoneCodeResponse).code;
    },
    (code) => `code ${short(code)}`,
  );
  await step(
    'bind the phone (POST /auth/phone: the server exchanges the code at getuserphonenumber with its access token)',
    async () => {
      const { data } = await auth.request<PhoneBindResponse>({ url: '/auth/phone', method: 'POST', data: { code: phoneCode } });
      auth.updateUser(data.user);
      return data.user;
    },
    (user) => `phone ${user.phone} (masked; the full number stays on the server)`,
  );
  await step('list orders again', () => auth.request<OrdersResponse>({ url: '/api/orders' }), (r) => `${r.data.orders.length} orders`);
  await step(
    'expire the session on the server (POST /dev/sessions/expire)',
    async () => {
      const response = await fetch(`${base}/dev/sessions/expire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ skey: first.skey }) });
      return (await response.json()) as DevExpireResponse;
    },
    (r) => `${r.expired} session expired`,
  );
  const loginsBefore = wx.calls.login;
  await step(
    'read the profile again',
    () => auth.request<ProfileResponse>({ url: '/api/profile' }),
    () => `401 healed by ${wx.calls.login - loginsBefore} transparent re-login, new skey ${short(auth.getSession()!.skey)}`,
  );
  await step(
    'replay an old code',
    async () => {
      const response = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: codes[0] }) });
      const body = (await response.json()) as { error?: { code: string } };
      if (response.status !== 401) throw new Error(`expected 401, got ${response.status}`);
      return body.error?.code;
    },
    (code) => `refused: 401 ${code}`,
  );
  const last = auth.getSession()!.skey;
  await step('log out', () => auth.logout(), () => 'local session cleared, server told');
  await step(
    'use the old skey',
    async () => {
      const response = await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${last}` } });
      if (response.status !== 401) throw new Error(`expected 401, got ${response.status}`);
      return ((await response.json()) as { error: { code: string } }).error.code;
    },
    (code) => `refused: 401 ${code}`,
  );
  process.stdout.write('Done: the whole login flow works against this server.\n');
}

const bindWalk = async () => walkBindMode(await credentialsFromCommandLine(process.argv.slice(2)));
(process.argv.includes('--bind') ? bindWalk() : main()).catch((error: unknown) => {
  // A failed step has printed its line; what failed before the first step (the command line, the password) says so here.
  if (!(error instanceof StepFailed)) process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
