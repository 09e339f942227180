/** The WeChat environment the app runs in, and the server address config.ts gives it. */
import { API_BASE_URLS, type EnvVersion } from '../config';

/** The running environment; "release" when WeChat cannot say, so an unknown build never talks to a dev server. */
export function envVersion(): EnvVersion {
  try {
    const env = wx.getAccountInfoSync().miniProgram.envVersion;
    return env in API_BASE_URLS ? env : 'release';
  } catch {
    return 'release';
  }
}

export function apiBaseUrl(env: EnvVersion = envVersion()): string {
  return API_BASE_URLS[env];
}
