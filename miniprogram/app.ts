import { createAuth, isAuthError } from './auth/index';
import { apiBaseUrl } from './utils/environment';
// Registers the app's one wx.onNeedPrivacyAuthorization listener before any page can need it.
import './services/privacy';
import type { User } from '../typings/api';

/** Set when the user logs out, so the next launch respects that instead of logging in silently. */
const SIGNED_OUT_KEY = 'app_signed_out';

App<IAppOption>({
  globalData: { launchError: null },
  auth: createAuth<User>({ baseURL: apiBaseUrl() }),

  onLaunch() {
    const { auth, globalData } = this;
    auth.on('login', () => {
      globalData.launchError = null;
      wx.removeStorageSync(SIGNED_OUT_KEY);
    });
    auth.on('logout', () => wx.setStorageSync(SIGNED_OUT_KEY, true));

    if (wx.getStorageSync(SIGNED_OUT_KEY)) return;
    // Not awaited: pages render at once and follow the auth events. A failure is kept for pages
    // to explain when the user next needs to log in, and logged for the developer.
    auth.ensureSession().catch((error: unknown) => {
      if (isAuthError(error)) globalData.launchError = error;
      console.warn('[app] silent login at launch failed', error);
    });
  },
});
