/**
 * Keeps a page in step with the auth service's events, so pages never re-read storage to learn
 * who is logged in.
 */
import type { AuthClient } from '../auth/index';
import type { User } from '../../typings/api';

export type SessionChange = 'login' | 'logout' | 'sessionExpired';

/** Calls `onChange` with the user after every login, logout and expiry; returns the unsubscribe. */
export function watchSession(auth: AuthClient<User>, onChange: (user: User | null, change: SessionChange) => void): () => void {
  const stops = [
    auth.on('login', (session) => onChange(session.user, 'login')),
    auth.on('logout', () => onChange(null, 'logout')),
    auth.on('sessionExpired', () => onChange(null, 'sessionExpired')),
  ];
  return () => stops.forEach((stop) => stop());
}

/** Per-instance unsubscribe functions, for pages and components (kept off `data`, which must be serialisable). */
const subscriptions = new WeakMap<object, () => void>();

export function keepSubscription(owner: object, stop: () => void): void {
  subscriptions.get(owner)?.();
  subscriptions.set(owner, stop);
}

export function dropSubscription(owner: object): void {
  subscriptions.get(owner)?.();
  subscriptions.delete(owner);
}
