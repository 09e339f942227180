import { PassThrough } from 'node:stream';
import { MAX_PASSWORD_LENGTH } from '../../../server/passwords';
import { checkNewPassword, MIN_PASSWORD_LENGTH, PasswordInputError, readNewPassword, readPassword } from '../../../server/operator/password-input';

/** Standard input as a pipe: what the test writes, then (optionally) its end. */
function pipe(...chunks: Array<string | Buffer>): PassThrough {
  const input = new PassThrough();
  for (const chunk of chunks) input.write(chunk);
  return input;
}

/** A terminal: typed keys arrive as data; raw mode is recorded, so that the test sees echo was off while typing. */
function terminal() {
  const input = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode(raw: boolean): void; rawModes: boolean[] };
  input.isTTY = true;
  input.rawModes = [];
  input.setRawMode = (raw: boolean) => void input.rawModes.push(raw);
  return input;
}

function collector() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(PasswordInputError);
      return error as PasswordInputError;
    },
  );

describe('a new password from standard input (not a terminal)', () => {
  it('is the first line, without its line ending, and says on the prompt stream what it reads', async () => {
    const prompts = collector();
    expect(await readNewPassword({ input: pipe('correct horse\n'), prompts: prompts.stream })).toBe('correct horse');
    expect(await readNewPassword({ input: pipe('windows line\r\n'), prompts: prompts.stream })).toBe('windows line');
    expect(prompts.text()).toMatch(/^Reading the password from standard input \(one line\)…\n/);
    expect(prompts.text()).not.toContain('correct horse');
  });

  it('keeps spaces and non-ASCII characters as typed, and stops at the first line, leaving the rest unread', async () => {
    const input = pipe('  密码 with spaces 🐱 \nsecond line\n');
    expect(await readNewPassword({ input, prompts: collector().stream })).toBe('  密码 with spaces 🐱 ');
  });

  it('takes a last line without a newline when the input ends, and a line split across many chunks', async () => {
    const ended = pipe('no newline at end');
    ended.end();
    expect(await readNewPassword({ input: ended, prompts: collector().stream })).toBe('no newline at end');
    const split = pipe('abc', 'def', Buffer.from('é'.repeat(3)).subarray(0, 3));
    const reading = readNewPassword({ input: split, prompts: collector().stream });
    split.write(Buffer.from('é'.repeat(3)).subarray(3));
    split.write('\n');
    expect(await reading).toBe('abcdefééé');
  });

  it('refuses an input that ends before any line, an empty line, a short one, and says why without the password', async () => {
    const empty = pipe();
    empty.end();
    expect((await refusal(readNewPassword({ input: empty, prompts: collector().stream }))).message).toMatch(/standard input ended before a password line/);
    expect((await refusal(readNewPassword({ input: pipe('\n'), prompts: collector().stream }))).message).toBe('the password is empty');
    const short = await refusal(readNewPassword({ input: pipe('seven77\n'), prompts: collector().stream }));
    expect(short.message).toBe(`the password is too short: at least ${MIN_PASSWORD_LENGTH} characters (got 7)`);
    expect(short.message).not.toContain('seven77');
  });

  it('refuses a line that is not UTF-8, and one longer than the server checks at bind, without reading on', async () => {
    expect((await refusal(readNewPassword({ input: pipe(Buffer.from([0x61, 0xff, 0xfe, 0x62, 0x0a])), prompts: collector().stream }))).message).toBe('the password line is not valid UTF-8');
    const endless = pipe('x'.repeat(64 * 1024));
    expect((await refusal(readNewPassword({ input: endless, prompts: collector().stream }))).message).toBe(`the password is too long: at most ${MAX_PASSWORD_LENGTH} characters`);
    expect((await refusal(readNewPassword({ input: pipe(`${'y'.repeat(MAX_PASSWORD_LENGTH + 1)}\n`), prompts: collector().stream }))).message).toMatch(/too long/);
    expect(await readNewPassword({ input: pipe(`${'y'.repeat(MAX_PASSWORD_LENGTH)}\n`), prompts: collector().stream })).toHaveLength(MAX_PASSWORD_LENGTH);
  });
});

