/**
 * Bad input fuzzing: fast-check throws generated methods, paths, query strings, headers and
 * bodies at every route the app registers (read from the app itself, so a new route is fuzzed
 * without touching this file). No answer may be a 5xx, every error must be the one envelope, and
 * no request that was refused may have created a session.
 */
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import type { ApiErrorCode } from '../../typings/api';
import { createMemoryStores } from '../../server/stores/memory';
import type { Stores } from '../../server/stores/types';
import { bearer, login, logSink, testApp, type TestApp } from '../server/helpers';

/** Every code of the contract (a Record: a new code is a compile error here until it is listed). */
const ERROR_CODES = Object.keys({
  BAD_REQUEST: true, INVALID_CODE: true, SESSION_EXPIRED: true, INVALID_USER_DATA: true, USER_BLOCKED: true, NOT_FOUND: true,
  METHOD_NOT_ALLOWED: true, PAYLOAD_TOO_LARGE: true, UNSUPPORTED_MEDIA_TYPE: true, URI_TOO_LONG: true, HEADERS_TOO_LARGE: true,
  RATE_LIMITED: true, INTERNAL: true, WECHAT_UNAVAILABLE: true, WECHAT_TIMEOUT: true, STORE_UNAVAILABLE: true,
  INVALID_PHONE_CODE: true, PHONE_REQUIRED: true, PHONE_IN_USE: true, INVALID_SIGNATURE: true, INVALID_CREDENTIALS: true,
  INVALID_BIND_TICKET: true, ACCOUNT_ALREADY_BOUND: true, FORBIDDEN: true,
} satisfies Record<ApiErrorCode, true>);
/** Sized so that the whole file runs in a few seconds; raise FUZZ_RUNS for a longer hunt. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);

interface Route {
  path: string;
  methods: string[];
}

/** The app's own route table, as printRoutes() draws it: `├── /api/profile (GET, HEAD, PUT)`. */
function routesOf(app: FastifyInstance): Route[] {
  return [...app.printRoutes({ commonPrefix: false }).matchAll(/(\/\S*) \(([A-Z, ]+)\)/g)].map((m) => ({ path: m[1], methods: m[2].split(', ') }));
}

let t: TestApp;
let log: ReturnType<typeof logSink>;
let routes: Route[];
let sessionsCreated = 0;
let skey = '';

beforeAll(async () => {
  const config = { loginRateLimit: 1_000_000 };
  const clockStart = Date.UTC(2026, 0, 1);
  const memory = createMemoryStores({ now: () => clockStart, sessionIdleMs: 7 * 24 * 3600 * 1000 });
  // Counts every session the app creates: the fuzzer's own logins are subtracted below.
  const stores: Stores = { ...memory, sessions: { ...memory.sessions, create: (s) => (sessionsCreated++, memory.sessions.create(s)) } };
  log = logSink();
  t = await testApp({ config, stores, log: log.stream });
  await t.app.ready();
  routes = routesOf(t.app);
});
afterAll(() => t.app.close());

/** A valid skey, so that bodies get past authentication; made again when a fuzzed logout or expire removed it. */
async function validSkey(): Promise<string> {
  const check = skey ? await t.app.inject({ method: 'GET', url: '/auth/session', headers: bearer(skey) }) : null;
  if (!check || check.statusCode !== 200) skey = (await login(t.app)).skey;
  return skey;
}

const ascii = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const anyText = fc.oneof(ascii, fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }));

/** Bodies: JSON of any shape, objects shaped like the real ones with wrong values, text and bytes. */
const fieldNames = fc.constantFrom('code', 'nickname', 'avatarUrl', 'rawData', 'signature', 'encryptedData', 'iv', 'user', 'skey', 'errcode', 'times', 'api', 'unionid', 'phoneNumber', 'grant_type', 'appid', 'secret', 'force_refresh', '__proto__', 'constructor');
const body = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => ({ kind: 'json' as const, payload: JSON.stringify(v) })),
  fc.dictionary(fieldNames, fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText, fc.string({ minLength: 100, maxLength: 5000 })), { maxKeys: 5 }).map((v) => ({
    kind: 'json' as const,
    payload: JSON.stringify(v),
  })),
  anyText.map((s) => ({ kind: 'text' as const, payload: s })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ kind: 'bytes' as const, payload: Buffer.from(b) })),
  fc.constant({ kind: 'none' as const, payload: undefined }),
  // Larger than the body limit (16 KB by default): must be 413, not a crash. Made in the test, so that a counterexample prints short.
  fc.constant({ kind: 'oversized' as const, payload: undefined }),
);

