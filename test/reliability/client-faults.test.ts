/**
 * The client fault matrix: the one place that asserts "every fault ends in a typed error or a
 * transparent recovery". Each row injects one fault under a burst of concurrent callers, then
 * checks the outcome of every caller, that every promise settled, the call counts that prove
 * nothing looped, and that the client works again once the fault is lifted.
 */
import { isAuthError, type AuthErrorCode, type AuthOptions, type HttpMethod } from '../../miniprogram/auth';
import { makeAuth } from '../auth/helpers';
import { createFakeWx, type FakeOutcome, type FakeWx } from '../support/fake-wx';

/** Concurrent callers per row: faults must be handled once, not once per caller. */
const CALLERS = 5;
const DATA = '/api/data';
/** No fault may leave a call pending longer than this (the longest row times out at 50 ms). */
const SETTLE_WITHIN_MS = 2000;

interface Counts {
  /** wx.login calls. */
  logins: number;
  /** POSTs to the login endpoint. */
  loginRequests: number;
  /** Requests to the data endpoint, retries included. */
  dataRequests: number;
}

interface Row {
  name: string;
  method?: HttpMethod;
  options?: Partial<AuthOptions>;
  /** Injects the fault; the returned function lifts it. */
  inject(fake: FakeWx): () => void;
  /** A typed error code for every caller, or 'recovered' when every caller got its answer. */
  outcome: AuthErrorCode | 'recovered';
  counts: Counts;
  /** Tasks the client had to abort (timeouts). */
  aborted?: number;
  /** wx.login calls the first call after the fault is lifted costs: 1 only when no session survived. */
  loginsAfterLift?: number;
}

/** Answers the data endpoint with `fault` while it is set, with 200 otherwise. */
function faultyData(fake: FakeWx, fault: (attempt: number) => FakeOutcome | null) {
  let on = true;
  let attempt = 0;
  fake.route(DATA, (req) => {
    const injected = on ? fault(++attempt) : null;
    if (injected) return injected;
    return req.skey && fake.isValid(req.skey) ? { statusCode: 200, data: { ok: true } } : { statusCode: 401, data: {} };
  });
  return () => {
    on = false;
  };
}

const rows: Row[] = [
  {
    name: 'a network failure on a GET is retried twice per caller, then ends in NETWORK',
    inject: (fake) => faultyData(fake, () => ({ fail: 'request:fail net::ERR_INTERNET_DISCONNECTED' })),
    outcome: 'NETWORK',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS * 3 },
  },
  {
    name: 'a network failure on a POST is never replayed and ends in NETWORK',
    method: 'POST',
    inject: (fake) => faultyData(fake, () => ({ fail: 'request:fail net::ERR_CONNECTION_RESET' })),
    outcome: 'NETWORK',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
  },
  {
    name: 'a server that never answers ends in TIMEOUT, each task aborted once and not retried',
    options: { timeout: 50 },
    inject: (fake) => faultyData(fake, () => 'hang'),
    outcome: 'TIMEOUT',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
    aborted: CALLERS,
  },
  {
    name: 'a phone that words its timeout "request:fail socket time out :3000" ends in TIMEOUT, each GET sent once',
    inject: (fake) => faultyData(fake, () => ({ fail: 'request:fail socket time out :3000' })),
    outcome: 'TIMEOUT',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
  },
  {
    name: 'a 503 ends in HTTP after one attempt per caller',
    inject: (fake) => faultyData(fake, () => ({ statusCode: 503, data: { error: { code: 'STORE_UNAVAILABLE', message: 'down' } } })),
    outcome: 'HTTP',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
  },
  {
    // The renewed session was refused too, so it is kept rather than renewed again: once the
    // server accepts it, the next call needs no login.
    name: 'a server that rejects every skey (401 loop) costs one renewal login in all, then SESSION_EXPIRED',
    inject: (fake) => faultyData(fake, () => ({ statusCode: 401, data: { error: { code: 'SESSION_EXPIRED', message: 'again' } } })),
    outcome: 'SESSION_EXPIRED',
    counts: { logins: 2, loginRequests: 2, dataRequests: CALLERS * 2 },
  },
  {
    name: 'a failing wx.login ends in LOGIN_FAILED for every caller after one wx.login, sending nothing',
    inject: (fake) => {
      fake.behaviour.loginFails = 'login:fail system error';
      return () => (fake.behaviour.loginFails = null);
    },
    outcome: 'LOGIN_FAILED',
    counts: { logins: 1, loginRequests: 0, dataRequests: 0 },
    loginsAfterLift: 1,
  },
  {
    name: 'a login answer with expiresAt in seconds ends in LOGIN_FAILED after one login, and stores nothing',
    inject: (fake) => {
      fake.route('/auth/login', () => ({ statusCode: 200, data: { skey: 'k', expiresAt: Math.floor(Date.now() / 1000) + 3600, user: {} } }));
      return () => fake.route('/auth/login', loginAnswer(fake));
    },
    outcome: 'LOGIN_FAILED',
    counts: { logins: 1, loginRequests: 1, dataRequests: 0 },
    loginsAfterLift: 1,
  },
  {
    name: 'a login request cut by request:fail interrupted ends in LOGIN_FAILED, not cached as a failure',
    inject: (fake) => {
      fake.route('/auth/login', () => ({ fail: 'request:fail interrupted' }));
      return () => fake.route('/auth/login', loginAnswer(fake));
    },
    outcome: 'LOGIN_FAILED',
    counts: { logins: 1, loginRequests: 1, dataRequests: 0 },
    loginsAfterLift: 1,
  },
  {
    name: 'a GET cut once by request:fail interrupted (app sent to the background) recovers transparently',
    inject: (fake) => faultyData(fake, (attempt) => (attempt === 1 ? { fail: 'request:fail interrupted' } : null)),
    outcome: 'recovered',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS + 1 },
  },
  {
    name: 'a POST cut by request:fail interrupted is not replayed and ends in NETWORK',
    method: 'POST',
    inject: (fake) => faultyData(fake, () => ({ fail: 'request:fail interrupted' })),
    outcome: 'NETWORK',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
  },
  {
    name: 'a throwing setStorageSync (quota) recovers transparently: the session lives in memory',
    inject: (fake) => {
      fake.behaviour.storageWriteThrows = true;
      return () => (fake.behaviour.storageWriteThrows = false);
    },
    outcome: 'recovered',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
  },
  {
    name: 'unparseable stored data reads as no session and recovers with one login',
    inject: (fake) => {
      fake.storage.set('auth_session', '{"v":1,"skey":');
      return () => {};
    },
    outcome: 'recovered',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
  },
  {
    name: 'a stored record of the wrong shape reads as no session and recovers with one login',
    inject: (fake) => {
      fake.storage.set('auth_session', JSON.stringify({ v: 1, skey: 42, expiresAt: 'tomorrow', user: null }));
      return () => {};
    },
    outcome: 'recovered',
    counts: { logins: 1, loginRequests: 1, dataRequests: CALLERS },
  },
];

