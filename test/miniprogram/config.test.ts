import { API_BASE_URLS } from '../../miniprogram/config';
import { apiBaseUrl, envVersion } from '../../miniprogram/utils/environment';

type AccountInfo = ReturnType<typeof wx.getAccountInfoSync>;
const w = wx as unknown as { getAccountInfoSync: () => AccountInfo };
const original = w.getAccountInfoSync;
afterEach(() => {
  w.getAccountInfoSync = original;
});

function runningAs(envVersion: unknown) {
  w.getAccountInfoSync = () => ({ miniProgram: { appId: 'touristappid', envVersion, version: '' } }) as unknown as AccountInfo;
}

describe('the server address per WeChat environment', () => {
  test('develop (DevTools, preview on a phone) talks to the local developer server', () => {
    runningAs('develop');
    expect(apiBaseUrl()).toBe('http://127.0.0.1:3000');
  });

  test.each(['trial', 'release'])('%s talks to an HTTPS server', (env) => {
    runningAs(env);
    expect(envVersion()).toBe(env);
    expect(apiBaseUrl()).toBe(API_BASE_URLS[env as 'trial' | 'release']);
    expect(apiBaseUrl()).toMatch(/^https:\/\//);
  });

  test('an environment WeChat cannot name is treated as release, never as a development server', () => {
    runningAs('something-new');
    expect(apiBaseUrl()).toBe(API_BASE_URLS.release);
    w.getAccountInfoSync = () => {
      throw new Error('getAccountInfoSync:fail');
    };
    expect(apiBaseUrl()).toBe(API_BASE_URLS.release);
  });
});
