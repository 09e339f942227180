/**
 * The cryptography of WeChat's message push, as pure functions: the URL check's `signature`, the
 * safe mode's `msg_signature`, and the AES envelope (WeChat's WXBizMsgCrypt sample code, which the
 * mini-program's push shares with official accounts and WeCom).
 * https://developers.weixin.qq.com/miniprogram/dev/framework/server-ability/message-push.html
 * https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.html
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** WeChat's rule for the console's EncodingAESKey: 43 letters and digits. */
export const ENCODING_AES_KEY = /^[A-Za-z0-9]{43}$/;
/** WeChat pads the plaintext to a multiple of 32 bytes (PKCS#7 with a 32-byte block), not AES's 16. */
const PAD_BLOCK = 32;
const SHA1_HEX = /^[0-9a-f]{40}$/i;

/** sha1 of the parts sorted as strings (code-unit order, as WeChat's samples sort) and joined: `signature` and `msg_signature`. */
export function pushSignature(...parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join(''), 'utf8').digest('hex');
}

/** Whether `given` is the signature of `parts`, compared in constant time. */
export function signatureMatches(given: string | undefined, ...parts: string[]): boolean {
  if (given === undefined || !SHA1_HEX.test(given)) return false;
  return timingSafeEqual(Buffer.from(pushSignature(...parts), 'hex'), Buffer.from(given, 'hex'));
}

/** The AES-256 key behind an EncodingAESKey: its 43 characters and a trailing "=" are base64 for 32 bytes. */
export function aesKeyFrom(encodingAesKey: string): Buffer {
  if (!ENCODING_AES_KEY.test(encodingAesKey)) throw new Error('an EncodingAESKey is 43 letters and digits');
  return Buffer.from(`${encodingAesKey}=`, 'base64');
}

/** Why an Encrypt value was refused; the route answers one error whatever the reason. */
export type OpenFailure = 'BAD_CIPHERTEXT' | 'BAD_PADDING' | 'BAD_LENGTH' | 'WRONG_APPID';

export class PushDecryptError extends Error {
  constructor(readonly reason: OpenFailure) {
    super(`the push could not be decrypted (${reason})`);
    this.name = 'PushDecryptError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * AES-256-CBC with IV = the key's first 16 bytes; plaintext = 16 random bytes, the message's
 * length (4 bytes, big-endian), the message, the appid; PKCS#7-padded to 32-byte blocks. The
 * random bytes are a parameter for tests that reproduce a published vector.
 */
export function sealPush(key: Buffer, message: string, appId: string, random: Buffer = randomBytes(16)): string {
  const body = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(body.length);
  const plain = Buffer.concat([random, length, body, Buffer.from(appId, 'utf8')]);
  const pad = PAD_BLOCK - (plain.length % PAD_BLOCK);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

/** The message inside an Encrypt value, checked to name `appId`; throws PushDecryptError. */
export function openPush(key: Buffer, encrypted: string, appId: string): string {
  if (encrypted.length % 4 !== 0 || !BASE64.test(encrypted)) throw new PushDecryptError('BAD_CIPHERTEXT');
  const data = Buffer.from(encrypted, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new PushDecryptError('BAD_CIPHERTEXT');
  const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(data), decipher.final()]);
  // OpenSSL's own unpadding knows 16-byte blocks only; WeChat's pad runs from 1 to 32, every byte equal.
  const pad = plain[plain.length - 1];
  if (pad < 1 || pad > PAD_BLOCK || pad > plain.length || !plain.subarray(plain.length - pad).every((byte) => byte === pad)) {
    throw new PushDecryptError('BAD_PADDING');
  }
  const unpadded = plain.subarray(0, plain.length - pad);
  if (unpadded.length < 20) throw new PushDecryptError('BAD_LENGTH');
  const length = unpadded.readUInt32BE(16);
  if (20 + length > unpadded.length) throw new PushDecryptError('BAD_LENGTH');
  const givenAppId = unpadded.subarray(20 + length);
  const expected = Buffer.from(appId, 'utf8');
  if (givenAppId.length !== expected.length || !timingSafeEqual(givenAppId, expected)) throw new PushDecryptError('WRONG_APPID');
  return unpadded.subarray(20, 20 + length).toString('utf8');
}
