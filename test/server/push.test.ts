import { ApiError } from '../../server/errors';
import { aesKeyFrom, pushSignature, sealPush } from '../../server/wechat/push-crypto';
import { answerUrlCheck, DEDUPE_MIN_RETENTION_MS, eventOf, PUSH_MAX_SKEW_MS, readPush, type PushEvent, type PushSettings } from '../../server/wechat/push';
import { accountEventFields, buildPush, buildUrlCheck, type AccountEventSpec, type PushMode, type PushSender } from '../../server/wechat/push-sender';
import { pushXml } from '../../server/wechat/push-xml';

const NOW = Date.UTC(2026, 0, 1);
const APPID = 'wx1234567890abcdef';
const sender: PushSender = { token: 'pushToken123', aesKey: aesKeyFrom('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'), appId: APPID, originalId: 'gh_870882ca4b1' };
const settings: PushSettings = { token: sender.token, aesKey: sender.aesKey, appId: APPID, acceptPlain: true };

/** The query and body of a built request, as the route hands them over. */
function parts(request: { url: string; body?: string }): { query: Record<string, string>; body: string } {
  return { query: Object.fromEntries(new URL(request.url, 'http://x').searchParams), body: request.body ?? '' };
}

function read(request: { url: string; body?: string }, options: { settings?: PushSettings; now?: number } = {}): PushEvent {
  const { query, body } = parts(request);
  return readPush(options.settings ?? settings, query, body, options.now ?? NOW);
}

