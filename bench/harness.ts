/**
 * Processes the benchmark, the load test and the reliability tests run against: the real server
 * (as `npm run server` starts it), a private redis-server, and a bare node:http baseline. Every
 * one listens on 127.0.0.1 on a free port and is stopped by whoever started it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { freePort } from '../tools/free-port';
import os from 'node:os';
import path from 'node:path';

/** The project root, found upward from here: this file also runs from a bundle in bench/.tmp. */
export const ROOT = (() => {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'server', 'index.ts'))) return dir;
  }
  throw new Error(`no project root above ${__dirname}`);
})();

export { freePort };

/** Polls `probe` until it resolves true, at most `ms`; rejects naming `what` otherwise. */
export async function waitFor(what: string, probe: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Proc {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Whether the process has exited (it should not, until stop()). */
  exited(): boolean;
  stop(): Promise<void>;
}

function track(child: ChildProcess, url: string, cleanup: () => void = () => {}): Proc {
  let output = '';
  let exitCode: number | null | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      resolve();
    }),
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    url,
    child,
    output: () => output,
    exited: () => exitCode !== undefined,
    async stop() {
      if (exitCode === undefined) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exit;
        clearTimeout(killer);
      }
      cleanup();
    },
  };
}

const answers = (url: string) => async () => {
  await fetch(url, { signal: AbortSignal.timeout(1000) });
  return true;
};

/** The server compiled as `npm run server` compiles it, once per process (its own file: jest runs several). */
let compiledServer: string | undefined;
export function compileServer(): string {
  if (!compiledServer) {
    const { buildServer } = createRequire(path.join(ROOT, 'package.json'))(path.join(ROOT, 'scripts', 'build-server.js')) as { buildServer(outfile: string): string };
    compiledServer = buildServer(path.join(ROOT, 'bench', '.tmp', `server-${process.pid}.js`));
    process.once('exit', () => {
      rmSync(compiledServer!, { force: true });
      rmSync(`${compiledServer}.map`, { force: true });
    });
  }
  return compiledServer;
}

/**
 * The real server, started like `npm run server` (compiled, then run by node) with the simulated
 * WeChat. `env` adds to or overrides the environment (REDIS_URL, LOG_LEVEL, LOGIN_RATE_LIMIT...).
 */
export async function startServer(env: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const uploadDir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-bench-'));
  const child = spawn(process.execPath, ['--enable-source-maps', compileServer()], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), UPLOAD_DIR: uploadDir, WX_MODE: 'simulated', WX_APPID: '', WX_SECRET: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child, `http://127.0.0.1:${port}`, () => rmSync(uploadDir, { recursive: true, force: true }));
  try {
    await waitFor('server', async () => {
      if (proc.exited()) throw new Error(`server exited: ${proc.output().slice(-1000)}`);
      return answers(`${proc.url}/auth/session`)();
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}

/**
 * A baseline answering `bodies[path]` (any method) with 200 JSON: plain node:http by default,
 * or a Fastify with nothing registered.
 */
export async function startBare(bodies: Record<string, string>, kind: 'node:http' | 'fastify' = 'node:http'): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'bench', kind === 'fastify' ? 'bare-fastify.js' : 'bare-server.js')], {
    env: { ...process.env, PORT: String(port), BODIES: JSON.stringify(bodies) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child, `http://127.0.0.1:${port}`);
  await waitFor(`bare ${kind} server`, answers(proc.url));
  return proc;
}

export const hasRedis = (): boolean => spawnSync('redis-server', ['--version']).status === 0;

export interface RedisProc {
  url: string;
  /** Stops redis-server, keeping its port for restart(). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
}

/** A private redis-server without persistence, on a free port. */
export async function startRedis(): Promise<RedisProc> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-redis-'));
  const port = await freePort();
  const launch = async (): Promise<Proc> => {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = track(child, `redis://127.0.0.1:${port}`);
    await waitFor('redis-server', async () => {
      if (proc.exited()) throw new Error(`redis-server exited: ${proc.output().slice(-500)}`);
      return proc.output().includes('Ready to accept connections');
    });
    return proc;
  };
  let current = await launch();
  return {
    url: current.url,
    stop: () => current.stop(),
    async restart() {
      current = await launch();
    },
    async dispose() {
      await current.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
