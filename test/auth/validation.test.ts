/**
 * Bad input, from the app or from the server's answers, gets a clear error before anything is sent,
 * and the skey never leaves the backend's host.
 */
import { createAuth, isAuthError, type AuthOptions } from '../../miniprogram/auth';
import { BASE_URL, type FakeWx } from '../support/fake-wx';
import { expectPoolEmpty, makeAuth, rejectionOf, warmFake } from './helpers';

let fake: FakeWx;
beforeEach(() => (fake = warmFake()));
afterEach(expectPoolEmpty);

const wxCalls = () => fake.stats.requests + fake.stats.uploads + fake.stats.logins + fake.stats.checkSessions;

describe('request URLs', () => {
  // Each of these, appended to "https://api.test", would send the skey to another host or hide one.
  test.each([
    ['@evil.example/x', 'userinfo: the host becomes evil.example'],
    ['.evil.example/x', 'the host becomes api.test.evil.example'],
    ['//evil.example/x', 'a protocol-relative URL'],
    ['https://evil.example/x', 'an absolute URL'],
    ['\\evil.example/x', 'a backslash, read as a slash'],
    ['/\\evil.example/x', 'a slash and a backslash'],
    ['/x@evil.example', 'an @ anywhere'],
    [':8080/x', 'a port'],
    ['api/orders', 'no leading slash'],
    ['', 'empty'],
  ])('"%s" (%s) rejects with a TypeError before any wx call, authenticated or not', async (url) => {
    const auth = makeAuth(fake);
    const calls = [
      auth.request({ url }),
      auth.request({ url, auth: false }),
      auth.uploadFile({ url, filePath: 'f', name: 'file' }),
    ];

    for (const call of calls) {
      const error = await rejectionOf(call);
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/: url must be a path like "\/api\/orders", got /);
    }
    expect(wxCalls()).toBe(0);
  });

  test('a path with a query string, and a baseURL with a path prefix, are sent where they say', async () => {
    fake.route('/v1/api/orders', () => ({ statusCode: 200, data: 'v1' }));
    const auth = createAuth({ baseURL: `${BASE_URL}/v1/`, wx: fake.wx });

    await expect(auth.request({ url: '/api/orders?page=2&q=a%40b' })).resolves.toMatchObject({ statusCode: 200 });
    expect(fake.sent.map((r) => r.url)).toEqual([`${BASE_URL}/v1/api/orders?page=2&q=a%40b`]);
  });
});

describe('the Authorization header', () => {
  test.each(['Authorization', 'authorization', 'AUTHORIZATION'])(
    'an authenticated call given its own "%s" header rejects with a TypeError and sends nothing',
    async (name) => {
      const auth = makeAuth(fake);
      const error = await rejectionOf(auth.request({ url: '/api/me', header: { [name]: 'Bearer forged' } }));

      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe("GET https://api.test/api/me: Authorization is the session's here; send your own with auth: false");
      expect(wxCalls()).toBe(0);
    },
  );

  test('a public call (auth: false) sends the Authorization header it was given, and nothing else', async () => {
    const auth = makeAuth(fake);
    await auth.request({ url: '/public', auth: false, header: { authorization: 'Basic abc' } });

    expect(fake.sent[0].header).toEqual({ authorization: 'Basic abc' });
  });
});

