/**
 * WeChat's message push as the server receives it: the URL check, then pushed messages in JSON or
 * XML, in plain, compatible or safe mode, verified and read into typed events. No I/O: the route
 * (routes/wechat-events.ts) feeds it the query, the raw body and the time.
 * https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 * https://developers.weixin.qq.com/miniprogram/dev/server/event_push/platform/authorized_user_information_changes.html
 */
import { createHash } from 'node:crypto';
import sjson from 'secure-json-parse';
import { ApiError } from '../errors';
import { openPush, PushDecryptError, signatureMatches } from './push-crypto';
import { parsePushXml, PushXmlError, type XmlRecord } from './push-xml';

/** What the server checks pushes with (config.ts's WX_PUSH_* block, and the app's appid). */
export interface PushSettings {
  /** The console's Token. */
  token: string;
  /** The AES-256 key of the console's EncodingAESKey (push-crypto.ts aesKeyFrom). */
  aesKey: Buffer;
  /** The mini-program's appid: the one inside every encrypted push, and in AppID. */
  appId: string;
  /**
   * Whether plain-mode pushes (明文模式) are taken. Their `signature` covers the token, the
   * timestamp and the nonce but not the body: whoever sees one push can send any body with its
   * query for as long as the timestamp is fresh. Safe mode signs the ciphertext itself.
   */
  acceptPlain: boolean;
}

/** How far a push's `timestamp` may be from this server's clock, either way. */
export const PUSH_MAX_SKEW_MS = 5 * 60 * 1000;
/**
 * How long a store of dedupe keys must remember one, at least: a delivery (or a replay of one
 * captured) is taken while its timestamp is within PUSH_MAX_SKEW_MS of the clock, and that
 * timestamp may itself be up to PUSH_MAX_SKEW_MS ahead when first seen.
 */
export const DEDUPE_MIN_RETENTION_MS = 2 * PUSH_MAX_SKEW_MS;

/**
 * What a user withdrew (RevokeInfo), named after WeChat's list for mini-programs:
 * 1 车牌号, 2 地址, 3 发票信息, 4 蓝牙, 5 麦克风, 6 昵称和头像, 7 摄像头, 8 手机号, 12 微信运动步数,
 * 13 位置信息, 14 选中的图片或视频, 15 选中的文件, 16 邮箱地址, 18 选择的位置信息,
 * 19 昵称输入键盘中选择的微信昵称, 20 获取用户头像组件中选择的微信头像.
 */
export const REVOKE_INFO = {
  '1': 'licensePlate',
  '2': 'address',
  '3': 'invoice',
  '4': 'bluetooth',
  '5': 'microphone',
  '6': 'profile',
  '7': 'camera',
  '8': 'phone',
  '12': 'weRunSteps',
  '13': 'location',
  '14': 'chosenMedia',
  '15': 'chosenFile',
  '16': 'email',
  '18': 'chosenLocation',
  '19': 'nickname',
  '20': 'avatar',
} as const;
export type RevokedData = (typeof REVOKE_INFO)[keyof typeof REVOKE_INFO];

/** The fields every push carries. */
interface Envelope {
  /** The mini-program's original id (gh_…). */
  toUserName: string;
  /** Who sent it: for these account events WeChat's push service, for user messages the user's openid. */
  fromUserName: string;
  /** When WeChat made the event, in seconds. */
  createTime: number;
  msgType: string;
  /**
   * The same for every delivery of one event and different between events: MsgId when the push
   * has one, else a hash of the fields that name the event (WeChat advises FromUserName +
   * CreateTime for events; these account events all come from one FromUserName, so the user's
   * OpenID, the event and RevokeInfo are in it too). A hash: safe to store and log, no openid in it.
   */
  dedupeKey: string;
}

interface AccountEventBase extends Envelope {
  openid: string;
  /** AppID as the push states it; always this server's appid (another is refused). */
  appId: string;
}

/** The user withdrew consent for some data (RevokeInfo); WeChat asks for it to be deleted. */
export interface RevokeEvent extends AccountEventBase {
  kind: 'user_authorization_revoke';
  /** What was withdrawn, by name; codes this version does not know are in `unknownRevokeInfo`. */
  revoked: RevokedData[];
  unknownRevokeInfo: string[];
  /** RevokeInfo as sent. */
  revokeInfo: string;
  /** Set when the withdrawal was from a plugin of the mini-program (PluginID, OpenPID). */
  plugin: { pluginId: string; openPid: string } | null;
}

