import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { SIMULATED_APPID } from '../../server/config';
import { openidTag } from '../../server/routes/wechat-events';
import type { PushEvent } from '../../server/wechat/push';
import { aesKeyFrom, pushSignature, sealPush } from '../../server/wechat/push-crypto';
import { accountEventFields, accountEventPush, buildPush, buildUrlCheck, type AccountEventSpec, type PushRequest, type PushSender } from '../../server/wechat/push-sender';
import { fakeClock, logSink, testConfig, type FakeClock } from './helpers';

const TOKEN = 'pushToken123';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const PUSH_ENV = { WX_PUSH_TOKEN: TOKEN, WX_PUSH_AES_KEY: AES_KEY };
/** The simulated WeChat of a test server (simulated mode: the app's appid is SIMULATED_APPID). */
const wechat: PushSender = { token: TOKEN, aesKey: aesKeyFrom(AES_KEY), appId: SIMULATED_APPID, originalId: 'gh_0123456789ab' };
const revoke: AccountEventSpec = { event: 'user_authorization_revoke', openid: 'oUser0000000000000000000001', revoked: ['phone'] };

interface PushApp {
  app: FastifyInstance;
  clock: FakeClock;
  events: PushEvent[];
}

async function pushApp(env: Record<string, string> = PUSH_ENV, options: { handle?: (event: PushEvent) => void } = {}): Promise<PushApp> {
  const clock = fakeClock();
  const events: PushEvent[] = [];
  const app = await buildApp({
    config: testConfig({}, env),
    now: clock.now,
    log: false,
    onPushEvent: (event) => {
      options.handle?.(event);
      events.push(event);
    },
  });
  return { app, clock, events };
}

const send = (app: FastifyInstance, request: PushRequest) => app.inject({ method: request.method, url: request.url, headers: request.headers, payload: request.body });

describe('/wechat/events', () => {
  let t: PushApp;
  beforeEach(async () => {
    t = await pushApp();
  });
  afterEach(() => t.app.close());

  const revokeAt = (createTime = t.clock.now() / 1000) => accountEventFields(wechat, revoke, createTime);

  test('answers the URL check with its echostr as text', async () => {
    const check = buildUrlCheck(wechat, t.clock.now());
    const response = await send(t.app, check);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body).toBe(check.echostr);
  });

  test('refuses a URL check signed with another token: 401 in the envelope', async () => {
    const response = await send(t.app, buildUrlCheck({ token: 'notTheToken' }, t.clock.now()));
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ error: { code: 'INVALID_SIGNATURE', message: 'the signature does not match the token' } });
  });

  test.each([
    ['JSON', 'safe'],
    ['XML', 'safe'],
    ['JSON', 'compatible'],
    ['XML', 'compatible'],
  ] as const)('hands one %s push in %s mode to the handler and answers success', async (label, mode) => {
    const format = label === 'JSON' ? 'json' : 'xml';
    const response = await send(t.app, buildPush(wechat, revokeAt(), { format, mode, nowMs: t.clock.now() }));
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('success');
    expect(t.events).toHaveLength(1);
    expect(t.events[0]).toMatchObject({ kind: 'user_authorization_revoke', openid: revoke.openid, revoked: ['phone'] });
  });

  test('reads the body whatever content type it comes with (WeChat uses several), or none', async () => {
    for (const contentType of ['text/xml', 'application/xml', 'text/plain', 'application/json; charset=utf-8', undefined]) {
      const request = buildPush(wechat, revokeAt(), { format: contentType?.includes('json') ? 'json' : 'xml', mode: 'safe', nowMs: t.clock.now() });
      const response = await t.app.inject({ method: 'POST', url: request.url, headers: contentType === undefined ? {} : { 'content-type': contentType }, payload: request.body });
      expect(response.statusCode).toBe(200);
    }
    expect(t.events).toHaveLength(5);
  });

  test('100 pushes that WeChat did not sign for this server: 100 × 401 and not one event handed over', async () => {
    const now = t.clock.now();
    const forgeries: PushRequest[] = [];
    for (let i = 0; i < 20; i++) {
      // Another token; a token-shaped guess per push.
      forgeries.push(buildPush({ ...wechat, token: `guess${i}abc` }, revokeAt(), { format: i % 2 ? 'json' : 'xml', mode: 'safe', nowMs: now }));
      // A real push with its msg_signature altered.
      const real = buildPush(wechat, revokeAt(), { format: 'json', mode: 'safe', nowMs: now });
      forgeries.push({ ...real, url: real.url.replace(/msg_signature=([0-9a-f])/, (_m, c: string) => `msg_signature=${c === '0' ? '1' : '0'}`) });
      // A real push's query with another sealed body (a replayed signature).
      const sealed = sealPush(wechat.aesKey, JSON.stringify(accountEventFields(wechat, { event: 'user_authorization_cancellation', openid: `oVictim${i}` }, now / 1000)), SIMULATED_APPID);
      forgeries.push({ ...real, body: JSON.stringify({ ToUserName: 'gh_0123456789ab', Encrypt: sealed }) });
      // Sealed and signed for another mini-program.
      forgeries.push(buildPush({ ...wechat, appId: 'wxffffffffffffffff' }, revokeAt(), { format: 'xml', mode: 'safe', nowMs: now }));
      // Signed correctly 6 minutes ago.
      forgeries.push(buildPush(wechat, revokeAt(), { format: 'json', mode: 'safe', nowMs: now - 6 * 60 * 1000 }));
    }
    const statuses = await Promise.all(forgeries.map(async (request) => (await send(t.app, request)).statusCode));
    expect(statuses.filter((status) => status === 401)).toHaveLength(100);
    expect(t.events).toHaveLength(0);
  });

  test('refuses a plain-mode push unless WX_PUSH_ACCEPT_PLAIN is set', async () => {
    const plain = () => buildPush(wechat, revokeAt(), { format: 'xml', mode: 'plain', nowMs: t.clock.now() });
    expect((await send(t.app, plain())).statusCode).toBe(401);
    expect(t.events).toHaveLength(0);
    const accepting = await pushApp({ ...PUSH_ENV, WX_PUSH_ACCEPT_PLAIN: 'true' });
    try {
      const response = await send(accepting.app, buildPush(wechat, accountEventFields(wechat, revoke, accepting.clock.now() / 1000), { format: 'xml', mode: 'plain', nowMs: accepting.clock.now() }));
      expect(response.body).toBe('success');
      expect(accepting.events).toHaveLength(1);
    } finally {
      await accepting.app.close();
    }
  });

  test('answers malformed bodies 400 in the envelope, XXE included, and hands nothing over', async () => {
    const timestamp = String(t.clock.now() / 1000);
    const query = `signature=${pushSignature(TOKEN, timestamp, '7')}&timestamp=${timestamp}&nonce=7`;
    for (const [contentType, body] of [
      ['application/json', '{"Encrypt":'],
      ['text/xml', '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>'],
      ['text/xml', '<xml><Encrypt><![CDATA[abc]]></Encrypt>'],
      ['text/plain', 'success'],
      ['application/json', ''],
    ]) {
      const response = await t.app.inject({ method: 'POST', url: `/wechat/events?${query}`, headers: { 'content-type': contentType }, payload: body });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'BAD_REQUEST' } });
    }
    expect(t.events).toHaveLength(0);
  });

  test('refuses a body over BODY_LIMIT_BYTES with 413 before reading it', async () => {
    const request = buildPush(wechat, { ...revokeAt(), Padding: 'x'.repeat(20 * 1024) }, { format: 'json', mode: 'safe', nowMs: t.clock.now() });
    const response = await send(t.app, request);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(t.events).toHaveLength(0);
  });

  test('a redelivered event reaches the handler with the same dedupe key each time', async () => {
    const fields = revokeAt();
    for (let i = 0; i < 3; i++) {
      t.clock.advance(5000);
      expect((await send(t.app, buildPush(wechat, fields, { format: 'xml', mode: 'safe', nowMs: t.clock.now() }))).body).toBe('success');
    }
    expect(new Set(t.events.map((event) => event.dedupeKey)).size).toBe(1);
  });
});

