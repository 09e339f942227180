import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWeChatClient, httpTransport, MAX_ANSWER_BYTES, type Transport } from '../../server/wechat/client';
import type { Deadline } from '../../server/wechat/http';
import { apiFailure, until } from './helpers';

const KEY = 'tiihtNczf5v6AKRyjwEUhQ==';
const OPENID = 'oGZUI0egBJY1zhBYw2KhdUfwVJJE';

const client = (transport: Transport, timeoutMs = 1000) => createWeChatClient({ baseUrl: () => 'https://wx.example', appId: 'wxapp', secret: 'SECRET', timeoutMs, transport });
const answering = (body: string, status = 200): Transport => async () => ({ status, body });


describe('WeChat client', () => {
  it('treats an answer without errcode as success, as real WeChat sends it', async () => {
    await expect(client(answering(`{"session_key":"${KEY}","openid":"${OPENID}"}`)).code2Session('c')).resolves.toEqual({ openid: OPENID, sessionKey: KEY });
  });

  it('treats errcode 0 as success and keeps a unionid', async () => {
    await expect(client(answering(`{"errcode":0,"session_key":"${KEY}","openid":"${OPENID}","unionid":"${OPENID}"}`)).code2Session('c')).resolves.toEqual({ openid: OPENID, sessionKey: KEY, unionid: OPENID });
  });

  it.each([
    [40029, 401, 'INVALID_CODE'],
    [40163, 401, 'INVALID_CODE'],
    [45011, 429, 'RATE_LIMITED'],
    [40226, 403, 'USER_BLOCKED'],
    [-1, 503, 'WECHAT_UNAVAILABLE'],
    [40013, 502, 'WECHAT_UNAVAILABLE'],
  ])('turns errcode %i into HTTP %i %s without WeChat’s raw message', async (errcode, status, code) => {
    const error = await apiFailure(client(answering(`{"errcode":${errcode},"errmsg":"secret detail, rid: 99"}`)).code2Session('c'));
    expect(error).toMatchObject({ status, code });
    expect(error.message).not.toMatch(/secret detail|rid/);
  });

  it.each([
    ['an HTTP error', answering('oops', 500)],
    ['a non-JSON body', answering('<html>')],
    ['JSON without openid', answering('{"session_key":"k"}')],
    ['a JSON string', answering('"hello"')],
    ['a network failure', (async () => {
      throw new TypeError('fetch failed');
    }) as Transport],
  ])('answers 502 WECHAT_UNAVAILABLE for %s', async (_case, transport) => {
    expect(await apiFailure(client(transport).code2Session('c'))).toMatchObject({ status: 502, code: 'WECHAT_UNAVAILABLE' });
  });

  it('gives up after its timeout with 504 WECHAT_TIMEOUT and aborts the request', async () => {
    jest.useFakeTimers();
    try {
      let stopped = 0;
      let deadline: Deadline | undefined;
      const hanging: Transport = (_url, d) => {
        deadline = d;
        d.onExpiry(() => stopped++);
        return new Promise(() => undefined);
      };
      const pending = apiFailure(client(hanging, 5000).code2Session('c'));
      await jest.advanceTimersByTimeAsync(5000);
      expect(await pending).toMatchObject({ status: 504, code: 'WECHAT_TIMEOUT' });
      expect(deadline?.expired).toBe(true);
      expect(stopped).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });

  it.each([
    ['an empty openid', `{"session_key":"${KEY}","openid":""}`],
    ['an openid with other characters', `{"session_key":"${KEY}","openid":"o<script>alert(1)</script>xxxxxxx"}`],
    ['an openid of 5 KB', `{"session_key":"${KEY}","openid":"${'o'.repeat(5000)}"}`],
    ['a session_key that is not 16 bytes of base64', `{"session_key":"${'A'.repeat(44)}","openid":"${OPENID}"}`],
    ['a session_key that is not base64', `{"session_key":"not base64 at all!!!!!==","openid":"${OPENID}"}`],
    ['a numeric session_key', `{"session_key":12345,"openid":"${OPENID}"}`],
  ])('answers 502 WECHAT_UNAVAILABLE for %s, storing nothing', async (_case, body) => {
    expect(await apiFailure(client(answering(body)).code2Session('c'))).toMatchObject({ status: 502, code: 'WECHAT_UNAVAILABLE' });
  });

  it.each([40125, 40013, 40002])('tells the client only that WeChat refused errcode %i; the errcode goes to the log through the cause', async (errcode) => {
    const error = await apiFailure(client(answering(`{"errcode":${errcode},"errmsg":"invalid appsecret, rid: 5"}`)).code2Session('c'));
    expect(error).toMatchObject({ status: 502, code: 'WECHAT_UNAVAILABLE' });
    expect(error.message).not.toContain(String(errcode));
    expect(error.message).not.toMatch(/appsecret/);
    expect((error.cause as Error).message).toContain(`errcode ${errcode}`);
  });

  it('never puts the secret in an error message', async () => {
    for (const transport of [answering('x', 500), answering('{"errcode":40125}')]) {
      expect((await apiFailure(client(transport).code2Session('c'))).message).not.toContain('SECRET');
    }
  });
});

/** The real transport against real HTTP servers on loopback that misbehave as a hostile WeChat (or a man in the middle) would. */
describe('WeChat client over HTTP', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });
  const serve = async (handler: Parameters<typeof createServer>[1]): Promise<{ base: string; hits: () => number; connections: () => number; closed: () => number }> => {
    let hits = 0;
    let connections = 0;
    let closed = 0;
    const server = createServer((req, res) => {
      hits++;
      handler!(req, res);
    });
    server.on('connection', (socket) => {
      connections++;
      socket.once('close', () => closed++);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits, connections: () => connections, closed: () => closed };
  };
  const overHttp = (base: string, timeoutMs = 5000) => createWeChatClient({ baseUrl: () => base, appId: 'wxapp', secret: 'SECRET', timeoutMs, transport: httpTransport });

  it('keeps its connections open between calls: 50 logins one after another, at most 2 connections', async () => {
    const wechat = await serve((_req, res) => res.end(`{"session_key":"${KEY}","openid":"${OPENID}"}`));
    const client = overHttp(wechat.base);
    for (let i = 0; i < 50; i++) await expect(client.code2Session(`c${i}`)).resolves.toEqual({ openid: OPENID, sessionKey: KEY });
    expect(wechat.hits()).toBe(50);
    // The pool may open a second connection for a call made the moment the previous answer ended, before its connection is free again.
    expect(wechat.connections()).toBeLessThanOrEqual(2);
    expect(wechat.closed()).toBe(0);
  });

  it('closes the connection of a call cut by its timeout, and the next call gets a fresh one', async () => {
    let stall = true;
    const wechat = await serve((_req, res) => {
      if (!stall) res.end(`{"session_key":"${KEY}","openid":"${OPENID}"}`);
    });
    const client = overHttp(wechat.base, 200);
    expect(await apiFailure(client.code2Session('slow'))).toMatchObject({ status: 504, code: 'WECHAT_TIMEOUT' });
    await until(() => wechat.closed() >= 1, 'the connection of the cut call to close');
    stall = false;
    await expect(client.code2Session('next')).resolves.toEqual({ openid: OPENID, sessionKey: KEY });
    expect(wechat.connections()).toBe(2);
  }, 20_000);

  it('does not follow a redirect, so the secret in the query string goes nowhere else', async () => {
    const elsewhere = await serve((_req, res) => res.end(`{"session_key":"${KEY}","openid":"${OPENID}"}`));
    const redirecting = await serve((req, res) => {
      res.writeHead(302, { location: `${elsewhere.base}${req.url}` });
      res.end();
    });
    expect(await apiFailure(overHttp(redirecting.base).code2Session('c'))).toMatchObject({ status: 502, code: 'WECHAT_UNAVAILABLE' });
    expect(redirecting.hits()).toBe(1);
    expect(elsewhere.hits()).toBe(0);
  });

  it(`stops reading an answer past ${MAX_ANSWER_BYTES} bytes, declared or streamed`, async () => {
    let streamed = 0;
    const endless = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"openid":"${OPENID}","session_key":"`);
      const chunk = 'A'.repeat(64 * 1024);
      const pump = () => {
        // Bounded even if the client kept reading: 50 MB, the size that was once stored as a session_key.
        while (streamed < 50 * 1024 * 1024 && !res.destroyed) {
          streamed += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"}');
      };
      pump();
    });
    expect(await apiFailure(overHttp(endless.base).code2Session('c'))).toMatchObject({ status: 502, code: 'WECHAT_UNAVAILABLE' });
    expect(streamed).toBeLessThan(50 * 1024 * 1024);

    const declared = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      res.write('{');
    });
    expect(await apiFailure(overHttp(declared.base).code2Session('c'))).toMatchObject({ status: 502, code: 'WECHAT_UNAVAILABLE' });
  });
});
