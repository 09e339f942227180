/**
 * Secrets audit. A full journey (login, session, profile, user-info, phone binding, orders, avatar
 * uploads, logout, and the failures around them) against the server listening on a real socket
 * with its production logger at its most verbose level. Every session_key and access_token WeChat
 * handed out is recorded at the WeChat transport; then no response (status, headers, body) and no
 * log line may contain a session_key, an access_token, the appsecret or a full phone number, and
 * no log line may contain a full skey, login code or bearer token.
 *
 * Scope: this journey, not every line of the whole `npm test` run; jest runs suites in separate
 * workers with their own logs, so a whole-run audit would need every suite to route its logs here.
 */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { loadConfig, type Config } from '../../server/config';
import { httpTransport, type Transport } from '../../server/wechat/client';
import { DEVTOOLS_MOCK_CODE } from '../../server/wechat/simulator';
import { logSink } from '../server/helpers';
import { SMALL_PNG as PNG } from '../support/images';

let app: FastifyInstance;
let base: string;
let config: Config;
const log = logSink();
const sessionKeys: string[] = [];
const accessTokens: string[] = [];
const PHONE = '13912345678';
const skeys: string[] = [];
/** Every login code handed out: one-time secrets too, they must not reach a log line. */
const codes: string[] = [];
const exchanges: string[] = [];
/** Everything any response carried: status line, headers and body. */
const responses: string[] = [];

/** The server's real transport, recording what WeChat (the simulator) answered. */
const recording: Transport = async (url, deadline, request) => {
  const answer = await httpTransport(url, deadline, request);
  exchanges.push(url);
  const { session_key: sessionKey, access_token: accessToken } = JSON.parse(answer.body) as { session_key?: string; access_token?: string };
  if (sessionKey) sessionKeys.push(sessionKey);
  if (accessToken) accessTokens.push(accessToken);
  return answer;
};

