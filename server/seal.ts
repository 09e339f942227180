/**
 * Sealing of secrets at rest in Redis (session_key, WeChat's access token): AES-256-GCM with a
 * random 96-bit IV, bound to a context (the session's skey hash, the credential's name) so that a
 * sealed value copied to another record does not open. A dump of Redis alone then reveals neither.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** The text, UTF-8. */
const TEXT = 'v1.';
/**
 * 16 bytes given in base64, as WeChat's session_key is: the bytes are sealed, so that the sealed
 * value takes 62 characters instead of 73. Redis keeps a hash whose values all fit in 64 bytes in
 * its compact encoding (listpack): a stored session then takes 456 bytes instead of 744 (MEMORY
 * USAGE, see bench/RESULTS.md).
 */
const BYTES16 = 'v2.';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/**
 * Base64 of exactly 16 bytes in its one canonical spelling (the character before the padding holds 2
 * bits; only A, Q, g and w leave the other 4 zero), which decodes and encodes back to itself.
 */
const BASE64_16 = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

export interface Sealer {
  seal(plain: string, context: string): string;
  /** The plain text, or null for anything this key did not seal for this context. */
  open(sealed: string, context: string): string | null;
}

/**
 * What the tag authenticates beside the sealed bytes: the context, and for the compact form its
 * version too, so that neither form opens as the other (the text form, older, binds the context alone).
 */
const associatedData = (version: string, context: string) => Buffer.from(version === TEXT ? context : `${version}${context}`, 'utf8');

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error('the sealing key must be 32 bytes');
  return {
    seal(plain, context) {
      const compact = BASE64_16.test(plain);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(associatedData(compact ? BYTES16 : TEXT, context));
      const body = Buffer.concat([cipher.update(compact ? Buffer.from(plain, 'base64') : Buffer.from(plain, 'utf8')), cipher.final()]);
      return (compact ? BYTES16 : TEXT) + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
    },
    open(sealed, context) {
      const version = sealed.slice(0, 3);
      if (version !== TEXT && version !== BYTES16) return null;
      const bytes = Buffer.from(sealed.slice(3), 'base64url');
      if (bytes.length < IV_BYTES + TAG_BYTES) return null;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
        decipher.setAAD(associatedData(version, context));
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
        const plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
        return version === BYTES16 ? plain.toString('base64') : plain.toString('utf8');
      } catch {
        // Wrong key (rotated), tampered or foreign: the session simply has no usable session_key.
        return null;
      }
    },
  };
}
