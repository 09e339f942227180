import { createAuth, type AuthOptions } from '../../miniprogram/auth';
import { BASE_URL, type FakeWx } from '../support/fake-wx';

export const HOUR = 60 * 60 * 1000;

/** A client on the fake, with tiny retry delays so network retries don't slow the suite. */
export function makeAuth(fake: FakeWx, options: Partial<AuthOptions> = {}) {
  return createAuth<{ id: string }>({ baseURL: BASE_URL, wx: fake.wx, retryDelay: 1, ...options });
}

/** Puts a session in storage as an earlier run of the app would have left it. */
export function storeSession(fake: FakeWx, skey: string, expiresAt = Date.now() + HOUR, key = 'auth_session') {
  fake.storage.set(key, JSON.stringify({ v: 1, skey, expiresAt, user: { id: 'u1' } }));
}
