import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../tools/free-port';
import os from 'node:os';
import path from 'node:path';
import { ApiError } from '../../server/errors';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { loadConfig, type Config } from '../../server/config';
import { createMemoryStores } from '../../server/stores/memory';
import { createRedisStores, type RedisStoreOptions } from '../../server/stores/redis';
import type { Stores, UserDatabase } from '../../server/stores/types';
import type { Transport } from '../../server/wechat/client';
import type { TransportRequest } from '../../server/wechat/http';
import type { LoginResponse } from '../../typings/api';

export interface FakeClock {
  now: () => number;
  advance(ms: number): void;
}

export function fakeClock(start = Date.UTC(2026, 0, 1)): FakeClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/**
 * The default configuration in simulated mode (or real mode, with a PUBLIC_URL, when `env` has
 * credentials) with a private upload folder, plus overrides.
 */
export function testConfig(overrides: Partial<Config> = {}, env: Record<string, string> = {}): Config {
  const uploadDir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-test-'));
  // Real mode needs a database named; the tests give their stores to buildApp, or keep them in memory.
  const mode = env.WX_APPID === undefined ? { WX_MODE: 'simulated' } : { WX_MODE: 'real', PUBLIC_URL: 'https://api.example.com', DATABASE_URL: 'memory:' };
  return { ...loadConfig({ ...mode, UPLOAD_DIR: uploadDir, ...env }), ...overrides };
}

/**
 * Collects log lines, to check what reaches them. The server hands its lines over at the end of
 * each turn of the event loop (see TurnBatch in server/logging.ts): `written()` waits for that.
 */
export function logSink(): { stream: Writable; text(): string; written(): Promise<void>; warnings(): Promise<LogLine[]> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const text = () => chunks.join('');
  const written = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    stream,
    text,
    written,
    /** The lines written at warn, parsed, once the server has handed them over. */
    warnings: async () => {
      await written();
      return text()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as LogLine)
        .filter((line) => line.level === 40);
    },
  };
}

/** A log line as pino writes it: level, message, and the fields the server logged. */
export type LogLine = { level: number; msg: string } & Record<string, unknown>;

export interface TestApp {
  app: FastifyInstance;
  clock: FakeClock;
  config: Config;
  stores: Stores;
}

/**
 * An app for inject(): memory stores on a fake clock, and the WeChat client's HTTP calls
 * injected into the same app's simulator instead of going over a socket.
 */
export async function testApp(options: { config?: Partial<Config>; stores?: Stores; clock?: FakeClock; log?: Writable; transport?: Transport } = {}): Promise<TestApp> {
  const clock = options.clock ?? fakeClock();
  const config = testConfig(options.config);
  const stores = options.stores ?? createMemoryStores({ now: clock.now, sessionIdleMs: config.sessionIdleMs, maxSessionsPerUser: config.maxSessionsPerUser });
  // Called only after `app` below exists.
  const injected: Transport = (url, _deadline, request) => injectInto(app, url, request);
  const app = await buildApp({ config, now: clock.now, stores, log: options.log ?? false, wechatTransport: options.transport ?? injected });
  return { app, clock, config, stores };
}

/**
 * Redis stores as the server composes them: sessions, limits and credentials in Redis, users in
 * `userDatabase`; by default a fresh in-memory one. Instances meant to share users (two servers
 * behind one load balancer) must be given one userDatabase.
 */
export function redisStores(options: Omit<RedisStoreOptions, 'userDatabase'> & { userDatabase?: UserDatabase }): Promise<Stores> {
  return createRedisStores({ ...options, userDatabase: options.userDatabase ?? createMemoryStores({ now: options.now, sessionIdleMs: options.sessionIdleMs }) });
}

