/**
 * `POST /wxa/business/getuserphonenumber`: the number behind a code that the mini-program's
 * `<button open-type="getPhoneNumber">` handed the page. Each code works once, for 5 minutes.
 */
import { ApiError } from '../errors';
import type { PhoneNumber } from '../stores/types';
import { AccessTokenRejectedError, rejectsToken, type AccessTokenManager } from './access-token';
import { callWeChat, errcodeOf, unavailable, type Transport } from './http';

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

/** An answer this server cannot use: 502, its detail for the operator's log only (see unavailable). */
const unexpected = (what: string) => unavailable(`getuserphonenumber answered ${what}`);

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

/**
 * Exchanges the code; throws ApiError with the answer the mini-program should get. Everything the
 * exchange asks of WeChat (a token renewal, the exchange, its retry with a renewed token) happens
 * within `withinMs`, so the mini-program (whose requests time out after 10 s) gets the answer:
 * 504 WECHAT_TIMEOUT at the deadline. Each exchange call gets what is left of it (at most its own
 * timeout), and none starts after it: a code is never spent for an answer nobody reads.
 */
export async function getUserPhoneNumber({ transport, baseUrl, appId, timeoutMs, tokens }: PhoneNumberCall, code: string, withinMs: number): Promise<PhoneNumber> {
  const deadline = Date.now() + withinMs;
  const late = () => new ApiError('WECHAT_TIMEOUT', `WeChat did not complete the phone number exchange within ${withinMs} ms`);
  const exchange = tokens.withToken(async (token) => {
    const left = deadline - Date.now();
    if (left <= 0) throw late();
    // WeChat takes the access_token in the query string: this URL is never logged, returned or put in an error.
    const answer = await callWeChat(transport, `${baseUrl()}/wxa/business/getuserphonenumber?access_token=${encodeURIComponent(token)}`, Math.min(timeoutMs, left), {
      body: JSON.stringify({ code }),
    });
    const errcode = errcodeOf(answer);
    if (rejectsToken(errcode)) throw new AccessTokenRejectedError(errcode);
    return answer;
  });
  // The wait for a token (a renewal this process or another instance is making) is cut at the
  // deadline too; the renewal itself goes on, for whoever asks next.
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(late()), Math.max(0, deadline - Date.now()));
  });
  exchange.catch(() => undefined);
  let body: Record<string, unknown>;
  try {
    body = await Promise.race([exchange, expired]);
  } finally {
    clearTimeout(timer);
  }
  const errcode = errcodeOf(body);
  if (errcode !== 0) throw errorFor(errcode);
  return phoneFrom(body, appId);
}
