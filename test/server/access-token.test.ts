/**
 * The access-token manager's guarantees, counted: how many times it asks WeChat for a token and
 * how many times a call runs, whatever the callers do at once. The manager runs on the memory
 * credential cache here; test/server/phone.test.ts counts the same through the whole server and
 * the simulated WeChat, and access-token-redis.test.ts across two instances on a real Redis.
 */
import { ApiError } from '../../server/errors';
import { createMemoryCredentialCache } from '../../server/stores/credentials';
import type { CredentialCache } from '../../server/stores/types';
import { AccessTokenRejectedError, createAccessTokenManager, fetchStableToken, type AccessTokenManager } from '../../server/wechat/access-token';
import type { Transport } from '../../server/wechat/http';
import { fakeClock, until, type FakeClock } from './helpers';

const HOUR = 3600_000;
const NAME = 'access_token:test';

/** A token source that answers when the test says so, counting every fetch. */
function tokenSource() {
  let next = 1;
  const pending: Array<{ resolve: (v: { accessToken: string; expiresInSeconds: number }) => void; reject: (e: unknown) => void }> = [];
  const source = {
    fetches: 0,
    /** Answer every waiting fetch with a new token (or with `error`). */
    settle(error?: unknown) {
      for (const p of pending.splice(0)) {
        if (error) p.reject(error);
        else p.resolve({ accessToken: `token-${next++}`, expiresInSeconds: 7200 });
      }
    },
    /** Answers at once from now on. */
    auto: false,
    failWith: undefined as unknown,
    fetch: () => {
      source.fetches++;
      if (source.failWith) return Promise.reject(source.failWith);
      if (source.auto) return Promise.resolve({ accessToken: `token-${next++}`, expiresInSeconds: 7200 });
      return new Promise<{ accessToken: string; expiresInSeconds: number }>((resolve, reject) => pending.push({ resolve, reject }));
    },
  };
  return source;
}