async function call(method: string, url: string, { body, skey, raw }: { body?: unknown; skey?: string; raw?: string } = {}) {
  const response = await fetch(base + url, {
    method,
    headers: { ...(body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {}), ...(skey ? { authorization: `Bearer ${skey}` } : {}) },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  if (url === '/dev/codes' && response.status === 200) codes.push((JSON.parse(text) as { code: string }).code);
  responses.push(`${response.status} ${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`);
  return { status: response.status, json: () => JSON.parse(text) };
}

/** Waits (bounded) until the log holds `count` request lines and every buffered write has landed. */
async function settledLog(count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  const requestLines = () => log.text().split('\n').filter((l) => /"msg":"request( failed)?"/.test(l)).length;
  while (requestLines() < count) {
    if (Date.now() > deadline) throw new Error(`only ${requestLines()} of ${count} request lines were logged`);
    await new Promise<void>((resolve) => log.stream.write('', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await new Promise<void>((resolve) => log.stream.write('', () => resolve()));
}

/** An avatar upload as wx.uploadFile sends it, recorded like every other response. */
async function upload(skey: string, bytes: Buffer) {
  const form = new FormData();
  form.append('file', new Blob([bytes]), 'avatar.png');
  const response = await fetch(`${base}/api/avatar`, { method: 'POST', headers: { authorization: `Bearer ${skey}` }, body: form });
  const text = await response.text();
  responses.push(`${response.status} ${[...response.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${text}`);
  return { status: response.status };
}

async function login(user: string): Promise<string> {
  const { code } = (await call('POST', '/dev/codes', { body: { user } })).json();
  const answer = await call('POST', '/auth/login', { body: { code } });
  expect(answer.status).toBe(200);
  const { skey } = answer.json();
  skeys.push(skey);
  return skey;
}

beforeAll(async () => {
  config = loadConfig({ WX_MODE: 'simulated', UPLOAD_DIR: mkdtempSync(path.join(os.tmpdir(), 'wx-login-audit-')), LOG_LEVEL: 'trace' });
  app = await buildApp({ config, log: log.stream, wechatTransport: recording });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(() => app.close());

describe('secrets audit', () => {
  test('a full journey, uploads, phone binding and failures included, leaks no session_key, access_token, appsecret or full phone number in any response or log line, and no skey, login code or bearer token in any log line', async () => {
    const skey = await login('audit');
    expect((await call('GET', '/auth/session', { skey })).status).toBe(200);
    expect((await call('GET', '/api/profile', { skey })).status).toBe(200);

    const userData = (await call('POST', '/dev/user-data', { body: { user: 'audit' } })).json();
    expect((await call('POST', '/auth/user-info', { skey, body: userData })).status).toBe(200);
    expect((await call('POST', '/auth/user-info', { skey, body: { ...userData, signature: '0'.repeat(40) } })).status).toBe(400);
    expect((await call('POST', '/auth/user-info', { skey, body: { ...userData, encryptedData: userData.encryptedData.slice(4) } })).status).toBe(400);
    expect((await call('PUT', '/api/profile', { skey, body: { nickname: 'Audit' } })).status).toBe(200);
    expect((await call('GET', '/api/orders', { skey })).status).toBe(200);

    // The phone number: bound, then a replayed code, WeChat rejecting the token, and a number in use.
    const phoneCode = async (user: string) => {
      const { code: minted } = (await call('POST', '/dev/phone-codes', { body: { user, phoneNumber: PHONE } })).json();
      // One-time secrets like login codes: they must not reach a log line either.
      codes.push(minted);
      return minted;
    };
    const used = await phoneCode('audit');
    expect((await call('POST', '/auth/phone', { skey, body: { code: used } })).status).toBe(200);
    expect((await call('POST', '/auth/phone', { skey, body: { code: used } })).status).toBe(400);
    expect((await call('POST', '/dev/faults', { body: { api: 'getuserphonenumber', errcode: 40001, times: 2 } })).status).toBe(200);
    expect((await call('POST', '/auth/phone', { skey, body: { code: await phoneCode('audit') } })).status).toBe(503);
    const rival = await login('audit-rival');
    expect((await call('POST', '/auth/phone', { skey: rival, body: { code: await phoneCode('audit-rival') } })).status).toBe(409);

    // Uploads go through the multipart plugin, which logs the raw request headers at trace.
    expect((await upload(skey, PNG)).status).toBe(200);
    expect((await upload(skey, PNG)).status).toBe(200);
    expect((await upload(skey, Buffer.from('not an image'))).status).toBe(415);
    expect((await upload(skey, Buffer.concat([PNG, Buffer.alloc(2 * 1024 * 1024)]))).status).toBe(413);
    // DevTools' tourist-mode code, twice.
    for (let i = 0; i < 2; i++) expect((await call('POST', '/auth/login', { body: { code: DEVTOOLS_MOCK_CODE } })).status).toBe(200);

    // Failures: a replayed code, a malformed body, WeChat down, a second device, a wrong skey.
    const { code } = (await call('POST', '/dev/codes', { body: { user: 'audit' } })).json();
    expect((await call('POST', '/auth/login', { body: { code } })).status).toBe(200);
    expect((await call('POST', '/auth/login', { body: { code } })).status).toBe(401);
    expect((await call('POST', '/auth/login', { raw: '{"code":' })).status).toBe(400);
    expect((await call('POST', '/dev/faults', { body: { errcode: -1 } })).status).toBe(200);
    const down = await call('POST', '/auth/login', { body: { code: (await call('POST', '/dev/codes', { body: {} })).json().code } });
    expect(down.status).toBeGreaterThanOrEqual(500);
    const other = await login('audit');
    expect((await call('GET', '/api/profile', { skey: `${other.slice(0, -1)}${other.endsWith('A') ? 'B' : 'A'}` })).status).toBe(401);

    expect((await call('POST', '/auth/logout', { skey })).status).toBe(200);
    expect((await call('GET', '/api/profile', { skey })).status).toBe(401);
    expect((await call('POST', '/auth/logout', { skey })).status).toBe(401);

    // The audit saw what it audits: secrets were handed out, and the log holds a line for every
    // request (ours and the server's own calls to WeChat), written when each response finished.
    expect(sessionKeys.length).toBeGreaterThanOrEqual(3);
    expect(accessTokens.length).toBeGreaterThanOrEqual(1);
    const logins = exchanges.filter((url) => url.includes('/sns/jscode2session'));
    expect(logins.length).toBeGreaterThanOrEqual(3);
    expect(logins.every((url) => url.includes(encodeURIComponent(config.wechat.secret)) || url.includes(config.wechat.secret))).toBe(true);
    expect(exchanges.filter((url) => url.includes('access_token=')).length).toBeGreaterThanOrEqual(4);
    await settledLog(responses.length + exchanges.length);
    const lines = log.text().split('\n').filter(Boolean);
    expect(responses.length).toBeGreaterThanOrEqual(20);

    const forms = (secret: string) => [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
    const leaks: string[] = [];
    for (const secret of [...sessionKeys, ...accessTokens, config.wechat.secret, PHONE]) {
      for (const form of forms(secret)) {
        responses.filter((r) => r.includes(form)).forEach((r) => leaks.push(`response carries a secret: ${r.slice(0, 200)}`));
        lines.filter((l) => l.includes(form)).forEach((l) => leaks.push(`log line carries a secret: ${l.slice(0, 200)}`));
      }
    }
    for (const s of skeys) lines.filter((l) => l.includes(s)).forEach((l) => leaks.push(`log line carries an skey: ${l.slice(0, 200)}`));
    for (const c of codes) lines.filter((l) => l.includes(c)).forEach((l) => leaks.push(`log line carries a login or phone code: ${l.slice(0, 200)}`));
    lines.filter((l) => /bearer (?!\[redacted\])/i.test(l)).forEach((l) => leaks.push(`log line carries a bearer token: ${l.slice(0, 200)}`));
    expect(leaks).toEqual([]);
    // The audit covered the plugin's own trace line with the request headers (censored), and the codes it looks for.
    expect(lines.some((l) => l.includes('busboyOptions') && l.includes('"authorization":"[redacted]"'))).toBe(true);
    expect(codes.length).toBeGreaterThanOrEqual(4);
  });
});
