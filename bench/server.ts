/**
 * Server benchmarks: autocannon against the real server and, in the same rounds, against a bare
 * node:http server answering a body of the same size; and the heap cost of a stored session.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { hashSkey, newSkey } from '../server/session';
import { createMemoryStores } from '../server/stores/memory';
import { startBare, startServer, type Proc } from './harness';

export const CONNECTIONS = 50;

export interface Rate {
  rps: number;
  p99: number;
}

export interface ServerFigures {
  store: string;
  what: string;
  ours: Rate;
  bare: Rate;
  /** ours.rps / bare.rps */
  ratio: number;
  /** A Fastify with nothing registered answering the same body, where measured. */
  fastify?: Rate;
  /** Non-2xx answers and socket errors seen in our server's runs: should be 0. */
  failures: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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

async function cannon(options: autocannon.Options): Promise<{ rate: Rate; failures: number }> {
  const result = await autocannon({ connections: CONNECTIONS, ...options });
  return { rate: { rps: result.requests.average, p99: result.latency.p99 }, failures: result.non2xx + result.errors + result.timeouts };
}

interface Target {
  what: string;
  ours: (server: Proc) => autocannon.Options;
  bare: (bare: Proc) => autocannon.Options;
  /** Also measure the bare Fastify baseline. */
  withFastify?: boolean;
}

export async function serverThroughput(
  store: 'memory' | 'redis',
  extraEnv: Record<string, string>,
  { runs = 3, seconds = 3, withFastify = false } = {},
): Promise<ServerFigures[]> {
  const server = await startServer({ ...BENCH_SERVER_ENV, ...extraEnv });
  let bare: Proc | undefined;
  let fastify: Proc | undefined;
  try {
    const { skey, text: loginBody } = await login(server.url);
    const profile = await fetch(`${server.url}/api/profile`, { headers: { authorization: `Bearer ${skey}` } });
    const profileBody = await profile.text();
    if (profile.status !== 200) throw new Error(`GET /api/profile answered ${profile.status}`);
    bare = await startBare({ '/api/profile': profileBody, '/auth/login': loginBody });
    if (withFastify) fastify = await startBare({ '/api/profile': profileBody }, 'fastify');

    const targets: Target[] = [
      {
        what: `GET /api/profile (authenticated), ${CONNECTIONS} connections`,
        ours: (s) => ({ url: `${s.url}/api/profile`, headers: { authorization: `Bearer ${skey}` } }),
        bare: (b) => ({ url: `${b.url}/api/profile`, headers: { authorization: `Bearer ${skey}` } }),
        withFastify,
      },
      {
        what: `POST /auth/login (simulated WeChat), ${CONNECTIONS} connections`,
        ours: (s) => ({
          url: `${s.url}/auth/login`,
          requests: [
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              setupRequest: (request) => ({ ...request, path: '/auth/login', body: JSON.stringify({ code: freshCode() }) }),
            },
          ],
        }),
        bare: (b) => ({ url: `${b.url}/auth/login`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: freshCode() }) }),
      },
    ];

    const figures: ServerFigures[] = [];
    for (const target of targets) {
      // Warm-up, not counted: JIT, connection pools, the first users and sessions.
      await cannon({ ...target.bare(bare), duration: 1 });
      await cannon({ ...target.ours(server), duration: 1 });
      const frame = target.withFastify ? fastify : undefined;
      if (frame) await cannon({ ...target.bare(frame), duration: 1 });
      const ours: Rate[] = [];
      const base: Rate[] = [];
      const framework: Rate[] = [];
      let failures = 0;
      for (let i = 0; i < runs; i++) {
        // Alternating, so that a noisy moment on the machine hits every side.
        base.push((await cannon({ ...target.bare(bare), duration: seconds })).rate);
        if (frame) framework.push((await cannon({ ...target.bare(frame), duration: seconds })).rate);
        const run = await cannon({ ...target.ours(server), duration: seconds });
        ours.push(run.rate);
        failures += run.failures;
      }
      const mid = (rates: Rate[]) => ({ rps: median(rates.map((r) => r.rps)), p99: median(rates.map((r) => r.p99)) });
      const o = mid(ours);
      const b = mid(base);
      figures.push({ store, what: target.what, ours: o, bare: b, ratio: o.rps / b.rps, failures, ...(frame ? { fastify: mid(framework) } : {}) });
    }
    return figures;
  } finally {
    await fastify?.stop();
    await bare?.stop();
    await server.stop();
  }
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
  for (let i = 0; i < n; i++) {
    await stores.sessions.create({
      skeyHash: hashSkey(newSkey()),
      userId: userIds[i],
      sessionKey: randomBytes(16).toString('base64'),
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at + 30 * 24 * 3600 * 1000,
    });
  }
  collect();
  const after = process.memoryUsage().heapUsed;
  // Still reachable until here, so that the collection above could not free them.
  if ((await stores.sessions.deleteAll()) !== n) throw new Error('sessions went missing');
  return { sessions: n, bytesPerSession: (after - before) / n, gc: !!gc };
}