/** The ApiError code `run` throws. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return `${error.status} ${error.code}`;
    throw error;
  }
  throw new Error('not refused');
}

const revoke: AccountEventSpec = { event: 'user_authorization_revoke', openid: 'oUser0000000000000000000001', revoked: ['phone', 'profile'] };
const createTime = NOW / 1000 - 2;

describe('the URL check', () => {
  test('answers the echostr of a check signed with the token', () => {
    const check = buildUrlCheck(sender, NOW);
    expect(answerUrlCheck(settings, parts(check).query, NOW)).toBe(check.echostr);
  });

  test("answers the check in WeChat's message-push guide, at its timestamp", () => {
    const query = { signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696', echostr: '4375120948345356249', timestamp: '1714036504', nonce: '1514711492' };
    expect(answerUrlCheck({ ...settings, token: 'AAAAA' }, query, 1714036504 * 1000)).toBe('4375120948345356249');
  });

  test('refuses a check signed with another token, without a signature, or 6 minutes old', () => {
    const check = parts(buildUrlCheck(sender, NOW)).query;
    expect(refusal(() => answerUrlCheck({ ...settings, token: 'otherToken' }, check, NOW))).toBe('401 INVALID_SIGNATURE');
    expect(refusal(() => answerUrlCheck(settings, { ...check, signature: undefined }, NOW))).toBe('401 INVALID_SIGNATURE');
    expect(refusal(() => answerUrlCheck(settings, check, NOW + 6 * 60 * 1000))).toBe('401 INVALID_SIGNATURE');
  });
});

describe('pushed account events', () => {
  test.each<[string, 'json' | 'xml', PushMode]>([
    ['JSON, safe mode', 'json', 'safe'],
    ['XML, safe mode', 'xml', 'safe'],
    ['JSON, plain mode', 'json', 'plain'],
    ['XML, plain mode', 'xml', 'plain'],
    ['JSON, compatible mode', 'json', 'compatible'],
    ['XML, compatible mode', 'xml', 'compatible'],
  ])("the simulated WeChat's revoke in %s reads back as the same typed event", (_name, format, mode) => {
    const event = read(buildPush(sender, accountEventFields(sender, revoke, createTime), { format, mode, nowMs: NOW }));
    expect(event).toEqual({
      kind: 'user_authorization_revoke',
      openid: revoke.openid,
      appId: APPID,
      toUserName: 'gh_870882ca4b1',
      fromUserName: expect.any(String),
      createTime,
      msgType: 'event',
      revoked: ['phone', 'profile'],
      unknownRevokeInfo: [],
      revokeInfo: '8,6',
      plugin: null,
      dedupeKey: expect.stringMatching(/^event:[0-9a-f]{32}$/),
    });
  });

  test('a safe-mode body carries only ToUserName and the ciphertext', () => {
    for (const format of ['json', 'xml'] as const) {
      const { body } = buildPush(sender, accountEventFields(sender, revoke, createTime), { format, mode: 'safe', nowMs: NOW });
      expect(body).not.toContain(revoke.openid);
      expect(body).not.toContain('user_authorization_revoke');
    }
  });

  test('the cancellation and profile-cleaning events read as their own kinds', () => {
    for (const kind of ['user_authorization_cancellation', 'user_info_modified'] as const) {
      const event = read(buildPush(sender, accountEventFields(sender, { event: kind, openid: 'oUser2' }, createTime), { format: 'json', mode: 'safe', nowMs: NOW }));
      expect(event).toMatchObject({ kind, openid: 'oUser2', appId: APPID });
    }
  });

  test("WeChat's documented XML sample reads as a revoke of the licence plate (code 1)", () => {
    const fields = {
      ToUserName: 'gh_870882ca4b1', FromUserName: 'owAqB1v0ahK_Xlc7GshIDdf2yf7E', CreateTime: 1626857200, MsgType: 'event',
      Event: 'user_authorization_revoke', OpenID: 'owAqB1nqaOYYWl0Ng484G2z5NIwU', AppID: 'wx13974bf780d3dc89', RevokeInfo: '1',
    };
    const event = read(buildPush({ ...sender, appId: 'wx13974bf780d3dc89' }, fields, { format: 'xml', mode: 'plain', nowMs: NOW }), { settings: { ...settings, appId: 'wx13974bf780d3dc89' } });
    expect(event).toMatchObject({ kind: 'user_authorization_revoke', openid: 'owAqB1nqaOYYWl0Ng484G2z5NIwU', createTime: 1626857200, revoked: ['licensePlate'] });
  });

  test('maps every RevokeInfo code of the mini-program list to its name, and keeps unknown codes apart', () => {
    const event = eventOf({ CreateTime: 1, MsgType: 'event', Event: 'user_authorization_revoke', OpenID: 'o1', RevokeInfo: '1,2,3,4,5,6,7,8,12,13,14,15,16,18,19,20,99' }, APPID);
    expect(event).toMatchObject({
      revoked: ['licensePlate', 'address', 'invoice', 'bluetooth', 'microphone', 'profile', 'camera', 'phone', 'weRunSteps', 'location', 'chosenMedia', 'chosenFile', 'email', 'chosenLocation', 'nickname', 'avatar'],
      unknownRevokeInfo: ['99'],
    });
  });

  test("a plugin's withdrawal names the plugin", () => {
    const event = eventOf({ CreateTime: 1, MsgType: 'event', Event: 'user_authorization_revoke', OpenID: 'o1', RevokeInfo: '8', PluginID: 'wxplugin', OpenPID: 'pid1' }, APPID);
    expect(event).toMatchObject({ plugin: { pluginId: 'wxplugin', openPid: 'pid1' } });
  });

  test('an account event without OpenID, and any other event, pass through untyped', () => {
    expect(eventOf({ CreateTime: 1, MsgType: 'event', Event: 'user_info_modified' }, APPID)).toMatchObject({ kind: 'other', event: 'user_info_modified' });
    expect(eventOf({ CreateTime: 1, MsgType: 'event', Event: 'debug_demo', debug_str: 'hello world' }, APPID)).toMatchObject({ kind: 'other', event: 'debug_demo', fields: { debug_str: 'hello world' } });
  });

  test("Tencent's WXBizMsgCrypt sample reads as a text message keyed by its MsgId", () => {
    const tencent: PushSettings = { token: 'QDG6eK', aesKey: aesKeyFrom('jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C'), appId: 'wx5823bf96d3bd56c7', acceptPlain: false };
    const encrypt =
      'RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==';
    const query = { msg_signature: '477715d11cdb4164915debcba66cb864d751f3e6', timestamp: '1409659813', nonce: '1372623149', encrypt_type: 'aes' };
    const body = `<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[${encrypt}]]></Encrypt></xml>`;
    expect(readPush(tencent, query, body, 1409659813 * 1000)).toMatchObject({ kind: 'other', msgType: 'text', createTime: 1409659813, dedupeKey: 'msg:4561255354251345929', fields: { Content: 'hello' } });
  });
});

describe('the dedupe key', () => {
  test('is the same for a redelivery (new nonce, new timestamp, new ciphertext) and differs between events', () => {
    const fields = accountEventFields(sender, revoke, createTime);
    const keys = [read(buildPush(sender, fields, { format: 'json', mode: 'safe', nowMs: NOW })), read(buildPush(sender, fields, { format: 'xml', mode: 'safe', nowMs: NOW + 5000 }), { now: NOW + 5000 })].map((event) => event.dedupeKey);
    expect(keys[0]).toBe(keys[1]);
    const others = [
      accountEventFields(sender, { ...revoke, openid: 'oAnotherUser' }, createTime),
      accountEventFields(sender, revoke, createTime + 1),
      accountEventFields(sender, { ...revoke, revoked: ['phone'] }, createTime),
      accountEventFields(sender, { event: 'user_authorization_cancellation', openid: revoke.openid }, createTime),
    ].map((other) => read(buildPush(sender, other, { format: 'json', mode: 'safe', nowMs: NOW })).dedupeKey);
    expect(new Set([keys[0], ...others]).size).toBe(5);
  });

  test('holds no openid', () => {
    const event = read(buildPush(sender, accountEventFields(sender, revoke, createTime), { format: 'json', mode: 'safe', nowMs: NOW }));
    expect(event.dedupeKey).not.toContain(revoke.openid);
  });
});

describe('hostile pushes', () => {
  const good = () => buildPush(sender, accountEventFields(sender, revoke, createTime), { format: 'json', mode: 'safe', nowMs: NOW });

  test('a push signed with another token is refused in every format and mode', () => {
    const forger: PushSender = { ...sender, token: 'guessedToken' };
    for (const format of ['json', 'xml'] as const) {
      for (const mode of ['plain', 'safe', 'compatible'] as const) {
        expect(refusal(() => read(buildPush(forger, accountEventFields(sender, revoke, createTime), { format, mode, nowMs: NOW })))).toBe('401 INVALID_SIGNATURE');
      }
    }
  });

  test("a safe-mode push whose ciphertext is replaced, even by one sealed with the right key, is refused (msg_signature covers it)", () => {
    const request = good();
    const { query } = parts(request);
    const other = sealPush(sender.aesKey, JSON.stringify(accountEventFields(sender, { event: 'user_authorization_cancellation', openid: 'oVictim' }, createTime)), APPID);
    expect(refusal(() => readPush(settings, query, JSON.stringify({ ToUserName: 'gh_1', Encrypt: other }), NOW))).toBe('401 INVALID_SIGNATURE');
  });

  test('a push sealed and signed for another appid is refused, in the ciphertext and in AppID', () => {
    const elsewhere: PushSender = { ...sender, appId: 'wxffffffffffffffff' };
    for (const mode of ['safe', 'plain'] as const) {
      expect(refusal(() => read(buildPush(elsewhere, accountEventFields(elsewhere, revoke, createTime), { format: 'xml', mode, nowMs: NOW })))).toBe('401 INVALID_SIGNATURE');
    }
  });

  test('a push whose timestamp is more than 5 minutes from the clock either way is refused; within it, read', () => {
    const request = good();
    expect(read(request, { now: NOW + 299_000 }).kind).toBe('user_authorization_revoke');
    expect(read(request, { now: NOW - 299_000 }).kind).toBe('user_authorization_revoke');
    expect(refusal(() => read(request, { now: NOW + 301_000 }))).toBe('401 INVALID_SIGNATURE');
    expect(refusal(() => read(request, { now: NOW - 301_000 }))).toBe('401 INVALID_SIGNATURE');
  });

  test('a plain-mode push is refused unless plain mode is accepted: its body is signed by nothing', () => {
    const plain = buildPush(sender, accountEventFields(sender, revoke, createTime), { format: 'json', mode: 'plain', nowMs: NOW });
    expect(refusal(() => read(plain, { settings: { ...settings, acceptPlain: false } }))).toBe('401 INVALID_SIGNATURE');
    expect(read(good(), { settings: { ...settings, acceptPlain: false } }).kind).toBe('user_authorization_revoke');
  });

  test("compatible mode's plaintext copy is ignored: only what decrypts is read", () => {
    const request = buildPush(sender, accountEventFields(sender, revoke, createTime), { format: 'json', mode: 'compatible', nowMs: NOW });
    const { query, body } = parts(request);
    const forged = JSON.stringify({ ...JSON.parse(body), Event: 'user_authorization_cancellation', OpenID: 'oVictim' });
    expect(readPush(settings, query, forged, NOW)).toMatchObject({ kind: 'user_authorization_revoke', openid: revoke.openid });
  });

  test.each([
    ['not JSON or XML', 'hello'],
    ['broken JSON', '{"Encrypt": '],
    ['a JSON array', '[1]'],
    ['a JSON prototype key', '{"__proto__": {"x": 1}}'],
    ['XML with a DOCTYPE (XXE)', '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Encrypt>&x;</Encrypt></xml>'],
    ['a numeric Encrypt', '{"Encrypt": 1}'],
  ])('a body that is %s is refused as a bad request', (_what, body) => {
    const { query } = parts(good());
    expect(refusal(() => readPush(settings, query, body, NOW))).toBe('400 BAD_REQUEST');
  });

  test('a verified message without CreateTime or MsgType is a bad request', () => {
    const fields = { ToUserName: 'gh_1', Event: 'user_info_modified', OpenID: 'o1' };
    expect(refusal(() => read(buildPush(sender, fields, { format: 'xml', mode: 'safe', nowMs: NOW })))).toBe('400 BAD_REQUEST');
  });

  test('encrypt_type without an Encrypt field is a bad request', () => {
    const timestamp = String(NOW / 1000);
    const query = { signature: pushSignature(sender.token, timestamp, '1'), timestamp, nonce: '1', encrypt_type: 'aes' };
    expect(refusal(() => readPush(settings, query, pushXml(accountEventFields(sender, revoke, createTime)), NOW))).toBe('400 BAD_REQUEST');
  });
});

describe('the dedupe retention', () => {
  test('covers every moment a copy of a push is still taken: a push stamped 5 minutes ahead is taken until 10 minutes after it was first seen', () => {
    const ahead = buildPush(sender, accountEventFields(sender, revoke, createTime), { format: 'json', mode: 'safe', nowMs: NOW + PUSH_MAX_SKEW_MS });
    const firstSeen = NOW;
    expect(read(ahead, { now: firstSeen }).kind).toBe('user_authorization_revoke');
    expect(read(ahead, { now: firstSeen + DEDUPE_MIN_RETENTION_MS }).kind).toBe('user_authorization_revoke');
    expect(refusal(() => read(ahead, { now: firstSeen + DEDUPE_MIN_RETENTION_MS + 1000 }))).toBe('401 INVALID_SIGNATURE');
  });
});