describe('/wechat/events when its handler fails', () => {
  test('answers 500, not success, so that WeChat delivers the event again; the redelivery is taken', async () => {
    let failures = 1;
    const t = await pushApp(PUSH_ENV, {
      handle: () => {
        if (failures-- > 0) throw new Error('the event store is down');
      },
    });
    try {
      const fields = accountEventFields(wechat, revoke, t.clock.now() / 1000);
      const first = await send(t.app, buildPush(wechat, fields, { format: 'json', mode: 'safe', nowMs: t.clock.now() }));
      expect(first.statusCode).toBe(500);
      expect(first.body).not.toBe('success');
      const again = await send(t.app, buildPush(wechat, fields, { format: 'json', mode: 'safe', nowMs: t.clock.now() }));
      expect(again.body).toBe('success');
      expect(t.events).toHaveLength(1);
    } finally {
      await t.app.close();
    }
  });
});

describe('/wechat/events without WX_PUSH_TOKEN and WX_PUSH_AES_KEY', () => {
  test('does not exist: 404 for the URL check and for pushes', async () => {
    const t = await pushApp({});
    try {
      const check = await send(t.app, buildUrlCheck(wechat, t.clock.now()));
      const push = await send(t.app, buildPush(wechat, accountEventFields(wechat, revoke, t.clock.now() / 1000), { format: 'json', mode: 'safe', nowMs: t.clock.now() }));
      expect([check.statusCode, push.statusCode]).toEqual([404, 404]);
      expect(t.events).toHaveLength(0);
    } finally {
      await t.app.close();
    }
  });
});

describe('/wechat/events on a listening server', () => {
  test("answers WeChat's URL check and hands a pushed event to the reference server's handler, which logs it without the openid", async () => {
    const sink = logSink();
    const app = await buildApp({ config: testConfig({}, PUSH_ENV), log: sink.stream });
    try {
      const base = await app.listen({ host: '127.0.0.1', port: 0 });
      const check = buildUrlCheck(wechat, Date.now());
      const checked = await fetch(`${base}${check.url}`);
      expect(checked.status).toBe(200);
      expect(await checked.text()).toBe(check.echostr);

      const push = accountEventPush(wechat, revoke, { format: 'xml', mode: 'safe', nowMs: Date.now() });
      const pushed = await fetch(`${base}${push.url}`, { method: 'POST', headers: push.headers, body: push.body });
      expect(pushed.status).toBe(200);
      expect(await pushed.text()).toBe('success');

      await sink.written();
      const lines = sink.text().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      const received = lines.filter((line) => line.msg === 'wechat push received');
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ kind: 'user_authorization_revoke', user: openidTag(revoke.openid), revoked: ['phone'] });
      // Nor the Token or the EncodingAESKey, also when a push is refused.
      const forged = buildPush({ ...wechat, token: 'guessedToken1' }, accountEventFields(wechat, revoke, Math.floor(Date.now() / 1000)), { format: 'json', mode: 'safe', nowMs: Date.now() });
      expect((await fetch(`${base}${forged.url}`, { method: 'POST', headers: forged.headers, body: forged.body })).status).toBe(401);
      await sink.written();
      for (const secret of [revoke.openid, TOKEN, AES_KEY]) expect(sink.text()).not.toContain(secret);
    } finally {
      await app.close();
    }
  });
});
