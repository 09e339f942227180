/**
 * Client benchmarks on the stateful fake wx (test/support/fake-wx.ts): login behaviour of our auth
 * service beside wafer2-client-sdk in the same scenarios, and the CPU cost of our request().
 */
import { createAuth as createAuthFromSource } from '../miniprogram/auth';
import { BASE_URL, createFakeWx, type FakeOutcome, type FakeRequest, type FakeWx } from '../test/support/fake-wx';

/** Simulated network latency of every request to the developer server, ms. */
export const LATENCY_MS = 20;
export const CONCURRENT = 50;
const PROFILE = '/api/profile';
const WAFER_LOGIN = '/wafer/login';
/** wafer2-client-sdk's storage key (lib/session.js). */
const WAFER_SESSION_KEY = 'weapp_session_F2C224D4-2BCE-4C64-AF9F-A6D872000D1A';

export interface LoginFigures {
  client: string;
  scenario: string;
  wxLogin: number;
  loginRequests: number;
  wxRequests: number;
  peakInFlight: number;
  ok: number;
  failed: number;
}

const later = <T>(value: T, ms = LATENCY_MS) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

/**
 * One fake developer server that speaks both protocols: ours (POST /auth/login with a JSON code,
 * `Authorization: Bearer`, 401 when expired) and wafer2's (GET login with an X-WX-Code header,
 * `{ code: 0, data: { skey, userinfo } }`, X-WX-Skey header). Every answer takes LATENCY_MS.
 */
function latencyServer(): FakeWx {
  const fake = createFakeWx();
  let issued = 0;
  const issue = () => {
    const skey = `skey-${++issued}`;
    fake.issueSession(skey);
    return skey;
  };
  fake.route('/auth/login', () => later<FakeOutcome>({ statusCode: 200, data: { skey: issue(), expiresAt: Date.now() + 7200_000, user: { id: 'u1' } } }));
  fake.route(WAFER_LOGIN, (req) =>
    later<FakeOutcome>(
      req.header['X-WX-Code']
        ? { statusCode: 200, data: { code: 0, data: { skey: issue(), userinfo: { openId: 'o1' } } } }
        : { statusCode: 200, data: { code: -1, error: 'ERR_NO_CODE' } },
    ),
  );
  fake.route(PROFILE, (req: FakeRequest) => {
    const skey = req.skey || req.header['X-WX-Skey'];
    // wafer2's demo server answers an expired session with HTTP 200 and code -1; wafer2 also treats 401 as expired.
    return later<FakeOutcome>(skey && fake.isValid(skey) ? { statusCode: 200, data: { id: 'u1', nickname: 'n' } } : { statusCode: 401, data: { code: -1, error: 'ERR_SESSION_INVALID' } });
  });
  return fake;
}

type Scenario = 'cold' | 'expired' | 'warm';
const SCENARIOS: { id: Scenario; label: string; calls: number }[] = [
  { id: 'cold', label: `cold start, ${CONCURRENT} concurrent requests`, calls: CONCURRENT },
  { id: 'expired', label: `stored session expired on the server, ${CONCURRENT} concurrent`, calls: CONCURRENT },
  { id: 'warm', label: 'warm start (valid stored session), 1 request', calls: 1 },
];

/** Runs `calls` concurrent requests, each wrapped as a promise, and counts what reached the fake. */
async function measure(client: string, scenario: (typeof SCENARIOS)[number], fake: FakeWx, call: () => Promise<unknown>): Promise<LoginFigures> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const results = await Promise.race([
    Promise.allSettled(Array.from({ length: scenario.calls }, call)),
    new Promise<null>((resolve) => (timer = setTimeout(resolve, 30_000, null))),
  ]);
  clearTimeout(timer);
  if (!results) throw new Error(`${client} / ${scenario.id}: calls still pending after 30 s`);
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  return {
    client,
    scenario: scenario.label,
    wxLogin: fake.stats.logins,
    loginRequests: fake.stats.loginRequests + fake.sentTo(WAFER_LOGIN).length,
    wxRequests: fake.stats.requests,
    peakInFlight: fake.stats.peakInFlight,
    ok,
    failed: results.length - ok,
  };
}

function ours(scenario: (typeof SCENARIOS)[number]): Promise<LoginFigures> {
  const fake = latencyServer();
  if (scenario.id !== 'cold') {
    const skey = scenario.id === 'warm' ? 'skey-stored' : 'skey-forgotten';
    if (scenario.id === 'warm') fake.issueSession(skey);
    fake.storage.set('auth_session', JSON.stringify({ v: 1, skey, expiresAt: Date.now() + 3600_000, user: { id: 'u1' } }));
  }
  const auth = createAuthFromSource({ baseURL: BASE_URL, wx: fake.wx });
  return measure('ours', scenario, fake, () => auth.request({ url: PROFILE }));
}

