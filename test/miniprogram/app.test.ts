/**
 * The app's launch (miniprogram/app.ts): the silent login, and on a server that asks for a bind,
 * the bind page with the ticket kept. The app's own auth client talks to a fresh fake server.
 */
import type { AuthClient, AuthError, BindTicket } from '../../miniprogram/auth/index';
import type { User } from '../../typings/api';
import { createFakeWx, type FakeWx } from '../support/fake-wx';
import { platform } from './support/platform';
import { waitFor } from './support/render';

// The fake server's address (BASE_URL of fake-wx.ts): a jest.mock factory cannot read imports.
jest.mock('../../miniprogram/utils/environment', () => ({ apiBaseUrl: () => 'https://api.test' }));

/** What app.ts hands App(): IAppOption (typings/index.d.ts) and its launch. */
interface AppOptions {
  globalData: { launchError: AuthError | null; bindTicket: BindTicket | null };
  auth: AuthClient<User>;
  onLaunch(): void;
}
let app: AppOptions;
let fake: FakeWx;

beforeEach(() => {
  fake = createFakeWx();
  const g = globalThis as unknown as Record<string, unknown>;
  g.App = (options: AppOptions) => (app = options);
  g.getApp = () => app;
  // What app.ts's client reaches through the global wx: the fake's network and storage.
  const { login, request, getStorageSync, setStorageSync, removeStorageSync } = fake.wx;
  Object.assign(wx, { login, request, getStorageSync, setStorageSync, removeStorageSync });
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- app.ts registers itself with App() as it loads, once per test
    require('../../miniprogram/app');
  });
});

const auth = (): AuthClient<User> => app.auth;

describe('app launch', () => {
  test('logs in silently, and opens nothing', async () => {
    app.onLaunch();

    await waitFor(() => expect(auth().getSession()).not.toBeNull());
    expect(fake.stats.logins).toBe(1);
    expect(platform().navigations).toEqual([]);
    expect(app.globalData.launchError).toBeNull();
  });

  test('on a server that asks for a bind, opens the bind page with the ticket kept, after one login', async () => {
    fake.binding.required = true;

    app.onLaunch();

    await waitFor(() => expect(platform().navigations).toEqual([{ api: 'navigateTo', url: '/pages/bind/bind' }]));
    expect(app.globalData.bindTicket).toMatchObject({ bindTicket: 'ticket-1' });
    expect(app.globalData.launchError).toMatchObject({ code: 'BIND_REQUIRED' });
    expect(fake.stats.logins).toBe(1);
  });

  test('after a logout, the next launch logs nobody in and opens nothing', async () => {
    fake.binding.required = true;
    fake.storage.set('app_signed_out', 'true');

    app.onLaunch();

    // A login begun at launch would be what ready() waits for.
    await expect(auth().ready()).resolves.toBeNull();
    expect(fake.stats.logins).toBe(0);
    expect(platform().navigations).toEqual([]);
  });
});

describe('the app’s auth client', () => {
  test('takes a 401 naming another code than SESSION_EXPIRED for a failure of the call: no login, no resend', async () => {
    app.onLaunch();
    await waitFor(() => expect(auth().getSession()).not.toBeNull());
    fake.route('/api/account/delete', () => ({ statusCode: 401, data: { error: { code: 'INVALID_CODE', message: 'not this user’s code' } } }));

    await expect(auth().request({ url: '/api/account/delete', method: 'POST', data: { code: 'code-x' } })).rejects.toMatchObject({ code: 'HTTP', statusCode: 401 });

    expect(fake.sentTo('/api/account/delete')).toHaveLength(1);
    expect(fake.stats.logins).toBe(1);
    expect(auth().getSession()).not.toBeNull();
  });

  test('still heals a 401 SESSION_EXPIRED with one login and one retry', async () => {
    app.onLaunch();
    await waitFor(() => expect(auth().getSession()).not.toBeNull());
    fake.expireAllSessions();

    await expect(auth().request({ url: '/api/orders' })).resolves.toMatchObject({ statusCode: 200 });

    expect(fake.sentTo('/api/orders')).toHaveLength(2);
    expect(fake.stats.logins).toBe(2);
  });
});
