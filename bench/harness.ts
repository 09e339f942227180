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

/**
 * What the benchmark starts: the server as `npm run server` runs it, or the same server calling its
 * simulated WeChat in-process (bench/in-process-server.ts), which shows what a login costs the
 * server itself.
 */
export type ServerEntry = 'server' | 'in-process';
const ENTRIES: Record<ServerEntry, string> = { server: path.join(ROOT, 'server', 'index.ts'), 'in-process': path.join(ROOT, 'bench', 'in-process-server.ts') };

/** Compiled as `npm run server` compiles the server, once per process and entry (its own file: jest runs several). */
const compiled = new Map<ServerEntry, string>();
export function compileServer(entry: ServerEntry = 'server'): string {
  let file = compiled.get(entry);
  if (!file) {
    const { buildServer } = createRequire(path.join(ROOT, 'package.json'))(path.join(ROOT, 'scripts', 'build-server.js')) as { buildServer(outfile: string, entry: string): string };
    const built = buildServer(path.join(ROOT, 'bench', '.tmp', `${entry}-${process.pid}.js`), ENTRIES[entry]);
    compiled.set(entry, (file = built));
    process.once('exit', () => {
      rmSync(built, { force: true });
      rmSync(`${built}.map`, { force: true });
    });
  }
  return file;
}

export interface StartOptions {
  /** Flags for node before the script (--cpu-prof...). */
  nodeArgs?: string[];
  /**
   * Where the process's stdout goes: kept for output() (the default), or to /dev/null, for a
   * server logging a line per request under load (collecting those would load the benchmark).
   */
  stdout?: 'pipe' | 'ignore';
  /** Which server (startServer only). */
  entry?: ServerEntry;
}

/**
 * The real server, started like `npm run server` (compiled, then run by node) with the simulated
 * WeChat. `env` adds to or overrides the environment (REDIS_URL, LOG_LEVEL, LOGIN_RATE_LIMIT...).
 */
export async function startServer(env: Record<string, string> = {}, { nodeArgs = [], stdout = 'pipe', entry = 'server' }: StartOptions = {}): Promise<Proc> {
  const port = await freePort();
  const uploadDir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-bench-'));
  const child = spawn(process.execPath, [...nodeArgs, '--enable-source-maps', compileServer(entry)], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), UPLOAD_DIR: uploadDir, WX_MODE: 'simulated', WX_APPID: '', WX_SECRET: '', REDIS_URL: '', ...env },
    stdio: ['ignore', stdout, 'pipe'],
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

/** The servers ours is measured against, each a small script in bench/. */
const PEERS = {
  /** node:http answering fixed bodies (BODIES), or each read with one Redis GET (REDIS_URL). */
  'node:http': 'bare-server.js',
  /** Fastify with nothing registered, answering the same fixed bodies. */
  fastify: 'bare-fastify.js',
  /** The tutorial's Express server (WX_API_BASE answers its jscode2session). */
  'tutorial-express': 'tutorial-express.js',
  /** The server package's Express adapter in an Express app (built by bench/run.js). */
  'adapter-express': 'adapter-express.js',
} as const;
export type PeerKind = keyof typeof PEERS;

/** A peer on a free port, with `env` (BODIES, REDIS_URL, WX_API_BASE...) added to the environment. */
export async function startPeer(kind: PeerKind, env: Record<string, string>, { nodeArgs = [] }: StartOptions = {}): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bench', PEERS[kind])], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child, `http://127.0.0.1:${port}`);
  try {
    await waitFor(kind, async () => {
      if (proc.exited()) throw new Error(`${kind} exited: ${proc.output().slice(-1000)}`);
      return answers(proc.url)();
    });
  } catch (error) {
    await proc.stop();
    throw error;
  }
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
    try {
      await waitFor('redis-server', async () => {
        if (proc.exited()) throw new Error(`redis-server exited: ${proc.output().slice(-500)}`);
        return proc.output().includes('Ready to accept connections');
      });
    } catch (error) {
      await proc.stop();
      throw error;
    }
    return proc;
  };
  let current: Proc;
  try {
    current = await launch();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
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
