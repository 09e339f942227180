/**
 * Server benchmarks: autocannon against the real server and, in the same rounds, against the
 * peers it is compared with (bare node:http, node:http with one Redis GET per request, bare
 * Fastify, the tutorial's Express server), each variant started in several processes, the rounds
 * alternating between variants; the server's CPU time per request beside its requests per second;
 * and the memory a stored session costs.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { createMemoryStores } from '../server/stores/memory';
import { AUTO_PIPELINING, createRedisStores } from '../server/stores/redis';
import { startPeer, startServer, type Proc, type ServerEntry } from './harness';
import { loginSession } from './records';
import { sqliteFile } from './sqlite-disk';

export const CONNECTIONS = 50;

/** The environment the benchmarked server runs with: per-request log lines off, login limiter out of the way. */
export const BENCH_SERVER_ENV = {
  LOG_LEVEL: 'warn',
  // Every connection comes from 127.0.0.1: the per-address login limiter would answer 429 at once,
  // and the per-client connection cap would refuse the load's connections along with the server's
  // own connections to its simulated WeChat.
  LOGIN_RATE_LIMIT: '100000',
  MAX_CONNECTIONS_PER_CLIENT: '0',
  LOGIN_RATE_WINDOW_SECONDS: '1',
};

export async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; text: string; body: T }> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...init.headers } });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as T };
}

/** One real login through the simulated WeChat: a minted code, then POST /auth/login. */
export async function login(base: string, user?: string): Promise<{ skey: string; text: string }> {
  const minted = await json<{ code: string }>(`${base}/dev/codes`, { method: 'POST', body: JSON.stringify(user ? { user } : {}) });
  const answer = await json<{ skey: string }>(`${base}/auth/login`, { method: 'POST', body: JSON.stringify({ code: minted.body.code }) });
  if (answer.status !== 200) throw new Error(`login failed: ${answer.status} ${answer.text}`);
  return { skey: answer.body.skey, text: answer.text };
}

/** A code in wx.login's format that the simulator has never seen: it logs in as its default user, once. */
const freshCode = () => randomBytes(16).toString('hex');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU time (user + system, all threads) a process has used so far, µs; null where /proc is not there to read. */
export function cpuMicros(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // Fields 14 and 15 (utime, stime), in clock ticks of 10 ms, after the command name in parentheses.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/** One measured run of one variant. */
export interface Sample {
  rps: number;
  p99: number;
  /** Server CPU µs per request in this run, null where not measurable. */
  cpuUs: number | null;
  /** Non-2xx answers, socket errors and timeouts. */
  failures: number;
}

/** What a variant is: a process (or several) and the load sent to it. */
interface Runner {
  id: VariantId;
  proc: Proc;
  options: autocannon.Options;
}

async function run(runner: Runner, seconds: number): Promise<Sample> {
  const before = cpuMicros(runner.proc.child.pid);
  const result = await autocannon({ connections: CONNECTIONS, ...runner.options, duration: seconds });
  const after = cpuMicros(runner.proc.child.pid);
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    cpuUs: before !== null && after !== null && result.requests.total > 0 ? (after - before) / result.requests.total : null,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

export type VariantId =
  | 'nodeHttp'
  | 'fastify'
  | 'memoryWarn'
  | 'memoryInfo'
  | 'tutorialExpress'
  | 'expressAdapter'
  | 'redisFloor'
  | 'redisWarn'
  | 'loginHttp'
  | 'loginInProcess'
  | 'loginRedis'
  | 'sqliteWarn'
  | 'nodeHttpSql'
  | 'postgresRedisWarn'
  | 'postgresRedisFloor'
  | 'loginSqlite'
  | 'loginPostgres'
  | 'loginMariadb';

export const VARIANTS: Record<VariantId, string> = {
  nodeHttp: 'bare node:http, the same body',
  fastify: 'bare Fastify (nothing registered), the same body',
  memoryWarn: 'ours, memory store, LOG_LEVEL=warn',
  memoryInfo: 'ours, memory store, LOG_LEVEL=info (a line per request)',
  tutorialExpress: "the tutorial's Express 5 server (md5 token in a Map)",
  expressAdapter: 'wx-login-server/express in an Express 5 app, memory store',
  redisFloor: 'bare node:http + one Redis GET per request',
  redisWarn: 'ours, Redis store, LOG_LEVEL=warn',
  loginHttp: 'ours, memory store, simulated WeChat over HTTP',
  loginInProcess: 'ours, memory store, simulated WeChat in-process',
  loginRedis: 'ours, Redis store, simulated WeChat over HTTP',
  sqliteWarn: 'ours, embedded SQLite (the default), LOG_LEVEL=warn',
  nodeHttpSql: 'bare node:http, the same body',
  postgresRedisWarn: 'ours, users in PostgreSQL, sessions in Redis, LOG_LEVEL=warn',
  postgresRedisFloor: 'bare node:http + one Redis GET + one primary-key SELECT (pg) per request',
  loginSqlite: 'ours, embedded SQLite (the default), simulated WeChat over HTTP',
  loginPostgres: 'ours, PostgreSQL, simulated WeChat over HTTP',
  loginMariadb: 'ours, MariaDB, simulated WeChat over HTTP',
};

/** A set of variants measured against each other: started together, their rounds alternating. */
export interface Group {
  name: string;
  /** What every variant of the group is sent. */
  request: string;
  /** Starts one process of each variant, ready for load. */
  start(): Promise<Runner[]>;
}

const authenticated = (url: string, skey: string): autocannon.Options => ({ url: `${url}/api/profile`, headers: { authorization: `Bearer ${skey}` } });

const logins = (url: string): autocannon.Options => ({
  url: `${url}/auth/login`,
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => ({ ...request, path: '/auth/login', body: JSON.stringify({ code: freshCode() }) }),
    },
  ],
});

