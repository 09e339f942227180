/**
 * The examples the README and the contract give of what the server answers are what it answers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { maskPhone } from '../../server/account';

const ROOT = path.resolve(__dirname, '../..');
const DOCS = ['README.md', 'typings/api.d.ts', 'server/account.ts'].map((file) => [file, readFileSync(path.join(ROOT, file), 'utf8')] as const);

describe('the documented phone masks', () => {
  it.each(DOCS)('in %s are the masks of the example numbers the README binds (13800138000, +852 51234567)', (_file, text) => {
    const masks = [...text.matchAll(/`((?:\+\d{1,4} )?\d+\*+\d+)`/g)].map((m) => m[1]);
    expect(masks.length).toBeGreaterThan(0);
    const expected = new Set([maskPhone({ countryCode: '86', number: '13800138000' }), maskPhone({ countryCode: '852', number: '51234567' })]);
    for (const mask of masks) expect(expected).toContain(mask);
  });

  it('include the README’s example numbers themselves', () => {
    const readme = DOCS[0][1];
    expect(readme).toContain('`13800138000`');
    expect(readme).toContain('`+852 51234567`');
  });
});
