import { request as httpRequest } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import os from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { onlyFromThisMachine } from '../../server/routes/local-only';
import { testConfig } from './helpers';

interface Answer {
  status: number;
  body: string;
}

/** One request with exactly these headers (fetch would refuse to set Host). */
function send(url: string, { method = 'POST', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const codeOf = (answer: Answer) => (JSON.parse(answer.body) as { error?: { code: string } }).error?.code;

/** The simulated WeChat and /dev/* answer programs on this machine only, whatever address the server listens on. */
describe('development routes answer only this machine', () => {
  let app: FastifyInstance;
  let base: string;
  let port: number;
  beforeAll(async () => {
    // The names below allowed, so that they get past the Host rule (http-server.ts) to this guard.
    // With the message push, so that /dev/wechat-events would act if it answered.
    app = await buildApp({ config: testConfig({}, { ALLOWED_HOSTS: 'attacker.example,devbox.lan', WX_PUSH_TOKEN: 'pushToken123', WX_PUSH_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }), log: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app.close());

  it('serves a loopback client that names a loopback host and sends JSON', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost']) {
      const answer = await send(`${base}/dev/codes`, { headers: { ...JSON_TYPE, host }, body: '{}' });
      expect(answer.status).toBe(200);
    }
  });

  it.each([
    ['a rebinding domain in Host', { host: `attacker.example:${'PORT'}` }],
    ['a LAN name in Host', { host: 'devbox.lan' }],
    ['a cross-site Origin', { origin: 'https://attacker.example' }],
    ['an opaque Origin', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['X-Forwarded-For (it came through a proxy)', { 'x-forwarded-for': '203.0.113.9' }],
    ['Forwarded', { forwarded: 'for=203.0.113.9' }],
  ])('answers 404 NOT_FOUND, as if absent, to a request with %s', async (_case, extra) => {
    const headers: Record<string, string> = { ...JSON_TYPE, ...extra };
    if (headers.host) headers.host = headers.host.replace('PORT', String(port));
    for (const [method, path, body] of [
      ['POST', '/dev/codes', '{}'],
      ['POST', '/dev/sessions/expire', '{}'],
      ['POST', '/dev/faults', '{"errcode":-1}'],
      ['POST', '/dev/wechat-events', '{"event":"user_authorization_cancellation"}'],
      ['GET', '/sns/jscode2session?appid=x&secret=y&js_code=z&grant_type=authorization_code', undefined],
    ] as const) {
      const answer = await send(`${base}${path}`, { method, headers, body });
      expect({ path, status: answer.status, code: codeOf(answer) }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
    }
    // Nothing was queued by the refused /dev/faults: logins still work.
    const { code } = JSON.parse((await send(`${base}/dev/codes`, { headers: JSON_TYPE, body: '{}' })).body) as { code: string };
    expect((await send(`${base}/auth/login`, { headers: JSON_TYPE, body: JSON.stringify({ code }) })).status).toBe(200);
  });

  it.each([
    ['no body and no content type (a no-cors fetch)', {}, undefined],
    ['a text/plain body (a form with enctype=text/plain)', { 'content-type': 'text/plain' }, '{"errcode":-1}'],
    ['a urlencoded form', { 'content-type': 'application/x-www-form-urlencoded' }, 'errcode=-1'],
  ])('answers 415 to a POST with %s, the bodies a page may send cross-site without a preflight', async (_case, headers, body) => {
    for (const path of ['/dev/codes', '/dev/sessions/expire', '/dev/faults', '/dev/user-data', '/dev/wechat-events']) {
      const answer = await send(`${base}${path}`, { headers, body });
      expect({ path, status: answer.status, code: codeOf(answer) }).toEqual({ path, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
  });

  it('answers 404 to an absolute-form target (a URL naming its own host) even with a loopback Host, on a server that does not refuse such targets first', async () => {
    // A fastify server of its own making, without the reference server's HTTP layer.
    const bare = Fastify();
    await bare.register(async (local) => {
      onlyFromThisMachine(local);
      local.post('/dev/codes', async () => ({ code: 'minted' }));
    });
    await bare.listen({ host: '127.0.0.1', port: 0 });
    const barePort = (bare.server.address() as AddressInfo).port;
    try {
      const answer = (text: string) =>
        new Promise<string>((resolve) => {
          const socket = connect(barePort, '127.0.0.1', () => socket.write(text));
          let received = '';
          socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
          socket.on('close', () => resolve(received));
        });
      const request = (target: string) => `POST ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`;
      expect(await answer(request('/dev/codes'))).toMatch(/^HTTP\/1\.1 200 /);
      expect(await answer(request('http://evil.example/dev/codes'))).toMatch(/^HTTP\/1\.1 404 /);
    } finally {
      await bare.close();
    }
  });

  it('answers 404 to a client on another address, and the API still serves it', async () => {
    const remote = await app.inject({ method: 'POST', url: '/dev/codes', payload: {}, remoteAddress: '192.0.2.77' });
    expect(remote.statusCode).toBe(404);
    const api = await app.inject({ url: '/auth/session', remoteAddress: '192.0.2.77' });
    expect(api.statusCode).toBe(401);
  });
});

/** This machine's first non-loopback IPv4 address, if it has one. */
const externalAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;

const describeExternal = externalAddress ? describe : describe.skip;
if (!externalAddress) console.log('Skipping the 0.0.0.0 test: this machine has no non-loopback IPv4 address.');

describeExternal('a simulated server listening on 0.0.0.0', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig({}, { HOST: '0.0.0.0' }), log: false });
    await app.listen({ host: '0.0.0.0', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('refuses the development routes to a client reaching it on its LAN address, and still logs that client in through WeChat', async () => {
    const lan = `http://${externalAddress}:${port}`;
    const mint = await send(`${lan}/dev/codes`, { headers: { ...JSON_TYPE, host: `127.0.0.1:${port}` }, body: '{}' });
    expect(mint.status).toBe(404);
    expect((await send(`${lan}/sns/jscode2session?appid=x`, { method: 'GET', headers: { host: `127.0.0.1:${port}` } })).status).toBe(404);
    // The server reaches its own simulator over loopback: a wx.login code from a phone still works.
    const login = await send(`${lan}/auth/login`, { headers: JSON_TYPE, body: JSON.stringify({ code: 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6' }) });
    expect(login.status).toBe(200);
  });
});