const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=xyz', 'multipart/form-data', 'application/octet-stream', ''),
  ascii,
);
const authorization = fc.oneof(
  fc.constant('valid'),
  fc.constantFrom('', 'Bearer', 'Bearer ', 'bearer x', 'Basic dXNlcjpwYXNz'),
  fc.string({ unit: fc.constantFrom(...'abcXYZ019-_+/='.split('')), minLength: 40, maxLength: 46 }).map((s) => `Bearer ${s}`),
  ascii,
);
const extraHeaders = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), ascii, { maxKeys: 4 });
const query = fc.oneof(
  fc.constant(''),
  fc.dictionary(ascii, anyText, { maxKeys: 4 }).map((q) => `?${new URLSearchParams(q as Record<string, string>).toString()}`),
  ascii.map((s) => `?${encodeURI(s)}`),
);

interface Case {
  route: number;
  method: string;
  param: string;
  query: string;
  contentType: string | null;
  authorization: string | null;
  headers: Record<string, string>;
  body: { kind: 'json' | 'text' | 'bytes' | 'none' | 'oversized'; payload: string | Buffer | undefined };
}

const request = fc.record<Case>({
  route: fc.nat(),
  // Mostly the route's own methods, sometimes any other.
  method: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS') }),
  param: fc.oneof(ascii, fc.stringMatching(/^[0-9a-f]{32}\.(png|jpg|gif|webp)$/), fc.constant('..%2F..%2Fetc%2Fpasswd')),
  query,
  contentType: fc.option(contentType),
  authorization: fc.option(authorization),
  headers: extraHeaders,
  body,
});

function isEnvelope(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.keys(value).join() !== 'error') return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    Object.keys(error).sort().join() === 'code,message' &&
    ERROR_CODES.includes((error as { code: ApiErrorCode }).code) &&
    typeof (error as { message: unknown }).message === 'string'
  );
}


describe('bad input fuzzing', () => {
  test('the route table read from the app covers the auth, API and dev routes', () => {
    const paths = routes.map((r) => r.path);
    expect(paths).toEqual(expect.arrayContaining(['/auth/login', '/auth/logout', '/auth/session', '/auth/user-info', '/api/profile', '/api/avatar', '/api/orders', '/dev/codes']));
  });

  test(`${RUNS} generated requests across every route: no 5xx, every error in the envelope, no session from a refused request`, async () => {
    let faultsQueued = false;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (c) => {
        const route = routes[c.route % routes.length];
        const method = c.method || route.methods[c.route % route.methods.length];
        const url = route.path.replace(/:[a-z]+/g, encodeURIComponent(c.param)) + c.query;
        const headers: Record<string, string> = { ...c.headers };
        if (c.contentType !== null) headers['content-type'] = c.contentType;
        if (c.authorization !== null) headers.authorization = c.authorization === 'valid' ? `Bearer ${await validSkey()}` : c.authorization;
        // A fault queued in the simulator through /dev/faults would delay later logins: keep delays tiny.
        let payload = c.body.kind === 'oversized' ? JSON.stringify({ code: 'x'.repeat(20_000) }) : c.body.payload;
        if (route.path === '/dev/faults' && typeof payload === 'string' && /delayMs/.test(payload)) payload = '{}';

        const before = sessionsCreated;
        const response = await t.app.inject({ method: method as 'GET', url, headers, ...(payload === undefined || method === 'GET' || method === 'HEAD' ? {} : { payload }) });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        if (route.path === '/dev/faults' && response.statusCode === 200) faultsQueued = true;

        const wechatFault = faultsQueued && [502, 503, 504].includes(response.statusCode) && /WECHAT_/.test(response.body);
        if (response.statusCode >= 500 && !wechatFault) throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
        if (response.statusCode >= 400) {
          expect(sessionsCreated).toBe(before);
          if (method !== 'HEAD') {
            expect(response.headers['content-type']).toMatch(/^application\/json/);
            expect(isEnvelope(JSON.parse(response.body))).toBe(true);
          }
        }
      }),
      { numRuns: RUNS },
    );
    // The server still serves a real user afterwards, and the runs reached past validation.
    const after = await t.app.inject({ method: 'GET', url: '/api/profile', headers: bearer(await validSkey()) });
    expect(after.statusCode).toBe(200);
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
    expect([...statuses.keys()].filter((s) => s >= 400).length).toBeGreaterThanOrEqual(4);
  }, 60_000);

  describe('a broken multipart upload', () => {
    const cases: [string, string, string][] = [
      ['no boundary in the content type', 'multipart/form-data', ''],
      ['a body cut short', 'multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\nabc'],
    ];
    test.each(cases)('POST /api/avatar with %s answers 400 in the envelope', async (_what, contentType, payload) => {
      const response = await t.app.inject({ method: 'POST', url: '/api/avatar', headers: { ...bearer(await validSkey()), 'content-type': contentType }, payload });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: { code: 'BAD_REQUEST', message: expect.any(String) } });
    });
  });
});
