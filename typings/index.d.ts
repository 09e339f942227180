/// <reference path="./api.d.ts" />
import type { AuthClient, AuthError, BindTicket } from '../miniprogram/auth/index';
import type { User } from './api';

declare global {
  /** The app instance, as `getApp<IAppOption>()` returns it. */
  interface IAppOption {
    globalData: {
      /** Why the silent login at launch failed; null once any login succeeds. */
      launchError: AuthError | null;
      /** The ticket of the last login that asked for a bind (the server's bind mode), for the bind page. */
      bindTicket: BindTicket | null;
    };
    /** The app's single auth client, pointed at the configured server. */
    auth: AuthClient<User>;
  }
}
