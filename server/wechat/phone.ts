/**
 * `POST /wxa/business/getuserphonenumber`: the number behind a code that the mini-program's
 * `<button open-type="getPhoneNumber">` handed the page. Each code works once, for 5 minutes.
 */
import { ApiError } from '../errors';
import type { PhoneNumber } from '../stores/types';
import { AccessTokenRejectedError, rejectsToken, type AccessTokenManager } from './access-token';
import { callWeChat, errcodeOf, type Transport } from './http';

/** WeChat's errcodes for a phone code, and what the mini-program is told. */
function errorFor(errcode: number): ApiError {
  switch (errcode) {
    case 40029: // invalid, expired, used, or from another app
    case 40163:
      return new ApiError('INVALID_PHONE_CODE', 'the phone number code is invalid, expired or already used; ask for the number again');
    case 45011:
      return new ApiError('RATE_LIMITED', 'WeChat is rate limiting phone number requests, try again shortly', { headers: { 'retry-after': '60' } });
    case -1:
      return new ApiError('WECHAT_UNAVAILABLE', 'WeChat is busy, try again shortly', { status: 503 });
    default:
      // 40013 (appid), 48001 (no permission for this API) and the like: the server's setup. The
      // errcode goes to the operator's log, not to the mini-program.
      return Object.assign(new ApiError('WECHAT_UNAVAILABLE', 'WeChat could not provide the phone number'), { cause: new Error(`getuserphonenumber errcode ${errcode}`) });
  }
}

const unexpected = (what: string) => new ApiError('WECHAT_UNAVAILABLE', `WeChat answered ${what}`);

/** The verified number from `phone_info`; countryCode comes as a string or (in WeChat's own example) a number. */
function phoneFrom(body: Record<string, unknown>, appId: string): PhoneNumber {
  const info = body.phone_info;
  if (typeof info !== 'object' || info === null) throw unexpected('without phone_info');
  const { purePhoneNumber, countryCode, watermark } = info as Record<string, unknown>;
  const code = typeof countryCode === 'number' ? String(countryCode) : countryCode;
  // E.164: at most 15 digits in all.
  if (typeof purePhoneNumber !== 'string' || !/^\d{4,14}$/.test(purePhoneNumber) || typeof code !== 'string' || !/^[1-9]\d{0,3}$/.test(code)) {
    throw unexpected('a phone number of an unexpected shape');
  }
  if (typeof watermark !== 'object' || watermark === null || (watermark as Record<string, unknown>).appid !== appId) {
    throw unexpected('a phone number watermarked for another app');
  }
  return { countryCode: code, number: purePhoneNumber };
}

export interface PhoneNumberCall {
  transport: Transport;
  baseUrl: () => string;
  appId: string;
  timeoutMs: number;
  tokens: AccessTokenManager;
}

/** Exchanges the code; throws ApiError with the answer the mini-program should get. */
export async function getUserPhoneNumber({ transport, baseUrl, appId, timeoutMs, tokens }: PhoneNumberCall, code: string): Promise<PhoneNumber> {
  const body = await tokens.withToken(async (token) => {
    // WeChat takes the access_token in the query string: this URL is never logged, returned or put in an error.
    const answer = await callWeChat(transport, `${baseUrl()}/wxa/business/getuserphonenumber?access_token=${encodeURIComponent(token)}`, timeoutMs, {
      body: JSON.stringify({ code }),
    });
    const errcode = errcodeOf(answer);
    if (rejectsToken(errcode)) throw new AccessTokenRejectedError(errcode);
    return answer;
  });
  const errcode = errcodeOf(body);
  if (errcode !== 0) throw errorFor(errcode);
  return phoneFrom(body, appId);
}
