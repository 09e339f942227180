/**
 * ensureWechatSession() and WeChat DevTools' tourist mode (`appid: "touristappid"`), where
 * wx.checkSession fails every time and wx.login answers the same mock code. The service must not
 * turn each call into a login there, and must still re-login once when WeChat's session really
 * expired on a phone.
 */
import { createFakeWx, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, makeAuth, storeSession } from './helpers';

let fake: FakeWx;
beforeEach(() => {
  fake = createFakeWx();
});
afterEach(expectPoolEmpty);

const N = 20;

/** Moves Date.now() `ms` ahead (timers still run in real time: the fake answers on them). */
function clockAhead(ms: number) {
  const real = Date.now.bind(Date);
  jest.spyOn(Date, 'now').mockImplementation(() => real() + ms);
}
afterEach(() => jest.restoreAllMocks());

const MINUTE = 60_000;

async function sequential(auth: ReturnType<typeof makeAuth>, n = N) {
  const skeys = new Set<string>();
  for (let i = 0; i < n; i++) skeys.add((await auth.ensureWechatSession()).skey);
  return skeys;
}

describe('in tourist mode, where wx.checkSession always fails', () => {
  beforeEach(() => {
    fake.behaviour.touristMode = true;
  });

  test(`${N} sequential calls on a cold start cost 1 wx.login: the session it made is kept`, async () => {
    const auth = makeAuth(fake);
    const skeys = await sequential(auth);

    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.loginRequests).toBe(1);
    expect(fake.sentTo('/auth/login')[0].data).toEqual({ code: 'the code is a mock one' });
    expect(fake.stats.checkSessions).toBe(N);
    expect([...skeys]).toEqual(['skey-1']);
  });

  test(`${N} sequential calls with a session stored by an earlier run cost 1 wx.login`, async () => {
    storeSession(fake, 'skey-stored');
    const auth = makeAuth(fake);
    const skeys = await sequential(auth);

    // The stored session can't be vouched for (its session_key may really be gone): one login.
    expect(fake.stats.logins).toBe(1);
    expect([...skeys]).toEqual(['skey-1']);
  });

  test(`${N} concurrent calls cost 1 wx.login`, async () => {
    const auth = makeAuth(fake);
    const sessions = await Promise.all(Array.from({ length: N }, () => auth.ensureWechatSession()));

    expect(fake.stats.logins).toBe(1);
    expect(new Set(sessions.map((s) => s.skey)).size).toBe(1);
  });

  test(`${N} sequential calls more than 5 minutes after the login cost 1 more wx.login, not one per call`, async () => {
    const auth = makeAuth(fake);
    await auth.login();
    await sequential(auth, 3);
    expect(fake.stats.logins).toBe(1);

    clockAhead(6 * MINUTE);
    const skeys = await sequential(auth);

    expect(fake.stats.logins).toBe(2);
    expect([...skeys]).toEqual(['skey-2']);
  });

  test('logout then login then more calls: one wx.login per login, none per call', async () => {
    const auth = makeAuth(fake);
    await sequential(auth, 5);
    await auth.logout();
    await auth.login();
    await sequential(auth, 5);

    expect(fake.stats.logins).toBe(2);
    expect(fake.stats.loginRequests).toBe(2);
  });
});

describe('on a phone, where wx.checkSession tells the truth', () => {
  test('an expired WeChat session behind a stored session costs exactly one re-login, then none', async () => {
    storeSession(fake, 'skey-stored');
    fake.behaviour.wechatSessionValid = false;
    const auth = makeAuth(fake);
    const skeys = await sequential(auth);

    expect(fake.stats.logins).toBe(1);
    expect([...skeys]).toEqual(['skey-1']);
  });

  test.each([
    ['long after (60 min)', 60, 2, 'skey-2'],
    ['within minutes (4 min)', 4, 1, 'skey-1'],
  ])("a check that first fails %s of this run's own login, none confirming it in between, costs %i wx.login in all", async (_when, minutes, logins, skey) => {
    const auth = makeAuth(fake);
    await auth.login(); // the silent launch login; no ensureWechatSession() until later
    fake.behaviour.wechatSessionValid = false;
    clockAhead(minutes * MINUTE);

    const skeys = await sequential(auth, 3);

    // Within 5 minutes a fresh session_key cannot have expired; after that the failure is believed.
    expect(fake.stats.logins).toBe(logins);
    expect([...skeys]).toEqual([skey]);
  });

  test('a WeChat session that expires after this run\'s login was confirmed still costs one re-login', async () => {
    const auth = makeAuth(fake);
    await sequential(auth, 3); // logs in, and the first check confirms the fresh session
    expect(fake.stats.logins).toBe(1);

    fake.behaviour.wechatSessionValid = false; // e.g. the user logged in to WeChat elsewhere
    const after = await auth.ensureWechatSession();
    await sequential(auth, 3);

    expect(after.skey).toBe('skey-2');
    expect(fake.stats.logins).toBe(2);
  });
});
