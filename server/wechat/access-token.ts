/**
 * WeChat's access_token, the credential that server-side APIs (getuserphonenumber, ...) take.
 * Fetched from `POST /cgi-bin/stable_token` in normal mode, which hands every caller the same
 * token while it is valid, and the next one during the last 5 minutes of the old one's life (both
 * work meanwhile). Force-refresh mode is never used: it would invalidate the token that every
 * other instance, and every other system using this AppID, is holding.
 *
 * Guarantees (each counted in test/server/access-token*.test.ts):
 * - cached in the stores (memory, or Redis shared by every instance) and renewed ahead of expiry;
 * - one renewal at a time per process (single flight), and per expiry across instances (a short
 *   lock in the cache; the others wait for the token it stores, or use the old one while it lasts);
 * - a token WeChat rejects (40001, 42001, 40014) is renewed only if it is still the cached one,
 *   and the call is retried once, never more;
 * - a failed fetch caches nothing and answers in the error envelope; a fetched token the cache
 *   fails to keep is used all the same;
 * - the token goes into no log line, error message or response.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../errors';
import type { CachedCredential, Clock, CredentialCache } from '../stores/types';
import { callWeChat, errcodeOf, type Transport } from './http';

/** The errcodes with which WeChat refuses the access_token a call carried. */
const TOKEN_REJECTED = new Set([40001, 42001, 40014]);

export function rejectsToken(errcode: number): boolean {
  return TOKEN_REJECTED.has(errcode);
}

/** WeChat refused the access_token a call carried; thrown inside `withToken`, which renews and retries once. */
export class AccessTokenRejectedError extends Error {
  constructor(readonly errcode: number) {
    super(`WeChat rejected the access token (errcode ${errcode})`);
    this.name = 'AccessTokenRejectedError';
  }
}

export interface FetchedToken {
  accessToken: string;
  expiresInSeconds: number;
}

/** The same generic answer for every stable_token failure: the details are for the operator's log (the cause). */
function tokenFailure(status: 502 | 503, detail: string): ApiError {
  return Object.assign(new ApiError('WECHAT_UNAVAILABLE', 'WeChat is unavailable, try again shortly', { status }), { cause: new Error(detail) });
}

/** `POST /cgi-bin/stable_token` in normal mode. Throws ApiError; the secret travels in the body, never in a URL. */
export async function fetchStableToken({
  transport,
  baseUrl,
  appId,
  secret,
  timeoutMs,
}: {
  transport: Transport;
  baseUrl: () => string;
  appId: string;
  secret: string;
  timeoutMs: number;
}): Promise<FetchedToken> {
  const body = await callWeChat(transport, `${baseUrl()}/cgi-bin/stable_token`, timeoutMs, {
    body: JSON.stringify({ grant_type: 'client_credential', appid: appId, secret, force_refresh: false }),
  });
  const errcode = errcodeOf(body);
  // -1 busy, 45009/45011 quota: WeChat's side, worth retrying later. 40013 appid, 40125 secret,
  // 40164 IP not in the allow list: this server's setup, which its operator must fix.
  if (errcode === -1 || errcode === 45009 || errcode === 45011) throw tokenFailure(503, `stable_token errcode ${errcode}`);
  if (errcode !== 0) throw tokenFailure(502, `stable_token errcode ${errcode}`);
  const { access_token: accessToken, expires_in: expiresIn } = body;
  // WeChat asks for room for 512 characters; far longer, or anything that is not a plain token, is not one.
  if (typeof accessToken !== 'string' || !/^[\x21-\x7e]{1,2048}$/.test(accessToken) || typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 86_400) {
    throw tokenFailure(502, 'stable_token answered without a usable access_token and expires_in');
  }
  return { accessToken, expiresInSeconds: expiresIn };
}

export interface AccessTokenManagerOptions {
  /** Asks WeChat for the current token; throws ApiError when it cannot. */
  fetchToken: () => Promise<FetchedToken>;
  cache: CredentialCache;
  /** The cache entry: one per app. */
  name: string;
  now: Clock;
  /** The longest one renewal may hold the lock; longer than a fetch can take. */
  lockMs: number;
  /**
   * Renew this long before expiry. The default, 4 minutes, falls inside the 5 minutes in which
   * stable_token already hands out the next token while the old one still works.
   */
  refreshAheadMs?: number;
  /** How often an instance waiting for another's renewal looks at the cache. */
  pollMs?: number;
  /** Told when an early renewal failed and the current token, still valid, is used meanwhile. */
  onRenewalFailed?: (error: unknown) => void;
  /** Told when a fetched token could not be stored (or the renewal lock released); the token is used all the same. */
  onCacheFailed?: (error: unknown) => void;
}