describe('access-token manager', () => {
  let clock: FakeClock;
  let cache: CredentialCache;
  let source: ReturnType<typeof tokenSource>;
  let manager: AccessTokenManager;
  let renewalFailures: unknown[];
  let cacheFailures: unknown[];
  const make = (overrides: { cache?: CredentialCache; lockMs?: number } = {}) =>
    createAccessTokenManager({
      fetchToken: () => source.fetch(),
      cache: overrides.cache ?? cache,
      name: NAME,
      now: clock.now,
      lockMs: overrides.lockMs ?? 5000,
      pollMs: 5,
      onRenewalFailed: (error) => renewalFailures.push(error),
      onCacheFailed: (error) => cacheFailures.push(error),
    });

  beforeEach(() => {
    clock = fakeClock();
    cache = createMemoryCredentialCache(clock.now);
    source = tokenSource();
    renewalFailures = [];
    cacheFailures = [];
    manager = make();
  });

  it('fetches one token for 50 concurrent callers and serves it from the cache afterwards', async () => {
    const tokens = Promise.all(Array.from({ length: 50 }, () => manager.token()));
    await until(() => source.fetches > 0, 'the first token fetch', 2000);
    source.settle();
    expect(new Set(await tokens)).toEqual(new Set(['token-1']));
    expect(await manager.token()).toBe('token-1');
    expect(source.fetches).toBe(1);
    expect(await cache.get(NAME)).toEqual({ value: 'token-1', expiresAt: clock.now() + 2 * HOUR, refreshAt: clock.now() + 2 * HOUR - 4 * 60_000 });
  });

  it('renews 4 minutes before expiry, once, and not before', async () => {
    source.auto = true;
    await manager.token();
    clock.advance(2 * HOUR - 4 * 60_000 - 1);
    expect(await manager.token()).toBe('token-1');
    clock.advance(1);
    expect(await Promise.all([manager.token(), manager.token(), manager.token()])).toEqual(['token-2', 'token-2', 'token-2']);
    expect(source.fetches).toBe(2);
  });

  it('fetches again after the token expired unused', async () => {
    source.auto = true;
    await manager.token();
    clock.advance(3 * HOUR);
    expect(await manager.token()).toBe('token-2');
    expect(source.fetches).toBe(2);
  });

  it('never renews sooner than half-way through a short-lived token', async () => {
    source.fetch = () => (source.fetches++, Promise.resolve({ accessToken: `short-${source.fetches}`, expiresInSeconds: 300 }));
    await manager.token();
    clock.advance(149_999);
    await manager.token();
    expect(source.fetches).toBe(1);
    clock.advance(1);
    expect(await manager.token()).toBe('short-2');
  });

  it('caches nothing when WeChat fails, and asks again on the next call', async () => {
    source.failWith = new ApiError('WECHAT_UNAVAILABLE', 'WeChat is busy', { status: 503 });
    await expect(Promise.all(Array.from({ length: 10 }, () => manager.token()))).rejects.toMatchObject({ code: 'WECHAT_UNAVAILABLE', status: 503 });
    expect(source.fetches).toBe(1);
    expect(await cache.get(NAME)).toBeNull();
    source.failWith = undefined;
    source.auto = true;
    expect(await manager.token()).toBe('token-1');
    expect(source.fetches).toBe(2);
  });

  it('keeps serving a still-valid token when the early renewal fails, and retries the renewal only after 30 s', async () => {
    source.auto = true;
    await manager.token();
    clock.advance(2 * HOUR - 4 * 60_000);
    source.failWith = new ApiError('WECHAT_TIMEOUT', 'timed out');
    expect(await manager.token()).toBe('token-1');
    expect(renewalFailures).toHaveLength(1);
    clock.advance(29_999);
    expect(await manager.token()).toBe('token-1');
    expect(source.fetches).toBe(2);
    source.failWith = undefined;
    clock.advance(1);
    expect(await manager.token()).toBe('token-2');
    expect(source.fetches).toBe(3);
  });

  it('hands out a fetched token the cache failed to store or unlock, telling onCacheFailed, not onRenewalFailed', async () => {
    const storeDown = new ApiError('STORE_UNAVAILABLE', 'storage is unavailable, try again later');
    const failing: CredentialCache = {
      ...cache,
      set: () => Promise.reject(storeDown),
      lock: async (name, ttlMs) => ((await cache.lock(name, ttlMs)) ? () => Promise.reject(storeDown) : null),
    };
    source.auto = true;
    expect(await make({ cache: failing }).token()).toBe('token-1');
    expect(source.fetches).toBe(1);
    expect(cacheFailures).toEqual([storeDown, storeDown]);
    expect(renewalFailures).toEqual([]);
  });

  it('does not send a token in its last 30 seconds: the caller waits for a new one', async () => {
    source.auto = true;
    await manager.token();
    clock.advance(2 * HOUR - 30_000);
    source.failWith = new ApiError('WECHAT_UNAVAILABLE', 'down', { status: 503 });
    await expect(manager.token()).rejects.toMatchObject({ code: 'WECHAT_UNAVAILABLE' });
  });

  describe('withToken', () => {
    beforeEach(() => {
      source.auto = true;
    });

    it('renews a rejected token once and runs the call once more', async () => {
      const seen: string[] = [];
      const answer = await manager.withToken(async (token) => {
        seen.push(token);
        if (token === 'token-1') throw new AccessTokenRejectedError(40001);
        return 'ok';
      });
      expect(answer).toBe('ok');
      expect(seen).toEqual(['token-1', 'token-2']);
      expect(source.fetches).toBe(2);
    });

    it('gives up with 503 when the renewed token is rejected too: one renewal, two calls, no loop', async () => {
      let calls = 0;
      const failing = manager.withToken(async () => {
        calls++;
        throw new AccessTokenRejectedError(42001);
      });
      await expect(failing).rejects.toMatchObject({ code: 'WECHAT_UNAVAILABLE', status: 503 });
      expect(calls).toBe(2);
      expect(source.fetches).toBe(2);
    });

    it('renews once for 50 concurrent calls that all had the same token rejected', async () => {
      await manager.token();
      let rejected = 0;
      const answers = await Promise.all(
        Array.from({ length: 50 }, () =>
          manager.withToken(async (token) => {
            if (token === 'token-1') {
              rejected++;
              throw new AccessTokenRejectedError(40001);
            }
            return token;
          }),
        ),
      );
      expect(rejected).toBe(50);
      expect(new Set(answers)).toEqual(new Set(['token-2']));
      expect(source.fetches).toBe(2);
    });

    it('does not renew when the rejected token is no longer the cached one: it retries with the cached one', async () => {
      await manager.token();
      const answer = await manager.withToken(async (token) => {
        if (token === 'token-1') {
          // Meanwhile another instance stored a newer token.
          await cache.set(NAME, { value: 'token-from-elsewhere', refreshAt: clock.now() + HOUR, expiresAt: clock.now() + 2 * HOUR });
          throw new AccessTokenRejectedError(40001);
        }
        return token;
      });
      expect(answer).toBe('token-from-elsewhere');
      expect(source.fetches).toBe(1);
    });

    it('passes any other failure through without renewing', async () => {
      await expect(manager.withToken(async () => Promise.reject(new ApiError('INVALID_PHONE_CODE', 'used')))).rejects.toMatchObject({ code: 'INVALID_PHONE_CODE' });
      expect(source.fetches).toBe(1);
    });
  });

  describe('across instances (the cache lock)', () => {
    it('serves a still-valid token without waiting while another instance renews it', async () => {
      source.auto = true;
      await manager.token();
      clock.advance(2 * HOUR - 60_000);
      const release = await cache.lock(NAME, 5000);
      expect(await manager.token()).toBe('token-1');
      expect(source.fetches).toBe(1);
      await release!();
    });

    it('waits for the token another instance is fetching instead of fetching its own', async () => {
      const release = await cache.lock(NAME, 5000);
      const waiting = manager.token();
      await cache.set(NAME, { value: 'token-from-elsewhere', refreshAt: clock.now() + HOUR, expiresAt: clock.now() + 2 * HOUR });
      await release!();
      expect(await waiting).toBe('token-from-elsewhere');
      expect(source.fetches).toBe(0);
    });

    it('fetches itself when the other instance gave up without storing a token', async () => {
      source.auto = true;
      const release = await cache.lock(NAME, 5000);
      const waiting = manager.token();
      await release!();
      expect(await waiting).toBe('token-1');
      expect(source.fetches).toBe(1);
    });

    it('answers 503 when another instance holds the lock longer than a renewal may take', async () => {
      await cache.lock(NAME, 60_000);
      const short = make({ lockMs: 50 });
      await expect(short.token()).rejects.toMatchObject({ code: 'WECHAT_UNAVAILABLE', status: 503 });
      expect(source.fetches).toBe(0);
    });
  });
});