interface Wafer {
  setLoginUrl(url: string): void;
  request(options: { url: string; login?: boolean; success(r: unknown): void; fail(e: unknown): void }): void;
}

let wafer: Wafer | undefined;
/** wafer2-client-sdk reads the global `wx`, and binds socket listeners when it is first required. */
function loadWafer(): Wafer {
  const g = globalThis as { wx?: unknown };
  const noop = () => {};
  if (!wafer) {
    g.wx = { onSocketOpen: noop, onSocketClose: noop, onSocketMessage: noop, onSocketError: noop };
    wafer = require('wafer2-client-sdk') as Wafer; // eslint-disable-line @typescript-eslint/no-require-imports -- needs the global first
    wafer.setLoginUrl(BASE_URL + WAFER_LOGIN);
  }
  return wafer;
}

async function wafer2(scenario: (typeof SCENARIOS)[number], login: boolean): Promise<LoginFigures> {
  const sdk = loadWafer();
  const fake = latencyServer();
  if (scenario.id !== 'cold') {
    const skey = scenario.id === 'warm' ? 'skey-stored' : 'skey-forgotten';
    if (scenario.id === 'warm') fake.issueSession(skey);
    fake.storage.set(WAFER_SESSION_KEY, JSON.stringify({ skey, userinfo: { openId: 'o1' } }));
  }
  const g = globalThis as { wx?: unknown };
  g.wx = fake.wx;
  try {
    return await measure(`wafer2-client-sdk (login: ${login})`, scenario, fake, () => new Promise((resolve, reject) => sdk.request({ url: BASE_URL + PROFILE, login, success: resolve, fail: reject })));
  } finally {
    delete g.wx;
  }
}

export async function loginBehaviour(): Promise<LoginFigures[]> {
  const rows: LoginFigures[] = [];
  for (const scenario of SCENARIOS) {
    rows.push(await ours(scenario));
    // `login: true` is how wafer2's README makes authenticated requests; `login: false` relies on its 401 retry.
    rows.push(await wafer2(scenario, true));
    rows.push(await wafer2(scenario, false));
  }
  return rows;
}

export interface OverheadFigures {
  requestsPerRun: number;
  runs: number;
  rawUs: number;
  oursUs: number;
  overheadUs: number;
  ratio: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU µs per request for `send`, batches of 10 (WeChat's concurrency limit), so nothing queues. */
async function cpuPerRequest(n: number, send: (fake: FakeWx) => () => Promise<unknown>): Promise<number> {
  const fake = createFakeWx();
  fake.issueSession('skey-warm');
  fake.storage.set('auth_session', JSON.stringify({ v: 1, skey: 'skey-warm', expiresAt: Date.now() + 3600_000, user: { id: 'u1' } }));
  const one = send(fake);
  await one();
  const start = process.cpuUsage();
  for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, one));
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

type CreateAuth = typeof createAuthFromSource;

/** `createAuth` defaults to the source; pass the shipped package's to measure what users run. */
export async function clientOverhead(createAuth: CreateAuth = createAuthFromSource, n = 5000, runs = 7): Promise<OverheadFigures> {
  const raw = (fake: FakeWx) => () =>
    new Promise((resolve, reject) =>
      fake.wx.request({ url: BASE_URL + PROFILE, method: 'GET', header: { Authorization: 'Bearer skey-warm' }, success: resolve, fail: reject }),
    );
  const ourRequest = (fake: FakeWx) => {
    const auth = createAuth({ baseURL: BASE_URL, wx: fake.wx });
    return () => auth.request({ url: PROFILE });
  };
  const rawRuns: number[] = [];
  const ourRuns: number[] = [];
  await cpuPerRequest(n, raw); // warm up the JIT for both paths
  await cpuPerRequest(n, ourRequest);
  for (let i = 0; i < runs; i++) {
    // Interleaved, so drift in the machine's load hits both sides alike.
    rawRuns.push(await cpuPerRequest(n, raw));
    ourRuns.push(await cpuPerRequest(n, ourRequest));
  }
  const rawUs = median(rawRuns);
  const oursUs = median(ourRuns);
  return { requestsPerRun: n, runs, rawUs, oursUs, overheadUs: oursUs - rawUs, ratio: oursUs / rawUs };
}
