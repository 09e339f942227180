/**
 * The server's bind mode (ACCOUNT_MODE=bind): a WeChat user bound to no account gets a bind ticket
 * instead of a session. The fake server answers as typings/api.d.ts says the real one does.
 */
import { isAuthError, type AuthError, type Session } from '../../miniprogram/auth';
import { createFakeWx, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, HOUR, makeAuth, rejectionOf } from './helpers';

let fake: FakeWx;
beforeEach(() => {
  fake = createFakeWx();
  fake.binding.required = true;
});
afterEach(expectPoolEmpty);

const RIGHT = { account: 'A1001', password: 'right-password' };

/** Counts of what the service emitted. */
function watch(auth: ReturnType<typeof makeAuth>) {
  const seen = { login: [] as Session<{ id: string }>[], loginFailed: [] as AuthError[], logout: 0 };
  auth.on('login', (s) => seen.login.push(s));
  auth.on('loginFailed', (e) => seen.loginFailed.push(e));
  auth.on('logout', () => seen.logout++);
  return seen;
}

/** An unbound user's first login: its BIND_REQUIRED error. */
async function bindRequired(auth: ReturnType<typeof makeAuth>): Promise<AuthError> {
  const error = await rejectionOf(auth.login());
  expect(isAuthError(error, 'BIND_REQUIRED')).toBe(true);
  return error;
}

describe('a login answer that asks for a bind', () => {
  test('rejects BIND_REQUIRED carrying the ticket and its expiry, stores nothing and emits no login', async () => {
    const auth = makeAuth(fake);
    const seen = watch(auth);

    const error = await bindRequired(auth);

    expect(error.ticket).toEqual({ bindTicket: 'ticket-1', expiresAt: fake.binding.tickets.get('ticket-1')!.expiresAt });
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.has('auth_session')).toBe(false);
    expect(seen.login).toHaveLength(0);
    expect(seen.loginFailed).toEqual([error]);
  });

  test('puts the ticket’s expiry on the device’s clock, as a session’s', async () => {
    // The server's clock is an hour behind the device's.
    fake.behaviour.serverDate = new Date(Date.now() - HOUR).toUTCString();
    const error = await bindRequired(makeAuth(fake));

    const onServer = fake.binding.tickets.get('ticket-1')!.expiresAt;
    expect(Math.abs(error.ticket!.expiresAt - (onServer + HOUR))).toBeLessThan(2000);
  });

  test.each([
    ['no ticket', { bindRequired: true, expiresAt: Date.now() + HOUR }, /bindTicket must be a non-empty string/],
    ['a ticket that would break a header', { bindRequired: true, bindTicket: 't\r\nX: 1', expiresAt: Date.now() + HOUR }, /bindTicket must be/],
    ['an expiry in seconds', { bindRequired: true, bindTicket: 't', expiresAt: Math.floor(Date.now() / 1000) + 600 }, /looks like seconds/],
  ])('with %s is an unusable answer: LOGIN_FAILED naming it', async (_, body, message) => {
    fake.route('/auth/login', () => ({ statusCode: 200, data: body }));
    const error = await rejectionOf(makeAuth(fake).login());

    expect(error.code).toBe('LOGIN_FAILED');
    expect(error.message).toMatch(message);
  });

  test('a storm of 50 requests by an unbound user costs 1 wx.login and 1 login request, and all 50 reject BIND_REQUIRED', async () => {
    const auth = makeAuth(fake);

    const errors = await Promise.all(Array.from({ length: 50 }, (_, i) => rejectionOf(auth.request({ url: `/api/${i}` }))));

    expect(errors.every((e) => isAuthError(e, 'BIND_REQUIRED') && e.ticket!.bindTicket === 'ticket-1')).toBe(true);
    expect(fake.stats.logins).toBe(1);
    expect(fake.stats.loginRequests).toBe(1);
    expect(fake.sent.filter((r) => r.path.startsWith('/api/'))).toHaveLength(0);
  });

  test('no further login starts until bind() or an explicit login(): requests and ensureSession reject at once', async () => {
    const auth = makeAuth(fake);
    const first = await bindRequired(auth);

    const later = await Promise.all([rejectionOf(auth.request({ url: '/api/a' })), rejectionOf(auth.ensureSession()), rejectionOf(auth.request({ url: '/api/b' }))]);

    expect(later).toEqual([first, first, first]);
    expect(fake.stats.logins).toBe(1);
    expect(await auth.ready()).toBeNull();

    // An explicit login asks again, and gets a fresh ticket.
    const again = await bindRequired(auth);
    expect(again.ticket!.bindTicket).toBe('ticket-2');
    expect(fake.stats.logins).toBe(2);
  });

  test('a logout forgets the wait: the next request logs in again', async () => {
    const auth = makeAuth(fake);
    await bindRequired(auth);
    await auth.logout();

    expect((await rejectionOf(auth.request({ url: '/api/a' }))).ticket!.bindTicket).toBe('ticket-2');
    expect(fake.stats.logins).toBe(2);
  });
});