describe('a new password typed at a terminal', () => {
  it('is asked twice with echo off (raw mode) from before the first prompt to the last answer, restored after, and the prompts never show what was typed', async () => {
    const input = terminal();
    const prompts = collector();
    // What the terminal had shown each time the mode changed: echo goes off before the first prompt.
    const shownAtModeChange: string[] = [];
    const setRawMode = input.setRawMode;
    input.setRawMode = (raw: boolean) => (shownAtModeChange.push(prompts.text()), setRawMode(raw));
    const reading = readNewPassword({ input, prompts: prompts.stream });
    input.write('s3cret-pass');
    input.write('\r');
    await new Promise((resolve) => setImmediate(resolve));
    input.write('s3cret-pass\r');
    expect(await reading).toBe('s3cret-pass');
    expect(input.rawModes).toEqual([true, false]);
    expect(shownAtModeChange).toEqual(['', 'New password: \nThe same password again: \n']);
    expect(prompts.text()).toBe('New password: \nThe same password again: \n');
  });

  it('edits with Backspace and Ctrl+U and drops arrow keys and bracketed-paste markers', async () => {
    const input = terminal();
    const reading = readNewPassword({ input, prompts: collector().stream });
    input.write('wrong\u0015pass\u007fsword\u001b[D\u001b[200~-paste\u001b[201~!!\r');
    await new Promise((resolve) => setImmediate(resolve));
    input.write('password-paste!!\n');
    expect(await reading).toBe('password-paste!!');
  });

  it('refuses two entries that differ, and reports Ctrl+C as an interruption', async () => {
    const input = terminal();
    const reading = readNewPassword({ input, prompts: collector().stream });
    input.write('first-password\r');
    await new Promise((resolve) => setImmediate(resolve));
    input.write('other-password\r');
    const differ = await refusal(reading);
    expect(differ.message).toBe('the two passwords differ; nothing was changed');
    expect(differ.interrupted).toBe(false);

    const again = terminal();
    const interrupted = readNewPassword({ input: again, prompts: collector().stream });
    again.write('half\u0003');
    const error = await refusal(interrupted);
    expect(error.interrupted).toBe(true);
    expect(again.rawModes).toEqual([true, false]);
  });

  it('checks the first entry before asking again', async () => {
    const input = terminal();
    const prompts = collector();
    const reading = readNewPassword({ input, prompts: prompts.stream });
    input.write('short\r');
    expect((await refusal(reading)).message).toMatch(/too short/);
    expect(prompts.text()).not.toContain('again');
  });
});

describe('an existing password (the demo\'s), asked once', () => {
  it('takes any non-empty entry at one hidden prompt, or one line of standard input, with none of the new-password rules', async () => {
    const input = terminal();
    const prompts = collector();
    const reading = readPassword({ input, prompts: prompts.stream }, { prompt: 'Password of demo: ' });
    input.write('short\r');
    expect(await reading).toBe('short');
    expect(prompts.text()).toBe('Password of demo: \n');
    expect(input.rawModes).toEqual([true, false]);
    expect(await readPassword({ input: pipe('abc\n'), prompts: collector().stream }, { prompt: 'unused' })).toBe('abc');
    expect((await refusal(readPassword({ input: pipe('\n'), prompts: collector().stream }, { prompt: 'unused' }))).message).toBe('the password is empty');
  });
});

describe('the password rules', () => {
  it('count characters as people do (an emoji is one) and refuse control characters', () => {
    expect(checkNewPassword('🐱🐱🐱🐱🐱🐱🐱🐱')).toBe('🐱🐱🐱🐱🐱🐱🐱🐱');
    expect(() => checkNewPassword('tab\there-long')).toThrow(/control character/);
    expect(() => checkNewPassword('abcdefg')).toThrow(/too short/);
  });
});
