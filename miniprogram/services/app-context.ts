/**
 * How pages reach the app's single auth client. Read through getApp() when called, never at
 * import, so a page module can load before App() has run (and in tests, with a fake app).
 */
import type { AuthClient, AuthError } from '../auth/index';
import type { User } from '../../typings/api';

export function appAuth(): AuthClient<User> {
  return getApp<IAppOption>().auth;
}

/** Why the silent login at launch failed, if it did and nothing has logged in since. */
export function launchError(): AuthError | null {
  return getApp<IAppOption>().globalData.launchError;
}
