/**
 * Where an operator command gets a new password: a prompt that echoes nothing on a terminal (asked
 * twice), else exactly one line of standard input. Never the command line: argv is readable by
 * every user of the machine (ps, /proc/<pid>/cmdline) and lands in shell history.
 */
import { StringDecoder } from 'node:string_decoder';
import { MAX_PASSWORD_LENGTH } from '../passwords';

/** Fewer characters than this are refused: a platform password guards a staff member's data. */
export const MIN_PASSWORD_LENGTH = 8;
/** The most bytes MAX_PASSWORD_LENGTH characters (UTF-16 units, as the server counts them) take in UTF-8: 3 each. */
const MAX_LINE_BYTES = MAX_PASSWORD_LENGTH * 3;
const TOO_LONG = `the password is too long: at most ${MAX_PASSWORD_LENGTH} characters`;

/** The password could not be had, or is not acceptable: the message says why, never what was typed. */
export class PasswordInputError extends Error {
  constructor(
    message: string,
    /** The user pressed Ctrl+C at the prompt (the shell's convention is exit code 130). */
    readonly interrupted = false,
  ) {
    super(message);
    this.name = 'PasswordInputError';
  }
}

/** A terminal as the prompt uses it: node's tty.ReadStream has all of this. */
interface TerminalInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

export interface PasswordSource {
  /** Standard input. */
  input: TerminalInput;
  /** Where the prompts go (standard error, so that standard output stays the command's answer). */
  prompts: NodeJS.WritableStream;
}

/** Refuses a password that is empty, too short, too long or holds control characters. */
export function checkNewPassword(password: string): string {
  if (password.length === 0) throw new PasswordInputError('the password is empty');
  // Characters as people count them (an emoji is one), not UTF-16 units.
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw new PasswordInputError(`the password is too short: at least ${MIN_PASSWORD_LENGTH} characters (got ${length})`);
  // Counted as the server counts it at bind (passwords.ts): what passes here can always be checked there.
  if (password.length > MAX_PASSWORD_LENGTH) throw new PasswordInputError(TOO_LONG);
  // No one can type these into the mini-program's password field: such a password could never bind.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(password)) throw new PasswordInputError('the password contains a control character (a tab, an escape, a NUL…), which the bind page cannot send');
  return password;
}

/**
 * A new password, checked: on a terminal, typed twice at a hidden prompt (the first entry checked
 * before the second is asked for); otherwise the first line of standard input.
 */
export function readNewPassword(source: PasswordSource): Promise<string> {
  return readPassword(source, { prompt: 'New password: ', confirm: 'The same password again: ', check: checkNewPassword });
}

export interface PasswordQuestion {
  /** What the terminal shows before the hidden entry. */
  prompt: string;
  /** Asked after the first entry, which the second must equal; none asks once. */
  confirm?: string;
  /** Refuses an entry (throws PasswordInputError); none takes any non-empty one. */
  check?: (password: string) => string;
}

/**
 * A password: on a terminal, typed at a hidden prompt; otherwise the first line of standard input
 * (its line ending is not part of it), announced on `prompts` so that a command run where nothing
 * feeds it says what it waits for.
 */
export async function readPassword({ input, prompts }: PasswordSource, { prompt, confirm, check = nonEmpty }: PasswordQuestion): Promise<string> {
  if (input.isTTY && input.setRawMode) {
    // Echo off before the first prompt shows and until the last answer is in: keys typed the
    // moment a prompt appears, or between the two, would otherwise be echoed by the terminal.
    input.setRawMode(true);
    try {
      const first = check(await askHidden(prompt, input, prompts));
      if (confirm === undefined) return first;
      const second = await askHidden(confirm, input, prompts);
      if (second !== first) throw new PasswordInputError('the two passwords differ; nothing was changed');
      return first;
    } finally {
      input.setRawMode(false);
      input.pause();
    }
  }
  prompts.write('Reading the password from standard input (one line)…\n');
  const line = await readOneLine(input);
  if (line === null) throw new PasswordInputError('standard input ended before a password line; give the password as one line (it is never taken from the command line)');
  return check(line);
}

function nonEmpty(password: string): string {
  if (password.length === 0) throw new PasswordInputError('the password is empty');
  return password;
}

/**
 * One line typed at a terminal already in raw mode (so echoing nothing): Enter ends it, Backspace and Ctrl+U
 * edit it, Ctrl+C interrupts, Ctrl+D on an empty line cancels. Escape sequences (arrow keys,
 * bracketed paste markers) are dropped, not taken as part of the password.
 */
function askHidden(question: string, input: NodeJS.ReadableStream, prompts: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const decoder = new StringDecoder('utf8');
    let typed: string[] = [];
    let escape: 'none' | 'started' | 'sequence' = 'none';
    const finish = (outcome: () => void) => {
      input.removeListener('data', onData);
      prompts.write('\n');
      outcome();
    };
    const onData = (chunk: Buffer | string) => {
      for (const char of typeof chunk === 'string' ? chunk : decoder.write(chunk)) {
        if (escape === 'started') {
          // ESC [ … opens a control sequence; ESC and one other character is a whole one.
          escape = char === '[' ? 'sequence' : 'none';
          continue;
        }
        if (escape === 'sequence') {
          if (char >= '@' && char <= '~') escape = 'none';
          continue;
        }
        if (char === '\r' || char === '\n') return finish(() => resolve(typed.join('')));
        if (char === '\u0003') return finish(() => reject(new PasswordInputError('interrupted; nothing was changed', true)));
        if (char === '\u0004' && typed.length === 0) return finish(() => reject(new PasswordInputError('no password typed; nothing was changed')));
        if (char === '\u001b') escape = 'started';
        else if (char === '\u007f' || char === '\b') typed.pop();
        else if (char === '\u0015') typed = [];
        else if (char >= ' ') typed.push(char);
        if (typed.join('').length > MAX_PASSWORD_LENGTH) return finish(() => reject(new PasswordInputError(TOO_LONG)));
      }
    };
    prompts.write(question);
    input.on('data', onData);
    input.resume();
  });
}

/**
 * The first line of `input`, without its `\n` or `\r\n`; at the end of input, what came before it
 * (null if nothing did). Reading stops there: what follows is not read. Refused when it is not
 * UTF-8 or runs past what MAX_PASSWORD_LENGTH characters can take without ending.
 */
function readOneLine(input: NodeJS.ReadableStream): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
    };
    const settle = (bytes: Buffer | null) => {
      stop();
      if (bytes === null) return resolve(null);
      try {
        resolve(new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/\r$/, ''));
      } catch {
        reject(new PasswordInputError('the password line is not valid UTF-8'));
      }
    };
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const newline = bytes.indexOf(0x0a);
      chunks.push(newline === -1 ? bytes : bytes.subarray(0, newline));
      size += newline === -1 ? bytes.length : newline;
      if (newline !== -1) return settle(Buffer.concat(chunks));
      // Room for a \r before the newline that has not come yet.
      if (size > MAX_LINE_BYTES + 1) {
        stop();
        reject(new PasswordInputError(TOO_LONG));
      }
    };
    const onEnd = () => settle(size === 0 ? null : Buffer.concat(chunks));
    const onError = (error: Error) => {
      stop();
      reject(new PasswordInputError(`standard input could not be read: ${error.message}`));
    };
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}
