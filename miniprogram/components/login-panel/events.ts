import type { AuthError } from '../../auth/index';
import type { User } from '../../../typings/api';

/** `bind:login`: fired once per login attempt, whatever its outcome. */
export type LoginEventDetail = { ok: true; user: User } | { ok: false; error: AuthError; message: string };
/** `bind:profile`: the completion step saved the profile. */
export interface ProfileEventDetail {
  user: User;
}
/** `bind:phone`: the phone step bound a number; `user.phone` shows it masked. */
export interface PhoneEventDetail {
  user: User;
}
/** `bind:done`: the flow is over (logged in, profile saved or skipped); the host may move on. */
export interface DoneEventDetail {
  user: User | null;
}
export type PanelStep = 'login' | 'phone' | 'profile';

/** What a page calls on its `<login-panel>` (found with selectComponent). */
export interface LoginPanel {
  /** Shows the panel at `step` (default: login), for `user` when one is logged in. */
  open(step?: PanelStep, user?: User | null): void;
}
