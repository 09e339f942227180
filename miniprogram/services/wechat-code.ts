/**
 * A fresh `wx.login` code for a call that must show the user is this WeChat user now (注销账号's
 * re-authentication: a stolen skey alone must not delete an account). Taken here rather than by
 * the auth service: the code travels as data of an authenticated request, it opens no session.
 */
import { AuthError } from '../auth/index';

const WHERE = 'wx.login';
/** WeChat's wordings of a timed-out call, as the auth service reads them. */
const TIMED_OUT = /time ?out|timed[ _]?out|超时|逾時/i;

/** Resolves with the code; rejects LOGIN_FAILED (or TIMEOUT) as the auth service's own logins do, so the same messages apply. */
export function freshLoginCode(timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    wx.login({
      timeout: timeoutMs,
      success: (result) => {
        if (typeof result.code === 'string' && result.code) resolve(result.code);
        else reject(new AuthError('LOGIN_FAILED', WHERE, 'answered without a code'));
      },
      fail: (failure) => {
        const message = (failure && failure.errMsg) || 'failed';
        reject(new AuthError(TIMED_OUT.test(message) ? 'TIMEOUT' : 'LOGIN_FAILED', WHERE, message, failure));
      },
    });
  });
}
