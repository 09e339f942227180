/**
 * `npm start` (what it runs: scripts/start-simulated.js) in a child process, in a folder of the
 * test's own, as a developer starts it: its data folder there, no store or WeChat variables from
 * the test run's environment, until it answers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { until } from '../server/helpers';

const root = path.resolve(__dirname, '../..');

export interface StartedServer {
  child: ChildProcess;
  /** Everything it printed so far, standard output and error together. */
  output: () => string;
}

/** Starts it in `cwd` on `port` (127.0.0.1), `env` added to a clean environment, and waits until /healthz answers. */
export async function npmStart(cwd: string, port: number, env: Record<string, string> = {}): Promise<StartedServer> {
  const environment: Record<string, string | undefined> = { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  for (const name of ['WX_MODE', 'WX_APPID', 'WX_SECRET', 'REDIS_URL', 'DATABASE_URL', 'DATABASE_MIGRATE', 'NODE_ENV', 'ACCOUNT_MODE', 'WX_PUSH_TOKEN', 'WX_PUSH_AES_KEY', 'WX_PUSH_ACCEPT_PLAIN']) delete environment[name];
  const child = spawn(process.execPath, [path.join(root, 'scripts', 'start-simulated.js')], { cwd, env: { ...environment, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited: ${output}`);
      return fetch(`http://127.0.0.1:${port}/healthz`).then(
        (response) => response.ok,
        () => false,
      );
    },
    'npm start to answer',
    60_000,
  );
  return { child, output: () => output };
}

/** SIGTERM, as a process manager stops it; its exit code. */
export const stopped = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
