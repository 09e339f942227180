/// <reference path="./api.d.ts" />
import type { AuthClient } from '../miniprogram/auth/index';
import type { User } from './api';

declare global {
  /** The app instance, as `getApp<IAppOption>()` returns it. */
  interface IAppOption {
    globalData: Record<string, never>;
    /** The app's single auth client, pointed at the configured server. */
    auth: AuthClient<User>;
  }
}