/** The user deleted their WeChat account (注销). */
export interface CancellationEvent extends AccountEventBase {
  kind: 'user_authorization_cancellation';
}

/** WeChat cleaned the user's profile (nickname and avatar, the docs say; the push does not name fields). */
export interface InfoModifiedEvent extends AccountEventBase {
  kind: 'user_info_modified';
}

export type AccountEvent = RevokeEvent | CancellationEvent | InfoModifiedEvent;

/** Any other push (other events, user messages), verified but not interpreted. */
export interface OtherPush extends Envelope {
  kind: 'other';
  /** The Event field, when there is one. */
  event: string | null;
  fields: Record<string, unknown>;
}

export type PushEvent = AccountEvent | OtherPush;
export type PushFormat = 'json' | 'xml';

const refuse = (message: string) => new ApiError('INVALID_SIGNATURE', message);
const malformed = (message: string) => new ApiError('BAD_REQUEST', message);

/** A query value as a string; a repeated parameter is refused rather than guessed at. */
function param(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' ? value : undefined;
}

/** The signed timestamp and nonce, the timestamp within PUSH_MAX_SKEW_MS of now. */
function freshTimestampAndNonce(query: Record<string, unknown>, nowMs: number): { timestamp: string; nonce: string } {
  const timestamp = param(query, 'timestamp');
  const nonce = param(query, 'nonce');
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || nonce === undefined || nonce === '' || nonce.length > 128) {
    throw refuse('the push has no valid timestamp and nonce');
  }
  if (Math.abs(nowMs - Number(timestamp) * 1000) > PUSH_MAX_SKEW_MS) throw refuse('the push timestamp is more than 5 minutes from this server\'s clock');
  return { timestamp, nonce };
}

/**
 * WeChat's URL check (GET with signature, timestamp, nonce, echostr): the echostr to answer with,
 * or ApiError INVALID_SIGNATURE.
 */
export function answerUrlCheck(settings: PushSettings, query: Record<string, unknown>, nowMs: number): string {
  const { timestamp, nonce } = freshTimestampAndNonce(query, nowMs);
  const echostr = param(query, 'echostr');
  if (!signatureMatches(param(query, 'signature'), settings.token, timestamp, nonce)) throw refuse('the signature does not match the token');
  if (echostr === undefined || echostr === '' || echostr.length > 256) throw malformed('the URL check has no echostr');
  return echostr;
}

/** Which format a body is in, by its first character: WeChat's content types vary by product. */
function formatOf(body: string): PushFormat {
  const first = body.replace(/^[\ufeff\s]+/, '')[0];
  if (first === '{') return 'json';
  if (first === '<') return 'xml';
  throw malformed('the push body is neither JSON nor XML');
}