/** A WeChat API call made by `inject()` into `app`'s simulator instead of over a socket. */
export async function injectInto(app: FastifyInstance, url: string, request?: TransportRequest): Promise<{ status: number; body: string }> {
  const { pathname, search } = new URL(url);
  const response = request
    ? await app.inject({ method: 'POST', url: pathname + search, headers: { 'content-type': 'application/json' }, payload: request.body })
    : await app.inject({ method: 'GET', url: pathname + search });
  return { status: response.statusCode, body: response.body };
}

export async function mintCode(app: FastifyInstance, user?: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/dev/codes', payload: user === undefined ? {} : { user } });
  return response.json<{ code: string }>().code;
}

export async function login(app: FastifyInstance, user?: string): Promise<LoginResponse> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { code: await mintCode(app, user) } });
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.statusCode} ${response.body}`);
  return response.json<LoginResponse>();
}

export const bearer = (skey: string) => ({ authorization: `Bearer ${skey}` });

/**
 * Waits until `condition` holds, looking again once timers and I/O have had a turn; rejects with
 * "timed out waiting for <what>" after `ms`. A bound on a wait that should end soon, not a speed
 * target: generous, so that a loaded machine does not trip it. Real timers only.
 */
export async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let looks = 1; !(await condition()); looks++) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${ms} ms)`);
    // The first looks on the next turns (what is awaited is usually a callback away), then every
    // 10 ms, so as not to spin a CPU that the code under test needs.
    await new Promise((resolve) => (looks < 100 ? setImmediate(resolve) : setTimeout(resolve, 10)));
  }
}

export interface RedisServer {
  url: string;
  /** The process id, for signals. */
  pid: number;
  /** SIGSTOP: the server keeps its connections but answers nothing, as a hung Redis does. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  stop(): Promise<void>;
}

export const redisAvailable = spawnSync('redis-server', ['--version']).status === 0;
/** Set by .ci/run: there, a missing redis-server is a failure, not a skip. */
export const redisRequired = process.env.REQUIRE_REDIS === '1';

/** A private redis-server on a free port, without persistence, in a temporary folder; `args` add to its command line. */
export async function startRedis(args: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output.slice(-500)}`)));
    child.once('error', reject);
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    stop: () =>
      new Promise((resolve) => {
        const removed = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        // Already gone (crashed, or stopped before): 'exit' has fired and will not again.
        if (child.exitCode !== null || child.signalCode !== null) return removed();
        child.once('exit', removed);
        child.kill('SIGTERM');
        // A paused (SIGSTOP) server acts on SIGTERM only once it runs again.
        child.kill('SIGCONT');
      }),
  };
}

/**
 * `describe` for suites that need redis-server: skipped with a printed reason when it is missing,
 * unless REQUIRE_REDIS=1, where the suite fails instead.
 */
export function describeWithRedis(name: string, suite: (redis: () => RedisServer) => void): void {
  if (!redisAvailable && !redisRequired) {
    console.log(`Skipping "${name}": redis-server is not installed (apt-get install redis-server; CI sets REQUIRE_REDIS=1).`);
    describe.skip(name, () => suite(() => ({ url: '', pid: 0, pause: () => undefined, resume: () => undefined, stop: async () => undefined })));
    return;
  }
  describe(name, () => {
    let server: RedisServer | undefined;
    beforeAll(async () => {
      if (!redisAvailable) throw new Error('REQUIRE_REDIS=1 but redis-server is not installed');
      server = await startRedis();
    });
    afterAll(async () => {
      await server?.stop();
    });
    // Nested, so that the suite's own afterAll hooks (closing clients) run before the server stops.
    describe('with redis-server', () =>
      suite(() => {
        if (!server) throw new Error('redis-server did not start');
        return server;
      }),
    );
  });
}

/** The ApiError a call (or a promise) fails with; any other outcome fails the test. */
export async function apiFailure(call: (() => unknown) | Promise<unknown>): Promise<ApiError> {
  try {
    await (typeof call === 'function' ? call() : call);
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('the call did not fail');
}
