import { ApiError } from '../errors';

/** What jscode2session gives the server. session_key stays on the server. */
export interface WeChatSession {
  openid: string;
  sessionKey: string;
  unionid?: string;
}

/** One GET, answered with status and body text. Injectable so tests can route it anywhere. */
export type Transport = (url: string, signal: AbortSignal) => Promise<{ status: number; body: string }>;

export const fetchTransport: Transport = async (url, signal) => {
  const response = await fetch(url, { signal });
  return { status: response.status, body: await response.text() };
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

/** WeChat's errcodes for a code exchange, and what the mini-program is told. */
function errorFor(errcode: number): ApiError {
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
      // 40013 (appid), 40125 (secret) and the like: the server's own setup, nothing the user can fix.
      return new ApiError('WECHAT_UNAVAILABLE', `WeChat refused the exchange (errcode ${errcode})`);
  }
}

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
        throw new ApiError('WECHAT_UNAVAILABLE', 'WeChat could not be reached');
      } finally {
        clearTimeout(timer);
      }

      if (answer.status < 200 || answer.status > 299) {
        throw new ApiError('WECHAT_UNAVAILABLE', `WeChat answered HTTP ${answer.status}`);
      }
      let body: unknown;
      try {
        body = JSON.parse(answer.body);
      } catch {
        throw new ApiError('WECHAT_UNAVAILABLE', 'WeChat answered something other than JSON');
      }
      if (typeof body !== 'object' || body === null) throw new ApiError('WECHAT_UNAVAILABLE', 'WeChat answered an unexpected shape');
      const { errcode, openid, session_key: sessionKey, unionid } = body as Record<string, unknown>;
      // Real WeChat omits errcode on success (some answers carry 0).
      if (errcode !== undefined && errcode !== 0) {
        throw errorFor(typeof errcode === 'number' ? errcode : Number.NaN);
      }
      if (typeof openid !== 'string' || openid === '' || typeof sessionKey !== 'string' || sessionKey === '') {
        throw new ApiError('WECHAT_UNAVAILABLE', 'WeChat answered without openid or session_key');
      }
      return typeof unionid === 'string' ? { openid, sessionKey, unionid } : { openid, sessionKey };
    },
  };
}
