/**
 * The user's menu, as the server decides it from their roles (the login and session answers'
 * `menus`). Read from GET /auth/session, so that a role given or taken since the login shows.
 */
import type { AuthClient } from '../auth/index';
import type { MenuItem, SessionResponse, User } from '../../typings/api';

/** A menu entry the app can open: a page of this mini-program, by its absolute path. */
const PAGE_PATH = /^\/pages\/[\w-]+\/[\w-]+$/;

/** The menus of the logged-in user, leaving out any entry this version of the app could not open. */
export async function fetchMenus(auth: AuthClient<User>): Promise<{ user: User; menus: MenuItem[] }> {
  const { data } = await auth.request<SessionResponse>({ url: '/auth/session' });
  if (!data || !data.user) throw new Error('GET /auth/session answered without a user');
  const menus = Array.isArray(data.menus) ? data.menus.filter((m) => m && typeof m.title === 'string' && PAGE_PATH.test(m.path)) : [];
  return { user: data.user, menus };
}