describe('fetchStableToken', () => {
  const requests: Array<{ url: string; body?: string }> = [];
  const answering =
    (body: string): Transport =>
    async (url, _deadline, request) => {
      requests.push({ url, body: request?.body });
      return { status: 200, body };
    };
  const fetchWith = (body: string) => fetchStableToken({ transport: answering(body), baseUrl: () => 'https://wx.example', appId: 'wxapp', secret: 'SECRET', timeoutMs: 1000 });
  beforeEach(() => void requests.splice(0));

  it('POSTs the credentials in a JSON body in normal mode, never in the URL', async () => {
    await expect(fetchWith('{"access_token":"ACCESS","expires_in":7200}')).resolves.toEqual({ accessToken: 'ACCESS', expiresInSeconds: 7200 });
    expect(requests).toEqual([{ url: 'https://wx.example/cgi-bin/stable_token', body: JSON.stringify({ grant_type: 'client_credential', appid: 'wxapp', secret: 'SECRET', force_refresh: false }) }]);
  });

  it.each([
    [-1, 503],
    [45009, 503],
    [45011, 503],
    [40013, 502],
    [40125, 502],
    [40164, 502],
  ])('turns errcode %i into %i WECHAT_UNAVAILABLE with a message that names neither the errcode nor WeChat’s text', async (errcode, status) => {
    const error = await fetchWith(`{"errcode":${errcode},"errmsg":"invalid ip 1.2.3.4, rid: 9"}`).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WECHAT_UNAVAILABLE', status });
    expect((error as Error).message).not.toMatch(/errcode|1\.2\.3\.4|rid/);
    expect(((error as Error).cause as Error).message).toBe(`stable_token errcode ${errcode}`);
  });

  it.each([
    ['no token', '{"expires_in":7200}'],
    ['an empty token', '{"access_token":"","expires_in":7200}'],
    ['a token with spaces', '{"access_token":"a b","expires_in":7200}'],
    ['a huge token', JSON.stringify({ access_token: 'x'.repeat(5000), expires_in: 7200 })],
    ['no expiry', '{"access_token":"A"}'],
    ['an expiry as text', '{"access_token":"A","expires_in":"7200"}'],
    ['a zero expiry', '{"access_token":"A","expires_in":0}'],
  ])('refuses an answer with %s as 502', async (_case, body) => {
    await expect(fetchWith(body)).rejects.toMatchObject({ code: 'WECHAT_UNAVAILABLE', status: 502 });
  });
});
