import type { FastifyInstance } from 'fastify';
import { createAuth } from '../../miniprogram/auth/index';
import { buildApp } from '../../server/app';
import { createNodeWx } from '../../tools/node-wx';
import type { ProfileResponse, User } from '../../typings/api';
import { testConfig } from '../server/helpers';

/**
 * What an earlier run (or anything else writing to the app's storage) left under the session key,
 * read by the real auth service talking to the real server over HTTP: a stored skey no server
 * can take (a 431 for an oversized header, a request wx cannot even send with CR/LF in a header)
 * must read as no session, or every call fails forever with no renewal.
 */
describe('a stored session the server could never accept, end to end', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), log: false });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => app.close());

  test.each([
    ['a 5 MB skey', 'k'.repeat(5 * 1024 * 1024)],
    ['an skey with CR/LF', 'k\r\nX-Injected: 1'],
  ])('%s in storage costs one login, then calls work', async (_name, skey) => {
    const wx = createNodeWx({ server: base, user: 'stored' });
    wx.setStorageSync('auth_session', { v: 1, skey, expiresAt: Date.now() + 3_600_000, user: { id: 'u-old' } });
    const auth = createAuth<User>({ baseURL: base, wx, timeout: 5000, retries: 0 });

    const first = await auth.request<ProfileResponse>({ url: '/api/profile' });
    const second = await auth.request<ProfileResponse>({ url: '/api/profile' });

    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(wx.calls.login).toBe(1);
    expect(wx.calls.request).toBe(3); // the login, then the two calls: none with the stored skey
    expect(auth.getSession()!.skey).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
