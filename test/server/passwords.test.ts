/** Platform account passwords: scrypt with self-describing hashes, constant-time checks, and the dummy hash for unknown accounts. */
import { hashPassword, isPasswordHash, needsRehash, PASSWORD_PARAMS, PasswordChecker, verifyPassword } from '../../server/passwords';

const CHEAP = { logN: 10, r: 8, p: 1 };

describe('passwords', () => {
  it('hash at OWASP’s scrypt parameters by default (N = 2^17, r = 8, p = 1), which a stored hash names with its salt', async () => {
    expect(PASSWORD_PARAMS).toEqual({ logN: 17, r: 8, p: 1 });
    const hash = await hashPassword('s3cret-enough');
    expect(hash).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword('s3cret-enough', hash)).toBe(true);
    expect(needsRehash(hash)).toBe(false);
  });

  it('verify the right password only, and salt each hash afresh', async () => {
    const one = await hashPassword('hunter2', CHEAP);
    const two = await hashPassword('hunter2', CHEAP);
    expect(one).not.toBe(two);
    expect(await verifyPassword('hunter2', one)).toBe(true);
    expect(await verifyPassword('hunter2', two)).toBe(true);
    expect(await verifyPassword('hunter3', one)).toBe(false);
    expect(await verifyPassword('', one)).toBe(false);
    expect(one).not.toContain('hunter2');
  });

  it('take a password typed with composed or decomposed accents as one password (NFC)', async () => {
    const hash = await hashPassword('caf\u00e9', CHEAP);
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it('match nothing with a malformed stored hash, or one asking for parameters beyond the bounds (no gigabyte allocations from a planted row)', async () => {
    const hash = await hashPassword('x', CHEAP);
    for (const bad of ['', 'plain', hash.replace('ln=10', 'ln=25'), hash.replace('ln=10', 'ln=9'), hash.slice(0, -1), `${hash}A`]) {
      expect(isPasswordHash(bad)).toBe(false);
      expect(await verifyPassword('x', bad)).toBe(false);
    }
  });

  it('say a hash needs rehashing when its parameters are not the current ones', async () => {
    const old = await hashPassword('x', CHEAP);
    expect(needsRehash(old, CHEAP)).toBe(false);
    expect(needsRehash(old, { ...CHEAP, logN: 11 })).toBe(true);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash('garbage')).toBe(true);
  });

  it('refuse parameters out of bounds when hashing', async () => {
    await expect(hashPassword('x', { logN: 21, r: 8, p: 1 })).rejects.toThrow(RangeError);
    expect(() => new PasswordChecker({ logN: 12, r: 0, p: 1 })).toThrow(RangeError);
  });

  it('check an unknown account (no hash) against a dummy of the same parameters: false, after the same work', async () => {
    const checker = new PasswordChecker(CHEAP);
    const hash = await checker.hash('right');
    expect(await checker.check('right', hash)).toBe(true);
    expect(await checker.check('wrong', hash)).toBe(false);
    expect(await checker.check('right', null)).toBe(false);
    expect(checker.needsRehash(hash)).toBe(false);
  });
});