describe('bind()', () => {
  test('with the ticket and the right password stores the session and emits login; requests then go through without another login', async () => {
    const auth = makeAuth(fake);
    const seen = watch(auth);
    const { ticket } = await bindRequired(auth);

    const session = await auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT });

    expect(session.skey).toBe('skey-1');
    expect(fake.sentTo('/auth/bind')[0].data).toEqual({ bindTicket: 'ticket-1', account: 'A1001', password: 'right-password' });
    expect(fake.sentTo('/auth/bind')[0].header.Authorization).toBeUndefined();
    expect(auth.getSession()).toEqual(session);
    expect(JSON.parse(fake.storage.get('auth_session')!)).toMatchObject({ skey: 'skey-1' });
    expect(seen.login).toEqual([session]);

    await expect(auth.request({ url: '/api/me' })).resolves.toMatchObject({ statusCode: 200, data: { skey: 'skey-1' } });
    expect(fake.stats.logins).toBe(1);
  });

  test('with the wrong password rejects LOGIN_FAILED carrying INVALID_CREDENTIALS: not taken for an expired session, no login, nothing stored', async () => {
    const auth = makeAuth(fake);
    const { ticket } = await bindRequired(auth);

    const error = await rejectionOf(auth.bind({ bindTicket: ticket!.bindTicket, account: 'A1001', password: 'wrong' }));

    expect(error.code).toBe('LOGIN_FAILED');
    expect(error.statusCode).toBe(401);
    expect(error.data).toEqual({ error: { code: 'INVALID_CREDENTIALS', message: 'wrong account or password' } });
    expect(fake.stats.logins).toBe(1);
    expect(fake.sentTo('/auth/bind')).toHaveLength(1);
    expect(auth.getSession()).toBeNull();
    // The ticket still stands: the next try with the right password binds.
    await expect(auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT })).resolves.toMatchObject({ skey: 'skey-1' });
  });

  test('never puts the password into an error, not even its message', async () => {
    const auth = makeAuth(fake);
    const { ticket } = await bindRequired(auth);
    fake.route('/auth/bind', () => ({ fail: 'request:fail network is down' }));

    const error = await rejectionOf(auth.bind({ bindTicket: ticket!.bindTicket, account: 'A1001', password: 'pa55-secret' }));

    expect(error.code).toBe('LOGIN_FAILED');
    expect(JSON.stringify({ message: error.message, data: error.data, cause: String(error.cause) })).not.toContain('pa55-secret');
  });

  test.each([
    ['409 ACCOUNT_ALREADY_BOUND', () => fake.binding.boundElsewhere.add('A1001'), 409, undefined],
    ['429 RATE_LIMITED, with the Retry-After header', () => (fake.binding.retryAfterSeconds = 840), 429, '840'],
  ])('passes %s on in statusCode, data and header', async (_, arrange, status, retryAfter) => {
    const auth = makeAuth(fake);
    const { ticket } = await bindRequired(auth);
    arrange();

    const error = await rejectionOf(auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT }));

    expect(error.statusCode).toBe(status);
    expect(error.header && error.header['Retry-After']).toBe(retryAfter);
    expect(fake.stats.logins).toBe(1);
  });

  test('with an expired ticket rejects BIND_REQUIRED with a fresh ticket after exactly one new wx.login, and the fresh one binds', async () => {
    const auth = makeAuth(fake);
    const seen = watch(auth);
    const { ticket } = await bindRequired(auth);
    fake.expireTickets();

    const error = await rejectionOf(auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT }));

    expect(isAuthError(error, 'BIND_REQUIRED')).toBe(true);
    expect(error.ticket!.bindTicket).toBe('ticket-2');
    expect(fake.stats.logins).toBe(2);
    expect(fake.stats.loginRequests).toBe(2);
    expect(seen.login).toHaveLength(0);
    // Requests meanwhile wait for a bind too, with the fresh ticket.
    expect((await rejectionOf(auth.request({ url: '/api/a' }))).ticket!.bindTicket).toBe('ticket-2');

    await expect(auth.bind({ bindTicket: error.ticket!.bindTicket, ...RIGHT })).resolves.toMatchObject({ skey: 'skey-1' });
    expect(fake.stats.logins).toBe(2);
  });

  test('with a ticket refused because the user was bound meanwhile (on another device) resolves with the session of the one new login', async () => {
    const auth = makeAuth(fake);
    const { ticket } = await bindRequired(auth);
    fake.expireTickets();
    fake.binding.bound = true;

    const session = await auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT });

    expect(session.skey).toBe('skey-1');
    expect(fake.stats.logins).toBe(2);
    expect(auth.getSession()).toEqual(session);
  });

  test('requests made while the bind is in flight wait for it and go out with its session', async () => {
    const auth = makeAuth(fake);
    const { ticket } = await bindRequired(auth);

    const bound = auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT });
    const request = auth.request({ url: '/api/me' });

    await expect(request).resolves.toMatchObject({ data: { skey: 'skey-1' } });
    await bound;
    expect(fake.stats.logins).toBe(1);
  });

  test('a logout during the bind cancels it: nothing stored, no login event', async () => {
    const auth = makeAuth(fake);
    const seen = watch(auth);
    const { ticket } = await bindRequired(auth);

    const bound = auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT });
    await auth.logout();

    expect((await rejectionOf(bound)).code).toBe('CANCELLED');
    expect(auth.getSession()).toBeNull();
    expect(seen.login).toHaveLength(0);
  });
});

