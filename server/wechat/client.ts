import { ApiError } from '../errors';

/** What jscode2session gives the server. session_key stays on the server. */
export interface WeChatSession {
  openid: string;
  sessionKey: string;
  unionid?: string;
}

/** One GET, answered with status and body text. Injectable so tests can route it anywhere. */
export type Transport = (url: string, signal: AbortSignal) => Promise<{ status: number; body: string }>;

/** A jscode2session answer is about 100 bytes; anything near this is not one. */
export const MAX_ANSWER_BYTES = 16 * 1024;

/** Thrown by the transport for an answer it will not read to the end. */
export class AnswerTooLarge extends Error {
  constructor() {
    super(`WeChat's answer exceeded ${MAX_ANSWER_BYTES} bytes`);
    this.name = 'AnswerTooLarge';
  }
}

/**
 * fetch, without following redirects (the secret is in the query string: a redirect would carry
 * it to wherever WeChat, or whoever stands in its way, points) and reading at most
 * MAX_ANSWER_BYTES of the body.
 */
export const fetchTransport: Transport = async (url, signal) => {
  const response = await fetch(url, { signal, redirect: 'manual' });
  if (Number(response.headers.get('content-length')) > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new AnswerTooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await response.body.cancel().catch(() => undefined);
        throw new AnswerTooLarge();
      }
      chunks.push(chunk);
    }
  }
  return { status: response.status, body: Buffer.concat(chunks).toString('utf8') };
};

export interface WeChatClientOptions {
  /** Resolved per call: in simulated mode the server's own address is known only after listen. */
  baseUrl: () => string;
  appId: string;
  secret: string;
  timeoutMs: number;
  transport?: Transport;
}

export interface WeChatClient {
  /** Exchanges a wx.login code; throws ApiError with the HTTP answer the mini-program should get. */
  code2Session(code: string): Promise<WeChatSession>;
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

const unavailable = (message: string, cause?: unknown) => Object.assign(new ApiError('WECHAT_UNAVAILABLE', 'WeChat could not be reached or answered something unusable'), { cause: cause ?? new Error(message) });

export function createWeChatClient({ baseUrl, appId, secret, timeoutMs, transport = fetchTransport }: WeChatClientOptions): WeChatClient {
  return {
    async code2Session(code) {
      // WeChat's API takes the secret in the query string; this URL is never logged or returned.
      const query = new URLSearchParams({ appid: appId, secret, js_code: code, grant_type: 'authorization_code' });
      const url = `${baseUrl()}/sns/jscode2session?${query}`;

      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new ApiError('WECHAT_TIMEOUT', `WeChat did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
      });
      let answer: { status: number; body: string };
      try {
        answer = await Promise.race([transport(url, controller.signal), timeout]);
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw unavailable('transport failed', error);
      } finally {
        clearTimeout(timer);
      }

      if (answer.status < 200 || answer.status > 299) throw unavailable(`HTTP ${answer.status}`);
      if (answer.body.length > MAX_ANSWER_BYTES) throw unavailable('answer too large');
      let body: unknown;
      try {
        body = JSON.parse(answer.body);
      } catch {
        throw unavailable('answer is not JSON');
      }
      if (typeof body !== 'object' || body === null) throw unavailable('answer is not an object');
      const { errcode, errmsg, openid, session_key: sessionKey, unionid } = body as Record<string, unknown>;
      // Real WeChat omits errcode on success (some answers carry 0).
      if (errcode !== undefined && errcode !== 0) {
        throw errorFor(typeof errcode === 'number' ? errcode : Number.NaN, errmsg);
      }
      // Whatever is stored and later used as an AES key must be what WeChat issues, nothing larger or stranger.
      if (typeof openid !== 'string' || !OPENID.test(openid) || typeof sessionKey !== 'string' || !SESSION_KEY.test(sessionKey)) {
        throw unavailable('answer without a well-formed openid and session_key');
      }
      return typeof unionid === 'string' && OPENID.test(unionid) ? { openid, sessionKey, unionid } : { openid, sessionKey };
    },
  };
}
