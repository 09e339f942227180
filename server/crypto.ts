/**
 * WeChat's user-data checks, as pure functions: no I/O, no clock, no logging.
 * https://developers.weixin.qq.com/miniprogram/dev/framework/open-ability/signature.html
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';

export type DecryptFailure = 'BAD_INPUT' | 'BAD_PADDING' | 'BAD_JSON' | 'WRONG_APPID';

/** Why decryption failed; callers answer one generic error whatever the reason. */
export class DecryptError extends Error {
  constructor(readonly reason: DecryptFailure) {
    super(`user data could not be decrypted (${reason})`);
    this.name = 'DecryptError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Base64 as WeChat sends it; Buffer.from alone would silently skip invalid characters. */
function strictBase64(value: string): Buffer | null {
  if (value.length % 4 !== 0 || !BASE64.test(value)) return null;
  return Buffer.from(value, 'base64');
}

/** `signature == sha1(rawData + session_key)`, over rawData exactly as received, in constant time. */
export function verifySignature(rawData: string, signature: string, sessionKey: string): boolean {
  const expected = createHash('sha1').update(rawData + sessionKey, 'utf8').digest();
  if (!/^[0-9a-f]{40}$/i.test(signature)) return false;
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/**
 * AES-128-CBC with key = base64(session_key), strict PKCS#7, JSON payload whose
 * `watermark.appid` must be `appId`. Returns the parsed payload or throws DecryptError.
 */
export function decryptData(encryptedData: string, iv: string, sessionKey: string, appId: string): Record<string, unknown> {
  const key = strictBase64(sessionKey);
  const ivBytes = strictBase64(iv);
  const data = strictBase64(encryptedData);
  if (!key || key.length !== 16 || !ivBytes || ivBytes.length !== 16 || !data || data.length === 0 || data.length % 16 !== 0) {
    throw new DecryptError('BAD_INPUT');
  }

  let plain: Buffer;
  try {
    // OpenSSL's PKCS#7 unpadding checks every padding byte and throws on any mismatch.
    const decipher = createDecipheriv('aes-128-cbc', key, ivBytes);
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new DecryptError('BAD_PADDING');
  }

  let payload: unknown;
  try {
    payload = JSON.parse(plain.toString('utf8'));
  } catch {
    throw new DecryptError('BAD_JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new DecryptError('BAD_JSON');
  const watermark = (payload as { watermark?: unknown }).watermark;
  if (typeof watermark !== 'object' || watermark === null || (watermark as { appid?: unknown }).appid !== appId) {
    throw new DecryptError('WRONG_APPID');
  }
  return payload as Record<string, unknown>;
}

/** How old user data may be (by its watermark), and how far ahead of this server's clock. */
export const USER_DATA_MAX_AGE_MS = 5 * 60 * 1000;
const USER_DATA_MAX_SKEW_MS = 60 * 1000;

/** Whether the payload's `watermark.timestamp` (seconds, set by WeChat) is recent. */
export function isFresh(payload: Record<string, unknown>, nowMs: number): boolean {
  const timestamp = (payload.watermark as { timestamp?: unknown }).timestamp;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) return false;
  const age = nowMs - timestamp * 1000;
  return age <= USER_DATA_MAX_AGE_MS && age >= -USER_DATA_MAX_SKEW_MS;
}
