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
  /** This mini-program may not ask (an unverified or personal account, or the feature is switched off). */
  | { kind: 'unavailable' }
  | { kind: 'failed' };

/**
 * Reads `event.detail` of the getPhoneNumber button. The wording of errMsg varies by platform
 * and version ("getPhoneNumber:fail user deny", "…:fail:cancel", "…:fail no permission"), so it is
 * matched loosely; a success without a code is a failure.
 */
export function readPhoneButton(detail: { errMsg?: unknown; code?: unknown } | null | undefined): PhoneButtonOutcome {
  const errMsg = detail && typeof detail.errMsg === 'string' ? detail.errMsg : '';
  const code = detail && typeof detail.code === 'string' ? detail.code : '';
  if (/:ok$/.test(errMsg) && code) return { kind: 'code', code };
  if (/deny|cancel/i.test(errMsg)) return { kind: 'denied' };
  if (/no permission|not permitted|unauthorized|quota/i.test(errMsg)) return { kind: 'unavailable' };
  return { kind: 'failed' };
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
