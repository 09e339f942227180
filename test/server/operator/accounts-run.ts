/**
 * `npm run accounts` as an operator runs it: the real script (scripts/accounts.js, which compiles
 * and runs server/operator/accounts-command.ts) in a child process, the password fed on standard
 * input once the command says it waits for it, its command line read from /proc meanwhile.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

export interface AccountsRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** /proc/<pid>/cmdline of the command while it waited for the password (NULs as spaces); '' when it never waited. */
  argvWhileWaiting: string;
}

export interface AccountsRunOptions {
  databaseUrl?: string;
  redisUrl?: string;
  /** Written (then standard input closed) once the command announces it reads the password; without it, standard input is closed at once. */
  stdin?: string | Buffer;
}

/** The environment of the test run without anything that names a store or WeChat: each run names its own. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(DATABASE_|REDIS_|WX_|SESSION_|NODE_ENV$)/.test(name)) env[name] = value;
  }
  return env;
}

export function runAccounts(args: string[], { databaseUrl, redisUrl, stdin }: AccountsRunOptions = {}): Promise<AccountsRun> {
  const env = cleanEnv();
  if (databaseUrl !== undefined) env.DATABASE_URL = databaseUrl;
  if (redisUrl !== undefined) env.REDIS_URL = redisUrl;
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'accounts.js'), ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const run: AccountsRun = { code: null, stdout: '', stderr: '', argvWhileWaiting: '' };
  child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    run.stderr += chunk.toString();
    if (stdin !== undefined && !run.argvWhileWaiting && run.stderr.includes('Reading the password from standard input')) {
      run.argvWhileWaiting = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').join(' ');
      child.stdin.end(stdin);
    }
  });
  // A command that never asks (a refusal before the password) must not wait on an open pipe.
  if (stdin === undefined) child.stdin.end();
  // The command may exit before it reads what was written: that is not the test's failure.
  child.stdin.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      // Asked for a password that never came (it exited first, or the prompt changed): close it now.
      if (stdin !== undefined && !run.argvWhileWaiting) child.stdin.destroy();
      resolve({ ...run, code });
    });
  });
}

/**
 * The command at a terminal: run under `script`, which gives it a pseudo-terminal as standard
 * input and output. Each answer is typed once the prompt before it shows; `transcript` is what
 * the terminal showed (where an echoed password would appear).
 */
export function runAccountsAtTerminal(args: string[], databaseUrl: string, answers: string[]): Promise<{ code: number | null; transcript: string }> {
  const env = { ...cleanEnv(), DATABASE_URL: databaseUrl };
  const command = ['node', path.join(root, 'scripts', 'accounts.js'), ...args].map((word) => `'${word.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const prompts = ['New password: ', 'The same password again: '];
  let transcript = '';
  let answered = 0;
  const onOutput = (chunk: Buffer) => {
    transcript += chunk.toString();
    while (answered < answers.length && transcript.includes(prompts[answered])) child.stdin.write(`${answers[answered++]}\r`);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  child.stdin.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, transcript }));
  });
}
