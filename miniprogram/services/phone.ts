/**
 * Binding the user's phone number: what `<button open-type="getPhoneNumber">` answered, and the
 * exchange of its one-time code at the server (POST /auth/phone).
 */
import type { AuthClient } from '../auth/index';
import { serverErrorCodeOf } from '../utils/error-message';
import type { PhoneBindRequest, PhoneBindResponse, User } from '../../typings/api';

/** What the button's `getphonenumber` event means for the page. */
export type PhoneButtonOutcome =
  | { kind: 'code'; code: string }
  /** The user declined: their choice, not an error. */
  | { kind: 'denied' }
  /**
   * WeChat refused before showing its sheet, and another tap will not change that: `quota` (this
   * mini-program's paid phone verifications are used up) or `no-permission` (an unverified or
   * personal account, or the feature switched off). Neither is the user's doing.
   */
  | { kind: 'unavailable'; reason: PhoneUnavailableReason }
  | { kind: 'failed' };
export type PhoneUnavailableReason = 'quota' | 'no-permission';

/**
 * `errno` of a getPhoneNumber refused at the button because the mini-program's quota is used up
 * (手机号快速验证组件, 查询节点: WeChat checks the quota when the button is tapped). WeChat documents
 * the number only, not its errMsg, and sends it as a number; a string is read too.
 */
export const PHONE_QUOTA_ERRNO = 1400001;

/**
 * Reads `event.detail` of the getPhoneNumber button. The wording of errMsg varies by platform
 * and version ("getPhoneNumber:fail user deny", "…:fail:cancel", "…:fail no permission"), so it is
 * matched loosely; a success without a code is a failure.
 */
export function readPhoneButton(detail: { errMsg?: unknown; code?: unknown; errno?: unknown } | null | undefined): PhoneButtonOutcome {
  const errMsg = detail && typeof detail.errMsg === 'string' ? detail.errMsg : '';
  const code = detail && typeof detail.code === 'string' ? detail.code : '';
  const errno = detail && (typeof detail.errno === 'number' || typeof detail.errno === 'string') ? Number(detail.errno) : NaN;
  if (/:ok$/.test(errMsg) && code) return { kind: 'code', code };
  if (errno === PHONE_QUOTA_ERRNO || /quota/i.test(errMsg)) return { kind: 'unavailable', reason: 'quota' };
  if (/no permission|not permitted|unauthorized/i.test(errMsg)) return { kind: 'unavailable', reason: 'no-permission' };
  if (/deny|cancel/i.test(errMsg)) return { kind: 'denied' };
  return { kind: 'failed' };
}

/**
 * Another way on that the app offers when the server requires a phone and WeChat cannot give one
 * (quota used up, no permission): the phone step shows `button` and `hint`, and opens `url`.
 */
export interface PhoneFallback {
  /** The button's words, such as 绑定已有账号. */
  button: string;
  /** One sentence after the reason, saying what the button does. */
  hint: string;
  /** The mini-program page the button opens (navigateTo). */
  url: string;
}

let fallback: PhoneFallback | null = null;

/**
 * Another way on that an app may offer when a required phone cannot be verified: a page of its
 * own (a support form, a manual check by staff). The phone step then offers it first. Null (the
 * default): the step says what the missing phone means, and the user moves on without it. Not the
 * bind page: in bind mode every logged-in user is already bound (an unbind ends the session), so
 * the way on there is the same as in open mode.
 */
export function offerPhoneFallback(way: PhoneFallback | null): void {
  fallback = way;
}

/** What offerPhoneFallback registered, if anything. */
export function phoneFallback(): PhoneFallback | null {
  return fallback;
}

/** Exchanges the code for the number at the server; the session's user is updated with the answer. */
export async function bindPhone(auth: AuthClient<User>, code: string): Promise<User> {
  const body: PhoneBindRequest = { code };
  const { data } = await auth.request<PhoneBindResponse>({ url: '/auth/phone', method: 'POST', data: body });
  if (!data || !data.user || typeof data.user.id !== 'string') throw new Error('POST /auth/phone answered without a user');
  auth.updateUser(data.user);
  return data.user;
}

/** A business route refused the account until it has a phone: open the phone step instead of showing an error. */
export function isPhoneRequired(error: unknown): boolean {
  return serverErrorCodeOf(error) === 'PHONE_REQUIRED';
}
