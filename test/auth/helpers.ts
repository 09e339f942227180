import { createAuth, type AuthError, type AuthOptions } from '../../miniprogram/auth';
import { poolState } from '../../miniprogram/auth/transport';
import { BASE_URL, createFakeWx, type FakeWx } from '../support/fake-wx';

export const HOUR = 60 * 60 * 1000;

/** A client on the fake, with tiny retry delays so network retries don't slow the suite. */
export function makeAuth(fake: FakeWx, options: Partial<AuthOptions> = {}) {
  return createAuth<{ id: string }>({ baseURL: BASE_URL, wx: fake.wx, retryDelay: 1, ...options });
}

/** Puts a session in storage as an earlier run of the app would have left it. */
export function storeSession(fake: FakeWx, skey: string, expiresAt = Date.now() + HOUR, key = 'auth_session') {
  fake.storage.set(key, JSON.stringify({ v: 1, skey, expiresAt, user: { id: 'u1' } }));
}

/** A fresh fake wx whose server knows the session an earlier run of the app left in storage. */
export function warmFake(skey = 'skey-warm'): FakeWx {
  const fake = createFakeWx();
  storeSession(fake, skey);
  fake.issueSession(skey);
  return fake;
}

/**
 * Resolves once `condition` holds, letting the fake's timers run in between (it answers on
 * setTimeout 0); fails naming `what` after 2 s. For "once the calls are out" points in a test.
 */
export async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The error a promise rejects with; fails the test if it resolves. */
export const rejectionOf = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: AuthError) => e,
  );

/**
 * The request pool is one per module, shared by every client, so it outlives a test: each test
 * must end with every slot given back and nobody in line, or it would starve the next one.
 */
export function expectPoolEmpty() {
  expect(poolState()).toEqual({ active: 0, waiting: 0 });
}
