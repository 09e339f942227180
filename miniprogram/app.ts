import { createAuth, isAuthError } from './auth/index';
import { BIND_PAGE, keepTicket } from './services/binding';
import { apiBaseUrl } from './utils/environment';
import { isSessionExpiredAnswer } from './utils/session-expiry';
// Registers the app's one wx.onNeedPrivacyAuthorization listener before any page can need it.
import './services/privacy';
import type { User } from '../typings/api';

/** Set when the user logs out, so the next launch respects that instead of logging in silently. */
const SIGNED_OUT_KEY = 'app_signed_out';

App<IAppOption>({
  globalData: { launchError: null, bindTicket: null },
  auth: createAuth<User>({ baseURL: apiBaseUrl(), isSessionExpired: isSessionExpiredAnswer }),

  onLaunch() {
    const { auth, globalData } = this;
    auth.on('login', () => {
      globalData.launchError = null;
      wx.removeStorageSync(SIGNED_OUT_KEY);
    });
    auth.on('logout', () => wx.setStorageSync(SIGNED_OUT_KEY, true));
    // Whichever login learns that the server wants a bind, the bind page gets its ticket.
    auth.on('loginFailed', keepTicket);

    if (wx.getStorageSync(SIGNED_OUT_KEY)) return;
    // Not awaited: pages render at once and follow the auth events. A failure is kept for pages
    // to explain when the user next needs to log in, and logged for the developer.
    auth.ensureSession().catch((error: unknown) => {
      if (isAuthError(error)) globalData.launchError = error;
      // A mini-program for the platform's own members (the server's bind mode) asks them to bind
      // at entry, as WeChat allows for restricted audiences; the bind page's 暂不绑定 is the way out.
      if (isAuthError(error, 'BIND_REQUIRED')) wx.navigateTo({ url: BIND_PAGE });
      else console.warn('[app] silent login at launch failed', error);
    });
  },
});
