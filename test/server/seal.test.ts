import { createCipheriv, randomBytes } from 'node:crypto';
import { createSealer } from '../../server/seal';

const KEY = Buffer.alloc(32, 7);
const SESSION_KEY = 'tiihtNczf5v6AKRyjwEUhQ==';
const HASH = 'a'.repeat(64);

/** A value sealed as this module sealed every session_key before the compact form: UTF-8 text, 'v1.'. */
function sealedAsText(plain: string, context: string, key = KEY): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

describe('sealing', () => {
  const sealer = createSealer(KEY);

  it('seals a WeChat session_key as its 16 bytes, in 62 characters (Redis keeps values of at most 64 bytes compact), and opens it back exactly', () => {
    for (const plain of [SESSION_KEY, ...Array.from({ length: 50 }, () => randomBytes(16).toString('base64'))]) {
      const sealed = sealer.seal(plain, HASH);
      expect(sealed).toMatch(/^v2\.[A-Za-z0-9_-]{59}$/);
      expect(sealer.open(sealed, HASH)).toBe(plain);
    }
  });

  it('seals anything else as text, and opens it back exactly', () => {
    for (const plain of ['', 'not base64 at all', 'tiihtNczf5v6AKRyjwEUhR==', '😀 session']) {
      const sealed = sealer.seal(plain, HASH);
      expect(sealed.startsWith('v1.')).toBe(true);
      expect(sealer.open(sealed, HASH)).toBe(plain);
    }
  });

  it('still opens the values sealed as text before the compact form existed', () => {
    expect(sealer.open(sealedAsText(SESSION_KEY, HASH), HASH)).toBe(SESSION_KEY);
  });

  it.each([
    ['another context (another session)', (sealed: string) => sealer.open(sealed, 'b'.repeat(64))],
    ['another key (rotated)', (sealed: string) => createSealer(Buffer.alloc(32, 8)).open(sealed, HASH)],
    ['one character of the ciphertext changed', (sealed: string) => sealer.open(`${sealed.slice(0, 30)}${sealed[30] === 'A' ? 'B' : 'A'}${sealed.slice(31)}`, HASH)],
    ['the version swapped', (sealed: string) => sealer.open(`${sealed.startsWith('v2.') ? 'v1.' : 'v2.'}${sealed.slice(3)}`, HASH)],
    ['cut short', (sealed: string) => sealer.open(sealed.slice(0, 20), HASH)],
  ])('opens nothing for %s', (_case, open) => {
    expect(open(sealer.seal(SESSION_KEY, HASH))).toBeNull();
    expect(open(sealedAsText(SESSION_KEY, HASH))).toBeNull();
  });
});