/** Ours, logged in once: its skey, and the body GET /api/profile answers (the peers answer the same). */
async function ours(env: Record<string, string>, entry: ServerEntry = 'server'): Promise<{ proc: Proc; skey: string; body: string }> {
  // A line per request would otherwise be collected by this process, loading the machine it measures.
  const proc = await startServer({ ...BENCH_SERVER_ENV, ...env }, { entry, stdout: env.LOG_LEVEL === 'info' ? 'ignore' : 'pipe' });
  try {
    const { skey } = await login(proc.url);
    const profile = await fetch(`${proc.url}/api/profile`, { headers: { authorization: `Bearer ${skey}` } });
    const body = await profile.text();
    if (profile.status !== 200) throw new Error(`GET /api/profile answered ${profile.status}`);
    return { proc, skey, body };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/** Ours on a fresh embedded database (its own folder, removed when the server stops). */
async function oursOnSqlite(env: Record<string, string> = {}): Promise<{ proc: Proc; skey: string; body: string }> {
  const place = sqliteFile();
  try {
    const started = await ours({ ...env, DATABASE_URL: place.url, DATABASE_MIGRATE: 'auto' });
    const stop = started.proc.stop;
    started.proc.stop = async () => {
      await stop();
      place.dispose();
    };
    return started;
  } catch (error) {
    place.dispose();
    throw error;
  }
}

/** Starts processes one after another (each start sees those before it), stopping those already started if one fails. */
async function all(starts: ((started: Runner[]) => Promise<Runner[]>)[]): Promise<Runner[]> {
  const runners: Runner[] = [];
  try {
    for (const start of starts) runners.push(...(await start(runners)));
    return runners;
  } catch (error) {
    await stopAll(runners);
    throw error;
  }
}

async function stopAll(runners: Runner[]): Promise<void> {
  for (const proc of new Set(runners.map((r) => r.proc))) await proc.stop();
}

/** The authenticated read on the memory store, beside node:http, bare Fastify and the tutorial's server. */
export const profileGroup: Group = {
  name: 'memory',
  request: `GET /api/profile (authenticated), ${CONNECTIONS} connections`,
  async start() {
    const warn = await ours({});
    // node:http also plays WeChat for the tutorial's login: a fixed jscode2session answer.
    const jscode2session = JSON.stringify({ openid: `o${randomBytes(20).toString('base64url')}`, session_key: randomBytes(16).toString('base64') });
    return all([
      async () => [{ id: 'memoryWarn', proc: warn.proc, options: authenticated(warn.proc.url, warn.skey) }],
      async () => {
        const info = await ours({ LOG_LEVEL: 'info' });
        return [{ id: 'memoryInfo', proc: info.proc, options: authenticated(info.proc.url, info.skey) }];
      },
      async () => {
        const proc = await startPeer('node:http', { BODIES: JSON.stringify({ '/api/profile': warn.body, '/sns/jscode2session': jscode2session }) });
        return [{ id: 'nodeHttp', proc, options: authenticated(proc.url, warn.skey) }];
      },
      async () => {
        const proc = await startPeer('fastify', { BODIES: JSON.stringify({ '/api/profile': warn.body }) });
        return [{ id: 'fastify', proc, options: authenticated(proc.url, warn.skey) }];
      },
      async (started) => {
        const proc = await startPeer('tutorial-express', { WX_API_BASE: started.find((r) => r.id === 'nodeHttp')!.proc.url });
        try {
          const answer = await json<{ token: string }>(`${proc.url}/auth/login`, { method: 'POST', body: JSON.stringify({ code: freshCode() }) });
          if (answer.status !== 200) throw new Error(`the tutorial's login failed: ${answer.status} ${answer.text}`);
          return [{ id: 'tutorialExpress', proc, options: { url: `${proc.url}/api/profile`, headers: { token: answer.body.token } } }];
        } catch (error) {
          await proc.stop();
          throw error;
        }
      },
      async () => {
        const proc = await startPeer('adapter-express', {});
        try {
          const { skey } = await login(proc.url);
          return [{ id: 'expressAdapter', proc, options: authenticated(proc.url, skey) }];
        } catch (error) {
          await proc.stop();
          throw error;
        }
      },
    ]);
  },
};

/** The authenticated read on the Redis store, beside node:http doing one Redis GET per request. */
export const redisGroup = (redisUrl: string): Group => ({
  name: 'redis',
  request: `GET /api/profile (authenticated), ${CONNECTIONS} connections`,
  async start() {
    const redis = await ours({ REDIS_URL: redisUrl });
    return all([
      async () => [{ id: 'redisWarn', proc: redis.proc, options: authenticated(redis.proc.url, redis.skey) }],
      async () => {
        const proc = await startPeer('node:http', { BODIES: JSON.stringify({ '/api/profile': redis.body }), REDIS_URL: redisUrl, REDIS_AUTO_PIPELINING: AUTO_PIPELINING ? '1' : '0' });
        return [{ id: 'redisFloor', proc, options: authenticated(proc.url, redis.skey) }];
      },
    ]);
  },
});

/** DATABASE_URLs of the private database servers the run started (null where not installed). */
export interface SqlServers {
  postgres: string | null;
  mariadb: string | null;
}

/**
 * The authenticated read on the system of record: the embedded default (SQLite, sessions in it
 * too) beside bare node:http, and users in PostgreSQL with sessions in Redis beside node:http
 * doing the same Redis GET and one primary-key SELECT on the same PostgreSQL.
 */
export const sqlGroup = (redisUrl: string | null, postgresUrl: string | null): Group => ({
  name: 'sql',
  request: `GET /api/profile (authenticated), ${CONNECTIONS} connections`,
  start: () =>
    all([
      async () => {
        const sqlite = await oursOnSqlite();
        return [{ id: 'sqliteWarn', proc: sqlite.proc, options: authenticated(sqlite.proc.url, sqlite.skey) }];
      },
      async (started) => {
        const body = await fetch(`${started[0].proc.url}/api/profile`, { headers: started[0].options.headers }).then((r) => r.text());
        const proc = await startPeer('node:http', { BODIES: JSON.stringify({ '/api/profile': body }) });
        return [{ id: 'nodeHttpSql', proc, options: { ...started[0].options, url: `${proc.url}/api/profile` } }];
      },
      ...(redisUrl && postgresUrl
        ? [
            async (): Promise<Runner[]> => {
              const pg = await ours({ REDIS_URL: redisUrl, DATABASE_URL: postgresUrl, DATABASE_MIGRATE: 'auto' });
              const floor = await startPeer('node:http', {
                BODIES: JSON.stringify({ '/api/profile': pg.body }),
                REDIS_URL: redisUrl,
                REDIS_AUTO_PIPELINING: AUTO_PIPELINING ? '1' : '0',
                DATABASE_URL: postgresUrl,
              }).catch(async (error: unknown) => {
                await pg.proc.stop();
                throw error;
              });
              return [
                { id: 'postgresRedisWarn', proc: pg.proc, options: authenticated(pg.proc.url, pg.skey) },
                { id: 'postgresRedisFloor', proc: floor, options: authenticated(floor.url, pg.skey) },
              ];
            },
          ]
        : []),
    ]),
});

/** Logins, each with a fresh code: the simulated WeChat over HTTP (as `npm start` runs) and in-process. */
export const loginGroup = (redisUrl: string | null, databases: SqlServers): Group => ({
  name: 'logins',
  request: `POST /auth/login (a fresh code each), ${CONNECTIONS} connections`,
  start: () =>
    all([
      async () => {
        const { proc } = await ours({});
        return [{ id: 'loginHttp', proc, options: logins(proc.url) }];
      },
      async () => {
        const { proc } = await ours({}, 'in-process');
        return [{ id: 'loginInProcess', proc, options: logins(proc.url) }];
      },
      ...(redisUrl
        ? [
            async (): Promise<Runner[]> => {
              const { proc } = await ours({ REDIS_URL: redisUrl });
              return [{ id: 'loginRedis', proc, options: logins(proc.url) }];
            },
          ]
        : []),
      async () => {
        const { proc } = await oursOnSqlite();
        return [{ id: 'loginSqlite', proc, options: logins(proc.url) }];
      },
      ...(databases.postgres
        ? [
            async (): Promise<Runner[]> => {
              const { proc } = await ours({ DATABASE_URL: databases.postgres!, DATABASE_MIGRATE: 'auto' });
              return [{ id: 'loginPostgres', proc, options: logins(proc.url) }];
            },
          ]
        : []),
      ...(databases.mariadb
        ? [
            async (): Promise<Runner[]> => {
              const { proc } = await ours({ DATABASE_URL: databases.mariadb!, DATABASE_MIGRATE: 'auto' });
              return [{ id: 'loginMariadb', proc, options: logins(proc.url) }];
            },
          ]
        : []),
    ]),
});

export interface Measured {
  group: string;
  request: string;
  /** Every sample of every variant, in the order taken. */
  samples: Partial<Record<VariantId, Sample[]>>;
}

/**
 * Measures a group: `processes` times, a fresh process of each variant; each warmed up, then
 * `rounds` rounds of `seconds` each, every round running every variant once, the order rotating
 * from round to round, so that a noisy moment on the machine hits every variant alike.
 */
export async function measure(group: Group, { processes = 2, rounds = 3, seconds = 3, warmupSeconds = 1 } = {}): Promise<Measured> {
  const samples: Partial<Record<VariantId, Sample[]>> = {};
  for (let p = 0; p < processes; p++) {
    const runners = await group.start();
    try {
      // Warm-up, not counted: JIT, connection pools, the first users and sessions.
      for (const runner of runners) await run(runner, warmupSeconds);
      for (let round = 0; round < rounds; round++) {
        const shift = (p * rounds + round) % runners.length;
        for (const runner of [...runners.slice(shift), ...runners.slice(0, shift)]) (samples[runner.id] ??= []).push(await run(runner, seconds));
      }
    } finally {
      await stopAll(runners);
    }
  }
  return { group: group.name, request: group.request, samples };
}

/** A variant's medians. */
export interface Summary {
  rps: number;
  p99: number;
  cpuUs: number | null;
  failures: number;
  runs: number;
}

export function summarize(samples: Sample[]): Summary {
  const cpu = samples.map((s) => s.cpuUs).filter((us): us is number => us !== null);
  return {
    rps: median(samples.map((s) => s.rps)),
    p99: median(samples.map((s) => s.p99)),
    cpuUs: cpu.length > 0 ? median(cpu) : null,
    failures: samples.reduce((n, s) => n + s.failures, 0),
    runs: samples.length,
  };
}

/** A ratio of two variants' req/s: the median and spread of the ratios of runs taken side by side (same process pass, same round). */
export interface Ratio {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function ratio(of: Sample[], to: Sample[]): Ratio {
  const pairs = of.slice(0, Math.min(of.length, to.length)).map((sample, i) => sample.rps / to[i].rps);
  return { median: median(pairs), min: Math.min(...pairs), max: Math.max(...pairs), runs: pairs.length };
}

export interface MemoryFigures {
  sessions: number;
  bytesPerSession: number;
  gc: boolean;
}

/**
 * Heap growth per session in the memory store, sessions as a login creates them. The user ids
 * are made beforehand: they belong to the users, who exist without sessions.
 */
export async function memoryPerSession(n = 100_000): Promise<MemoryFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const collect = () => {
    if (gc) for (let i = 0; i < 3; i++) gc();
  };
  const stores = createMemoryStores({ now: Date.now, sessionIdleMs: 7 * 24 * 3600 * 1000 });
  const userIds = Array.from({ length: n }, () => randomUUID());
  const at = Date.now();
  collect();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) await stores.sessions.create(loginSession(userIds[i], at));
  collect();
  const after = process.memoryUsage().heapUsed;
  // Still reachable until here, so that the collection above could not free them.
  if ((await stores.sessions.deleteAll()) !== n) throw new Error('sessions went missing');
  return { sessions: n, bytesPerSession: (after - before) / n, gc: !!gc };
}

export interface RedisMemoryFigures {
  sessions: number;
  /** MEMORY USAGE of one session's key (median over the sessions sampled): the figure to compare. */
  memoryUsage: number;
  /** Growth of Redis's used_memory per session, the key space's own bookkeeping included. */
  usedMemoryPerSession: number;
}

/** Bytes per session in Redis, sessions written by the Redis store as a login writes them. */
export async function redisMemoryPerSession(url: string, n = 10_000): Promise<RedisMemoryFigures> {
  const prefix = `bench-memory:${process.pid}:`;
  // Sessions only: the users they belong to are the database's, not Redis's.
  const stores = await createRedisStores({ url, prefix, now: Date.now, sessionIdleMs: 7 * 24 * 3600 * 1000, sealKey: randomBytes(32), userDatabase: createMemoryStores({ now: Date.now, sessionIdleMs: 7 * 24 * 3600 * 1000 }) });
  const client = new Redis(url);
  try {
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
    const at = Date.now();
    const hashes: string[] = [];
    const before = await usedMemory();
    for (let i = 0; i < n; i++) {
      const session = loginSession(randomUUID(), at);
      hashes.push(session.skeyHash);
      await stores.sessions.create(session);
    }
    const after = await usedMemory();
    const usage: number[] = [];
    for (const hash of hashes.slice(0, 200)) usage.push(Number(await client.call('MEMORY', 'USAGE', `${prefix}session:${hash}`, 'SAMPLES', '0')));
    if ((await stores.sessions.deleteAll()) !== n) throw new Error('sessions went missing');
    return { sessions: n, memoryUsage: median(usage), usedMemoryPerSession: (after - before) / n };
  } finally {
    await client.quit();
    await stores.close();
  }
}
