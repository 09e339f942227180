/**
 * Every way a call can fail, in words the user understands. Pages and components show these;
 * the auth service never shows anything itself.
 */
import { isAuthError, type AuthError, type AuthErrorCode } from '../auth/index';
import type { ApiErrorCode } from '../../typings/api';

/** A Record, so a new server code is a compile error here until it has its message. */
const SERVER_MESSAGES: Record<ApiErrorCode, string> = {
  BAD_REQUEST: '请求有误，请稍后重试',
  INVALID_CODE: '微信登录凭证已失效，请重新登录',
  INVALID_PHONE_CODE: '手机号验证已失效，请重新获取',
  SESSION_EXPIRED: '登录已过期，请重新登录',
  // Answered only to WeChat's message push, never to the mini-program.
  INVALID_SIGNATURE: '请求异常，请稍后重试',
  INVALID_USER_DATA: '填写的信息有误，请检查后重试',
  USER_BLOCKED: '账号已被限制使用，如有疑问请联系客服',
  PHONE_REQUIRED: '请先绑定手机号',
  PHONE_IN_USE: '该手机号已绑定其他账号，请换一个号码或联系客服',
  INVALID_CREDENTIALS: '账号或密码错误',
  INVALID_BIND_TICKET: '绑定已过期，请再提交一次',
  ACCOUNT_ALREADY_BOUND: '该账号已绑定其他微信，如需更换请联系管理员',
  FORBIDDEN: '没有权限查看此内容',
  NOT_FOUND: '内容不存在或已被删除',
  METHOD_NOT_ALLOWED: '请求异常，请稍后重试',
  PAYLOAD_TOO_LARGE: '图片太大了，请换一张',
  // Not a PNG/JPEG/GIF/WebP, or one that does not decode whole (cut off in transfer, damaged).
  UNSUPPORTED_MEDIA_TYPE: '这张图片无法使用，请换一张',
  URI_TOO_LONG: '请求异常，请稍后重试',
  HEADERS_TOO_LARGE: '请求异常，请稍后重试',
  RATE_LIMITED: '操作太频繁，请稍后再试',
  INTERNAL: '服务器繁忙，请稍后重试',
  WECHAT_UNAVAILABLE: '微信服务暂时不可用，请稍后重试',
  WECHAT_TIMEOUT: '微信服务响应超时，请稍后重试',
  STORE_UNAVAILABLE: '服务器繁忙，请稍后重试',
};

const OFFLINE = '网络不可用，请检查网络后重试';
const TIMEOUT = '网络超时，请稍后重试';
const FALLBACK = '出了点问题，请稍后重试';

/** The server's error code from its envelope, when the answer carried one we know. */
function serverErrorCode(error: AuthError): ApiErrorCode | undefined {
  const data = error.data as { error?: { code?: unknown } } | undefined;
  const code = data && typeof data === 'object' && data.error ? data.error.code : undefined;
  return typeof code === 'string' && code in SERVER_MESSAGES ? (code as ApiErrorCode) : undefined;
}

/** The server's error code behind any error, looking through a failed login to its cause. */
export function serverErrorCodeOf(error: unknown): ApiErrorCode | undefined {
  if (!isAuthError(error)) return undefined;
  return serverErrorCode(error) || (isAuthError(error.cause) ? serverErrorCodeOf(error.cause) : undefined);
}

function byStatus(statusCode: number | undefined): string {
  if (statusCode === 429) return SERVER_MESSAGES.RATE_LIMITED;
  if (statusCode === 403) return '没有权限进行此操作';
  if (statusCode !== undefined && statusCode >= 500) return SERVER_MESSAGES.INTERNAL;
  return statusCode ? `请求失败（${statusCode}），请稍后重试` : FALLBACK;
}

function describe(error: AuthError): string {
  const code: AuthErrorCode = error.code;
  switch (code) {
    case 'NETWORK':
      return OFFLINE;
    case 'TIMEOUT':
      return TIMEOUT;
    case 'CANCELLED':
      return '操作已取消';
    case 'BIND_REQUIRED':
      return '请先绑定账号';
    case 'SESSION_EXPIRED':
      return SERVER_MESSAGES.SESSION_EXPIRED;
    case 'HTTP': {
      const serverCode = serverErrorCode(error);
      return serverCode ? SERVER_MESSAGES[serverCode] : byStatus(error.statusCode);
    }
    case 'LOGIN_FAILED':
      // The login request's own failure says what went wrong; without one, wx.login itself failed.
      if (isAuthError(error.cause)) return describe(error.cause);
      if (error.statusCode !== undefined && error.statusCode >= 400) return byStatus(error.statusCode);
      return error.statusCode ? '登录失败，请稍后重试' : '微信登录失败，请稍后重试';
  }
}

/** A short Chinese sentence for any error a page may meet. */
export function errorMessage(error: unknown): string {
  return isAuthError(error) ? describe(error) : FALLBACK;
}

/** The phone could not reach the server (offline, timed out), as opposed to the server answering badly. */
export function isConnectionError(error: unknown): boolean {
  if (!isAuthError(error)) return false;
  if (error.code === 'NETWORK' || error.code === 'TIMEOUT') return true;
  return error.code === 'LOGIN_FAILED' && isConnectionError(error.cause);
}

/** Cancellation is the user's (or a logout's) doing: nothing to tell them. */
export function isSilentError(error: unknown): boolean {
  return isAuthError(error, 'CANCELLED');
}
