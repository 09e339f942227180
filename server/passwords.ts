/**
 * Platform account passwords: scrypt from node:crypto, at the parameters OWASP's Password Storage
 * Cheat Sheet recommends when Argon2id is not at hand (N = 2^17, r = 8, p = 1: 128 MiB and a few
 * hundred ms per hash). A stored hash names its own parameters and salt
 * (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`, base64 without padding), so that raising them later
 * leaves every stored hash readable and `needsRehash` says which to upgrade at their next
 * successful use.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface PasswordParams {
  /** log2 of scrypt's CPU/memory cost N. */
  logN: number;
  /** Block size. */
  r: number;
  /** Parallelism. */
  p: number;
}

/** OWASP's recommendation for scrypt (Password Storage Cheat Sheet): N = 2^17, r = 8, p = 1. */
export const PASSWORD_PARAMS: Readonly<PasswordParams> = Object.freeze({ logN: 17, r: 8, p: 1 });

const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** What a stored hash may ask for: anything beyond is refused rather than run (a corrupt or planted row cannot make the server allocate gigabytes). */
const BOUNDS = { logN: [10, 20], r: [1, 32], p: [1, 16] } as const;
/** A password longer than this is refused before hashing (the contract allows 256 characters). */
export const MAX_PASSWORD_LENGTH = 256;

const ENCODED = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$/;

function checkParams(params: PasswordParams): PasswordParams {
  for (const name of ['logN', 'r', 'p'] as const) {
    const value = params[name];
    const [min, max] = BOUNDS[name];
    if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`scrypt ${name} must be an integer from ${min} to ${max}`);
  }
  return params;
}

function derive(password: string, salt: Buffer, { logN, r, p }: PasswordParams): Promise<Buffer> {
  const N = 2 ** logN;
  // Node refuses scrypt above 32 MiB by default; N = 2^17 with r = 8 needs 128 MiB (128·N·r bytes).
  const options: ScryptOptions = { N, r, p, maxmem: 256 * N * r };
  // NFC: the same password typed on two keyboards (composed or decomposed accents) is one password.
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, HASH_BYTES, options, (error, key) => (error ? reject(error) : resolve(key))));
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

/** The stored form of a new password: `$scrypt$ln=…,r=…,p=…$salt$hash`, a fresh random salt each time. */
export async function hashPassword(password: string, params: PasswordParams = PASSWORD_PARAMS): Promise<string> {
  if (typeof password !== 'string' || password === '') throw new TypeError('a password must be a non-empty string');
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params);
  return `$scrypt$ln=${params.logN},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

interface Decoded {
  params: PasswordParams;
  salt: Buffer;
  hash: Buffer;
}

function decode(encoded: string): Decoded | null {
  const match = ENCODED.exec(encoded);
  if (!match) return null;
  const params = { logN: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  try {
    checkParams(params);
  } catch {
    return null;
  }
  return { params, salt: Buffer.from(match[4], 'base64'), hash: Buffer.from(match[5], 'base64') };
}

/** Whether `encoded` is a hash this module can verify. */
export function isPasswordHash(encoded: string): boolean {
  return decode(encoded) !== null;
}

/**
 * Whether `password` is the one `encoded` was made from. The comparison takes the same time
 * wherever the hashes differ. A malformed `encoded` matches nothing.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const decoded = decode(encoded);
  if (!decoded || typeof password !== 'string' || password === '' || password.length > MAX_PASSWORD_LENGTH) return false;
  const computed = await derive(password, decoded.salt, decoded.params);
  return timingSafeEqual(computed, decoded.hash);
}

/** Whether `encoded` was made with parameters other than `params` (the current ones): hash the password again at its next successful use. */
export function needsRehash(encoded: string, params: PasswordParams = PASSWORD_PARAMS): boolean {
  const decoded = decode(encoded);
  return !decoded || decoded.params.logN !== params.logN || decoded.params.r !== params.r || decoded.params.p !== params.p;
}

/**
 * Checks passwords of accounts that may not exist: an unknown account is verified against a
 * dummy hash of the same parameters, so that "no such account" and "wrong password" cost the
 * same and timing tells nobody which accounts exist.
 */
export class PasswordChecker {
  #dummy: Promise<string> | undefined;

  constructor(readonly params: PasswordParams = PASSWORD_PARAMS) {
    checkParams(params);
  }

  /** Makes the dummy hash now (in the background), so that not even the first unknown account costs more. */
  warmUp(): void {
    this.#dummyHash().catch(() => undefined);
  }

  /** A hash of a random password that nobody knows, made once. */
  #dummyHash(): Promise<string> {
    this.#dummy ??= hashPassword(randomBytes(18).toString('base64'), this.params);
    return this.#dummy;
  }

  /** Whether `password` matches `encoded`; with no hash (no such account), false after the same work. */
  async check(password: string, encoded: string | null): Promise<boolean> {
    if (encoded === null) {
      await verifyPassword(password, await this.#dummyHash());
      return false;
    }
    return verifyPassword(password, encoded);
  }

  hash(password: string): Promise<string> {
    return hashPassword(password, this.params);
  }

  needsRehash(encoded: string): boolean {
    return needsRehash(encoded, this.params);
  }
}
