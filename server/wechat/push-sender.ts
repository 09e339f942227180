/**
 * WeChat's side of the message push: requests built exactly as WeChat sends them (signed, and
 * sealed in safe and compatible mode, as JSON or XML), for the simulated WeChat and the tests.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { pushSignature, sealPush } from './push-crypto';
import type { PushFormat, RevokedData } from './push';
import { REVOKE_INFO } from './push';
import { pushXml } from './push-xml';

/** The console's 消息加解密方式: 明文模式, 兼容模式, 安全模式. */
export type PushMode = 'plain' | 'compatible' | 'safe';

export interface PushSender {
  token: string;
  /** The AES-256 key (push-crypto.ts aesKeyFrom); unused in plain mode. */
  aesKey: Buffer;
  appId: string;
  /** The mini-program's original id (gh_…), WeChat's ToUserName. */
  originalId?: string;
}

/** An account event as the simulated WeChat raises it. */
export type AccountEventSpec =
  | { event: 'user_authorization_revoke'; openid: string; revoked: RevokedData[] }
  | { event: 'user_authorization_cancellation' | 'user_info_modified'; openid: string };

/** A request as WeChat sends it: path with query, content type, body. */
export interface PushRequest {
  method: 'GET' | 'POST';
  /** The path and query, for `path` (e.g. /wechat/events). */
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** The username WeChat's push service sends these events from (its documented samples' value). */
const PLATFORM_SENDER = 'oaKk346BaWE-eIn4oSRWbaM9vR7s';
const CODE_OF = Object.fromEntries(Object.entries(REVOKE_INFO).map(([code, name]) => [name, code])) as Record<RevokedData, string>;

/** The fields of an `authorized_user_information_changes` event, in the documented order. */
export function accountEventFields(sender: PushSender, spec: AccountEventSpec, createTime: number): Record<string, string | number> {
  const fields: Record<string, string | number> = {
    ToUserName: sender.originalId ?? 'gh_000000000000',
    FromUserName: PLATFORM_SENDER,
    CreateTime: createTime,
    MsgType: 'event',
    Event: spec.event,
    OpenID: spec.openid,
    AppID: sender.appId,
  };
  if (spec.event === 'user_authorization_revoke') fields.RevokeInfo = spec.revoked.map((name) => CODE_OF[name]).join(',');
  return fields;
}

const nonce = () => String(randomInt(1e8, 1e10));
const serialise = (fields: Record<string, string | number>, format: PushFormat) => (format === 'json' ? JSON.stringify(fields) : pushXml(fields));

/**
 * A POST of `fields` to `path` in `format` and `mode`, signed with the sender's token at
 * `nowMs`. Safe mode's body holds ToUserName and Encrypt only; compatible mode's holds the
 * plaintext fields as well; both carry encrypt_type=aes and msg_signature besides signature.
 */
export function buildPush(sender: PushSender, fields: Record<string, string | number>, options: { format: PushFormat; mode: PushMode; nowMs: number; path?: string }): PushRequest {
  const { format, mode, nowMs, path = '/wechat/events' } = options;
  const timestamp = String(Math.floor(nowMs / 1000));
  const n = nonce();
  const query = new URLSearchParams({ signature: pushSignature(sender.token, timestamp, n), timestamp, nonce: n });
  const contentType = format === 'json' ? 'application/json' : 'text/xml';
  if (mode === 'plain') return { method: 'POST', url: `${path}?${query}`, headers: { 'content-type': contentType }, body: serialise(fields, format) };

  const encrypted = sealPush(sender.aesKey, serialise(fields, format), sender.appId, randomBytes(16));
  query.set('encrypt_type', 'aes');
  query.set('msg_signature', pushSignature(sender.token, timestamp, n, encrypted));
  const outer: Record<string, string | number> = mode === 'safe' ? { ToUserName: String(fields.ToUserName ?? ''), Encrypt: encrypted } : { ...fields, Encrypt: encrypted };
  return { method: 'POST', url: `${path}?${query}`, headers: { 'content-type': contentType }, body: serialise(outer, format) };
}

/** The push WeChat sends for an account event: `accountEventFields` at `nowMs`, built by `buildPush`. */
export function accountEventPush(sender: PushSender, spec: AccountEventSpec, options: { format: PushFormat; mode: PushMode; nowMs: number; path?: string }): PushRequest {
  return buildPush(sender, accountEventFields(sender, spec, Math.floor(options.nowMs / 1000)), options);
}

/** The GET WeChat sends when the URL is saved in the console. */
export function buildUrlCheck(sender: Pick<PushSender, 'token'>, nowMs: number, path = '/wechat/events'): PushRequest & { echostr: string } {
  const timestamp = String(Math.floor(nowMs / 1000));
  const n = nonce();
  // WeChat's echostr is a string of 19 digits or so.
  const echostr = `${randomInt(1e9, 1e10)}${randomInt(1e9, 1e10)}`;
  const query = new URLSearchParams({ signature: pushSignature(sender.token, timestamp, n), echostr, timestamp, nonce: n });
  return { method: 'GET', url: `${path}?${query}`, headers: {}, echostr };
}