/** A login answer like the fake's own, installed when a row lifts its login fault. */
function loginAnswer(fake: FakeWx) {
  let n = 0;
  return (): FakeOutcome => {
    const skey = `skey-after-${++n}`;
    fake.issueSession(skey);
    return { statusCode: 200, data: { skey, expiresAt: Date.now() + 3600_000, user: { id: 'u1' } } };
  };
}

/** Resolves with every outcome, or fails the test naming how many promises never settled. */
async function settleAll<T>(promises: Promise<T>[]): Promise<PromiseSettledResult<T>[]> {
  let pending = promises.length;
  promises.forEach((p) => p.then(() => pending--, () => pending--));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${pending} of ${promises.length} calls still pending after ${SETTLE_WITHIN_MS} ms`)), SETTLE_WITHIN_MS);
  });
  try {
    return await Promise.race([Promise.allSettled(promises), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const countsOf = (fake: FakeWx): Counts => ({
  logins: fake.stats.logins,
  loginRequests: fake.stats.loginRequests,
  dataRequests: fake.sentTo(DATA).length,
});

describe('client fault matrix', () => {
  test.each(rows)('$name', async (row) => {
    const fake = createFakeWx();
    const lift = row.inject(fake);
    const auth = makeAuth(fake, row.options);
    const call = () => auth.request({ url: DATA, method: row.method || 'GET', data: row.method === 'POST' ? { n: 1 } : undefined });

    const results = await settleAll(Array.from({ length: CALLERS }, call));

    for (const result of results) {
      if (row.outcome === 'recovered') {
        expect(result).toMatchObject({ status: 'fulfilled', value: { statusCode: 200 } });
      } else {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason;
        expect(isAuthError(reason, row.outcome)).toBe(true);
      }
    }
    expect(countsOf(fake)).toEqual(row.counts);
    // A failed login leaves nothing behind that a later call or launch could mistake for a session.
    if (row.outcome === 'LOGIN_FAILED') expect(fake.storage.has('auth_session')).toBe(false);
    expect(fake.stats.aborted).toBe(row.aborted || 0);
    expect(fake.stats.inFlight).toBe(0);

    // No stuck state: once the fault is lifted the next call succeeds, reusing any session that survived.
    lift();
    const before = countsOf(fake);
    const [after] = await settleAll([call()]);
    expect(after).toMatchObject({ status: 'fulfilled', value: { statusCode: 200 } });
    expect(fake.stats.logins - before.logins).toBe(row.loginsAfterLift || 0);
    expect(fake.stats.inFlight).toBe(0);
  });

});