/** A body's top-level fields (JSON object members, or the `<xml>` root's children). */
function fieldsOf(body: string, format: PushFormat): Record<string, unknown> {
  if (format === 'xml') {
    try {
      return parsePushXml(body) as XmlRecord;
    } catch (error) {
      if (error instanceof PushXmlError) throw malformed(error.message);
      throw error;
    }
  }
  let value: unknown;
  try {
    value = sjson.parse(body, { protoAction: 'error', constructorAction: 'error' });
  } catch {
    throw malformed('the push body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed('the push body is not a JSON object');
  return value as Record<string, unknown>;
}

/** A field as text: strings as they are, numbers (JSON's CreateTime) in decimal; absent or other types as undefined. */
function text(fields: Record<string, unknown>, name: string): string | undefined {
  const value = fields[name];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function dedupeKeyOf(fields: Record<string, unknown>): string {
  // A 64-bit MsgId read from JSON as a number may have lost digits: then the event's fields key it.
  const raw = fields.MsgId;
  const msgId = typeof raw === 'string' ? raw : typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : undefined;
  if (msgId !== undefined && /^\d{1,20}$/.test(msgId)) return `msg:${msgId}`;
  const naming = ['MsgType', 'Event', 'FromUserName', 'CreateTime', 'OpenID', 'RevokeInfo', 'PluginID', 'OpenPID'].map((name) => text(fields, name) ?? null);
  return `event:${createHash('sha256').update(JSON.stringify(naming)).digest('hex').slice(0, 32)}`;
}

/** The typed event for a verified message's fields. */
export function eventOf(fields: Record<string, unknown>, appId: string): PushEvent {
  const createTime = text(fields, 'CreateTime');
  const msgType = text(fields, 'MsgType');
  if (createTime === undefined || !/^\d{1,12}$/.test(createTime) || msgType === undefined) throw malformed('the push has no CreateTime or MsgType');
  const givenAppId = text(fields, 'AppID');
  if (givenAppId !== undefined && givenAppId !== appId) throw refuse('the push is for another appid');
  const envelope: Envelope = {
    toUserName: text(fields, 'ToUserName') ?? '',
    fromUserName: text(fields, 'FromUserName') ?? '',
    createTime: Number(createTime),
    msgType,
    dedupeKey: dedupeKeyOf(fields),
  };
  const event = text(fields, 'Event') ?? null;
  const openid = text(fields, 'OpenID');
  // An account event names its user; without OpenID nothing can be acted on, and it passes as "other".
  if (msgType.toLowerCase() === 'event' && openid !== undefined && openid !== '') {
    const base = { ...envelope, openid, appId };
    if (event === 'user_authorization_cancellation' || event === 'user_info_modified') return { ...base, kind: event };
    if (event === 'user_authorization_revoke') {
      const revokeInfo = text(fields, 'RevokeInfo') ?? '';
      const codes = revokeInfo.split(/[\s,|;]+/).filter(Boolean);
      const known = (code: string): code is keyof typeof REVOKE_INFO => Object.hasOwn(REVOKE_INFO, code);
      const pluginId = text(fields, 'PluginID');
      const openPid = text(fields, 'OpenPID');
      return {
        ...base,
        kind: event,
        revoked: [...new Set(codes.filter(known).map((code) => REVOKE_INFO[code]))],
        unknownRevokeInfo: codes.filter((code) => !known(code)),
        revokeInfo,
        plugin: pluginId ? { pluginId, openPid: openPid ?? '' } : null,
      };
    }
  }
  return { ...envelope, kind: 'other', event, fields };
}

/**
 * A pushed message (POST): verified (signature or msg_signature, timestamp, appid) and read.
 * Throws ApiError: INVALID_SIGNATURE (401) when it cannot be shown to come from WeChat for this
 * mini-program, BAD_REQUEST (400) when it is not a push at all.
 */
export function readPush(settings: PushSettings, query: Record<string, unknown>, body: string, nowMs: number): PushEvent {
  const { timestamp, nonce } = freshTimestampAndNonce(query, nowMs);
  const format = formatOf(body);
  const outer = fieldsOf(body, format);
  const encrypted = outer.Encrypt;
  if (encrypted === undefined) {
    // Plain mode. (encrypt_type=aes without an Encrypt field is not a push WeChat sends.)
    if (param(query, 'encrypt_type') !== undefined) throw malformed('encrypt_type is set but the body has no Encrypt');
    if (!settings.acceptPlain) throw refuse('this server takes encrypted pushes only: choose safe mode (安全模式) in the console, or set WX_PUSH_ACCEPT_PLAIN');
    if (!signatureMatches(param(query, 'signature'), settings.token, timestamp, nonce)) throw refuse('the signature does not match the token');
    return eventOf(outer, settings.appId);
  }
  // Safe mode, and compatible mode (兼容模式), whose plaintext copy of the fields is signed by
  // nothing and is ignored: only what decrypts is read.
  if (typeof encrypted !== 'string') throw malformed('Encrypt is not a string');
  if (!signatureMatches(param(query, 'msg_signature'), settings.token, timestamp, nonce, encrypted)) throw refuse('the msg_signature does not match the token and the ciphertext');
  let message: string;
  try {
    message = openPush(settings.aesKey, encrypted, settings.appId);
  } catch (error) {
    if (!(error instanceof PushDecryptError)) throw error;
    // Signed with the token, yet not sealed with this key for this appid: not shown to be WeChat's push to this mini-program.
    throw refuse(error.reason === 'WRONG_APPID' ? 'the push is for another appid' : 'the Encrypt field does not decrypt with the EncodingAESKey');
  }
  return eventOf(fieldsOf(message, formatOf(message)), settings.appId);
}
