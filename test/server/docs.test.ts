/**
 * The examples the server's page and the contract give of what the server answers are what it answers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { maskPhone } from '../../server/account';

const ROOT = path.resolve(__dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
/** Where the phone examples are given: the server's page, the contract, and the code that masks. */
const EXAMPLES = ['docs/server.md', 'typings/api.d.ts', 'server/account.ts'].map((file) => [file, read(file)] as const);
/** Every page of documentation, the front door included. */
const PAGES = ['README.md', ...readdirSync(path.join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

const masksIn = (text: string) => [...text.matchAll(/`((?:\+\d{1,4} )?\d+\*+\d+)`/g)].map((m) => m[1]);
const EXPECTED_MASKS = new Set([maskPhone({ countryCode: '86', number: '13800138000' }), maskPhone({ countryCode: '852', number: '51234567' })]);

describe('the documented phone masks', () => {
  it.each(EXAMPLES)('in %s are the masks of the example numbers the server’s page binds (13800138000, +852 51234567)', (_file, text) => {
    const masks = masksIn(text);
    expect(masks.length).toBeGreaterThan(0);
    for (const mask of masks) expect(EXPECTED_MASKS).toContain(mask);
  });

  it.each(PAGES)('in %s, if it shows any, are the masks of the example numbers', (file) => {
    for (const mask of masksIn(read(file))) expect(EXPECTED_MASKS).toContain(mask);
  });

  it('include the server page’s example numbers themselves', () => {
    const serverPage = read('docs/server.md');
    expect(serverPage).toContain('`13800138000`');
    expect(serverPage).toContain('`+852 51234567`');
  });
});