export interface AccessTokenManager {
  /** A token WeChat should accept: the cached one, or a fresh one fetched once however many callers ask. */
  token(): Promise<string>;
  /**
   * Runs `call` with a token. When `call` throws AccessTokenRejectedError, the token is renewed
   * (if it is still the cached one) and `call` runs once more; a second rejection is 503.
   */
  withToken<T>(call: (token: string) => Promise<T>): Promise<T>;
}

/** A token this close to its end is not sent: it could expire on the way. */
const EXPIRY_MARGIN_MS = 30_000;
/** After an early renewal failed, callers use the current token this long before anyone tries again. */
const RETRY_RENEWAL_AFTER_MS = 30_000;

export function createAccessTokenManager({
  fetchToken,
  cache,
  name,
  now,
  lockMs,
  refreshAheadMs = 4 * 60_000,
  pollMs = 50,
  onRenewalFailed,
  onCacheFailed,
}: AccessTokenManagerOptions): AccessTokenManager {
  type Cached = CachedCredential | null;
  const usable = (cached: Cached, at: number): cached is CachedCredential => cached !== null && at < cached.expiresAt - EXPIRY_MARGIN_MS;
  // Not a type guard: `false` does not mean "no credential" (it may just be due for renewal).
  const fresh = (cached: Cached, at: number): boolean => usable(cached, at) && at < cached.refreshAt;

  let renewal: Promise<string> | null = null;
  /** Until then an early renewal that failed is not tried again; the current token serves. */
  let quietUntil = 0;

  /** The fetch itself, made by the lock's holder only. */
  async function fetchAndStore(current: Cached): Promise<string> {
    let fetched: FetchedToken;
    try {
      fetched = await fetchToken();
    } catch (error) {
      if (!usable(current, now())) throw error;
      quietUntil = now() + RETRY_RENEWAL_AFTER_MS;
      onRenewalFailed?.(error);
      return current.value;
    }
    const { accessToken, expiresInSeconds } = fetched;
    const at = now();
    const lifeMs = expiresInSeconds * 1000;
    // Renew ahead of expiry, but never sooner than half-way: a token handed out with little
    // life left (stable_token promises at least 5 minutes) must not be fetched again at once.
    // A cache that fails to keep it costs the next caller a fetch (of the same token, in
    // stable_token's normal mode), not this caller its token.
    await cache.set(name, { value: accessToken, expiresAt: at + lifeMs, refreshAt: at + Math.max(lifeMs - refreshAheadMs, lifeMs / 2) }).catch((error: unknown) => onCacheFailed?.(error));
    return accessToken;
  }

  /** One renewal across instances: whoever takes the lock fetches, the others wait for what it stores. */
  async function renewShared(): Promise<string> {
    const giveUpAt = Date.now() + lockMs + pollMs;
    for (;;) {
      const cached = await cache.get(name);
      if (cached && fresh(cached, now())) return cached.value;
      const release = await cache.lock(name, lockMs);
      if (release) {
        try {
          // Read again under the lock: another instance may have stored a token since the read above.
          const current = await cache.get(name);
          return current && fresh(current, now()) ? current.value : await fetchAndStore(current);
        } finally {
          // The lock expires by itself after lockMs: failing to release it early fails nothing.
          await release().catch((error: unknown) => onCacheFailed?.(error));
        }
      }
      // Another instance is renewing; a token that still works serves meanwhile.
      if (usable(cached, now())) return cached.value;
      if (Date.now() >= giveUpAt) throw tokenFailure(503, 'gave up waiting for another instance to renew the access token');
      await sleep(pollMs);
    }
  }

  function renew(): Promise<string> {
    renewal ??= renewShared().finally(() => {
      renewal = null;
    });
    return renewal;
  }

  async function token(): Promise<string> {
    const cached = await cache.get(name);
    const at = now();
    if (!usable(cached, at)) return renew();
    return at < cached.refreshAt || at < quietUntil ? cached.value : renew();
  }

  return {
    token,
    async withToken(call) {
      const first = await token();
      try {
        return await call(first);
      } catch (error) {
        if (!(error instanceof AccessTokenRejectedError)) throw error;
      }
      // Only the caller that still finds the rejected token in the cache removes it; everyone
      // else (here or on other instances) finds the renewed one, or joins its renewal.
      await cache.deleteIf(name, first);
      const second = await token();
      try {
        return await call(second);
      } catch (error) {
        if (error instanceof AccessTokenRejectedError) throw tokenFailure(503, `WeChat rejected a renewed access token too (errcode ${error.errcode})`);
        throw error;
      }
    },
  };
}