describe('options', () => {
  const base = { baseURL: BASE_URL };
  test.each<[Partial<AuthOptions> | undefined, string]>([
    [undefined, 'baseURL must be an http(s) URL like "https://api.example.com", got undefined'],
    [{ baseURL: 'api.example.com' }, 'baseURL must be an http(s) URL like "https://api.example.com", got "api.example.com"'],
    [{ baseURL: 'https://user@api.example.com' }, 'baseURL must be'],
    [{ baseURL: 'https://api.example.com/?x=1' }, 'baseURL must be'],
    [{ ...base, loginPath: 'auth/login' }, 'loginPath must be a path like "/auth/login", got "auth/login"'],
    [{ ...base, logoutPath: '//evil/logout' }, 'logoutPath must be a path like "/auth/login", got "//evil/logout"'],
    [{ ...base, bindPath: 'https://evil.test/bind' }, 'bindPath must be a path like "/auth/login", got "https://evil.test/bind"'],
    [{ ...base, bindingPath: '' }, 'bindingPath must be a path like "/auth/login", got ""'],
    [{ ...base, storageKey: '' }, 'storageKey must be a non-empty string, got ""'],
    [{ ...base, timeout: 0 }, 'timeout must be a number of ms above 0, got 0'],
    [{ ...base, timeout: NaN }, 'timeout must be a number of ms above 0, got null'],
    [{ ...base, timeout: '5000' as unknown as number }, 'timeout must be a number of ms above 0, got "5000"'],
    [{ ...base, uploadTimeout: -1 }, 'uploadTimeout must be a number of ms above 0, got -1'],
    [{ ...base, maxConcurrent: 0 }, 'maxConcurrent must be an integer from 1 to 10, got 0'],
    [{ ...base, maxConcurrent: 11 }, 'maxConcurrent must be an integer from 1 to 10, got 11'],
    [{ ...base, maxConcurrent: 2.5 }, 'maxConcurrent must be an integer from 1 to 10, got 2.5'],
    [{ ...base, retries: -1 }, 'retries must be an integer from 0 to 10, got -1'],
    [{ ...base, retryDelay: Infinity }, 'retryDelay must be a number of ms, 0 or more, got null'],
    [{ ...base, expiryMargin: -5 }, 'expiryMargin must be a number of ms, 0 or more, got -5'],
    [{ ...base, isSessionExpired: 401 as unknown as () => boolean }, 'isSessionExpired must be a function, got 401'],
  ])('createAuth(%j) throws a TypeError naming the option', (options, message) => {
    expect(() => createAuth(options as AuthOptions)).toThrow(TypeError);
    expect(() => createAuth(options as AuthOptions)).toThrow(`createAuth: ${message}`);
  });

  test('a per-call timeout of 0 rejects with a TypeError instead of failing at once', async () => {
    const auth = makeAuth(fake);
    const error = await rejectionOf(auth.request({ url: '/api/me', timeout: 0 }));

    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('GET https://api.test/api/me: timeout must be a number of ms above 0, got 0');
    expect(wxCalls()).toBe(0);
  });
});

describe('answers the service cannot judge', () => {
  test('an isSessionExpired that throws rejects with an HTTP AuthError carrying the answer, and logs no one in', async () => {
    const bug = new TypeError("Cannot read properties of null (reading 'code')");
    const auth = makeAuth(fake, {
      isSessionExpired: () => {
        throw bug;
      },
    });
    const error = await rejectionOf(auth.request({ url: '/api/me' }));

    expect(isAuthError(error, 'HTTP')).toBe(true);
    expect(error.cause).toBe(bug);
    expect(error.statusCode).toBe(200);
    expect(error.message).toContain('GET https://api.test/api/me: isSessionExpired threw: TypeError');
    expect(fake.stats.logins).toBe(0);
  });
});

describe('getSession', () => {
  test('hands out a frozen session: changing it throws and changes nothing the service holds', async () => {
    const auth = makeAuth(fake);
    const session = auth.getSession()!;

    expect(Object.isFrozen(session)).toBe(true);
    expect(() => ((session as { skey: string }).skey = 'forged')).toThrow(TypeError);
    expect(() => ((session as { expiresAt: number }).expiresAt = Infinity)).toThrow(TypeError);
    await auth.request({ url: '/api/me' });
    expect(fake.sent[0].skey).toBe('skey-warm');

    const fresh = await auth.login();
    expect(Object.isFrozen(fresh)).toBe(true);
    auth.updateUser({ id: 'renamed' });
    expect(Object.isFrozen(auth.getSession())).toBe(true);
    expect(auth.getSession()).toMatchObject({ skey: fresh.skey, user: { id: 'renamed' } });
  });
});
