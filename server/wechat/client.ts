import { createHash } from 'node:crypto';
import { ApiError } from '../errors';
import { createMemoryCredentialCache } from '../stores/credentials';
import type { Clock, CredentialCache, PhoneNumber } from '../stores/types';
import { createAccessTokenManager, fetchStableToken } from './access-token';
import { callWeChat, errcodeOf, httpTransport, unavailable, type Transport } from './http';
import { getUserPhoneNumber } from './phone';

/** What jscode2session gives the server. session_key stays on the server. */
export interface WeChatSession {
  openid: string;
  sessionKey: string;
  unionid?: string;
}

// Where the HTTP part lives now; kept importable from here, where it began.
export { httpTransport, MAX_ANSWER_BYTES, type Transport } from './http';

export interface WeChatClientOptions {
  /** Resolved per call: in simulated mode the server's own address is known only after listen. */
  baseUrl: () => string;
  appId: string;
  secret: string;
  timeoutMs: number;
  transport?: Transport;
  /** Where the access_token is kept: the stores' cache, shared by every instance on one Redis. Defaults to this process's memory. */
  credentials?: CredentialCache;
  now?: Clock;
  /** Told when renewing the access_token ahead of expiry failed (the current token serves until it expires). */
  onTokenRenewalFailed?: (error: unknown) => void;
  /** Told when the credential cache failed to store a fetched access_token or release its renewal lock (the token is used all the same). */
  onTokenCacheFailed?: (error: unknown) => void;
}

export interface WeChatClient {
  /** Exchanges a wx.login code; throws ApiError with the HTTP answer the mini-program should get. */
  code2Session(code: string): Promise<WeChatSession>;
  /**
   * Exchanges a getPhoneNumber code for the number WeChat verified, every WeChat call of it within
   * `withinMs` (else 504 WECHAT_TIMEOUT); throws ApiError likewise.
   */
  getPhoneNumber(code: string, withinMs: number): Promise<PhoneNumber>;
}

/** WeChat's shapes: an openid (or unionid) is 28 URL-safe characters today; allow some room, nothing else. */
const OPENID = /^[A-Za-z0-9_-]{16,64}$/;
/** A session_key is 16 bytes in base64. */
const SESSION_KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * WeChat's errcodes for a code exchange, and what the mini-program is told. The errcode itself
 * goes only to the server's log (as the cause): 40013 or 40125 say the server's own appid or
 * secret are wrong, nothing a user should read.
 */
function errorFor(errcode: number, errmsg: unknown): ApiError {
  const cause = new Error(`jscode2session errcode ${errcode}: ${typeof errmsg === 'string' ? errmsg.slice(0, 200) : ''}`);
  const error = (() => {
    switch (errcode) {
      case 40029:
        return new ApiError('INVALID_CODE', 'the login code is invalid or expired');
      case 40163:
        return new ApiError('INVALID_CODE', 'the login code was already used');
      case 45011:
        return new ApiError('RATE_LIMITED', 'WeChat is rate limiting logins, try again shortly', { headers: { 'retry-after': '60' } });
      case 40226:
        return new ApiError('USER_BLOCKED', 'WeChat blocked this user from logging in');
      case -1:
        return new ApiError('WECHAT_UNAVAILABLE', 'WeChat is busy, try again shortly', { status: 503 });
      default:
        return new ApiError('WECHAT_UNAVAILABLE', 'WeChat refused the exchange');
    }
  })();
  return Object.assign(error, { cause });
}

/**
 * The access_token's entry in the credential cache: one per app and secret, so that instances of
 * one app share it, and simulated servers (each with its own random secret) on one Redis never
 * take each other's.
 */
export function accessTokenCacheName(appId: string, secret: string): string {
  return `access_token:${appId}:${createHash('sha256').update(`${appId}:${secret}`).digest('hex').slice(0, 16)}`;
}

export function createWeChatClient({
  baseUrl,
  appId,
  secret,
  timeoutMs,
  transport = httpTransport,
  now = Date.now,
  credentials = createMemoryCredentialCache(now),
  onTokenRenewalFailed,
  onTokenCacheFailed,
}: WeChatClientOptions): WeChatClient {
  const tokens = createAccessTokenManager({
    fetchToken: () => fetchStableToken({ transport, baseUrl, appId, secret, timeoutMs }),
    cache: credentials,
    name: accessTokenCacheName(appId, secret),
    now,
    // A renewal is one WeChat call: a holder that has not finished by then has timed out or died.
    lockMs: timeoutMs + 1000,
    onRenewalFailed: onTokenRenewalFailed,
    onCacheFailed: onTokenCacheFailed,
  });

  return {
    async code2Session(code) {
      // WeChat's API takes the secret in the query string; this URL is never logged or returned.
      const query = new URLSearchParams({ appid: appId, secret, js_code: code, grant_type: 'authorization_code' });
      const body = await callWeChat(transport, `${baseUrl()}/sns/jscode2session?${query}`, timeoutMs);
      const errcode = errcodeOf(body);
      if (errcode !== 0) throw errorFor(errcode, body.errmsg);
      const { openid, session_key: sessionKey, unionid } = body;
      // Whatever is stored and later used as an AES key must be what WeChat issues, nothing larger or stranger.
      if (typeof openid !== 'string' || !OPENID.test(openid) || typeof sessionKey !== 'string' || !SESSION_KEY.test(sessionKey)) {
        throw unavailable('answer without a well-formed openid and session_key');
      }
      return typeof unionid === 'string' && OPENID.test(unionid) ? { openid, sessionKey, unionid } : { openid, sessionKey };
    },

    getPhoneNumber: (code, withinMs) => getUserPhoneNumber({ transport, baseUrl, appId, timeoutMs, tokens }, code, withinMs),
  };
}