describe('unbind()', () => {
  async function boundAuth() {
    const auth = makeAuth(fake);
    const { ticket } = await bindRequired(auth);
    await auth.bind({ bindTicket: ticket!.bindTicket, ...RIGHT });
    return auth;
  }

  test('asks the server to unbind with the session, then logs out here without a logout request; the next login asks for a bind again', async () => {
    const auth = await boundAuth();
    const seen = watch(auth);

    await auth.unbind();

    const [sent] = fake.sentTo('/auth/binding');
    expect(sent.method).toBe('DELETE');
    expect(sent.skey).toBe('skey-1');
    expect(fake.sentTo('/auth/logout')).toHaveLength(0);
    expect(auth.getSession()).toBeNull();
    expect(fake.storage.has('auth_session')).toBe(false);
    expect(seen.logout).toBe(1);
    expect((await rejectionOf(auth.request({ url: '/api/me' }))).code).toBe('BIND_REQUIRED');
  });

  test('when the server does not unbind, rejects and keeps the session', async () => {
    const auth = await boundAuth();
    fake.route('/auth/binding', () => ({ statusCode: 500, data: { error: { code: 'INTERNAL', message: 'boom' } } }));
    const seen = watch(auth);

    const error = await rejectionOf(auth.unbind());

    expect(error.code).toBe('HTTP');
    expect(error.statusCode).toBe(500);
    expect(auth.getSession()).toMatchObject({ skey: 'skey-1' });
    expect(seen.logout).toBe(0);
  });
});
