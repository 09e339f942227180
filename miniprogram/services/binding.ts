/**
 * Binding the WeChat user to an account the platform already has (the server's bind mode): the
 * ticket the last login handed out, the bind and unbind calls, and what their failures say.
 */
import { isAuthError, type AuthClient, type BindTicket } from '../auth/index';
import { errorMessage, serverErrorCodeOf } from '../utils/error-message';
import { retryWaitText } from '../utils/retry-after';
import type { User } from '../../typings/api';

type Auth = AuthClient<User>;

export const BIND_PAGE = '/pages/bind/bind';

/** A ticket this close to its end is not worth sending: the user would meet 绑定已过期 for nothing. */
const TICKET_MARGIN_MS = 30_000;

/** Keeps the ticket of a BIND_REQUIRED error (from any login of the app) for the bind page; whether it was one. */
export function keepTicket(error: unknown): boolean {
  if (!isAuthError(error, 'BIND_REQUIRED') || !error.ticket) return false;
  getApp<IAppOption>().globalData.bindTicket = error.ticket;
  return true;
}

/**
 * For a page whose call met BIND_REQUIRED (the server unbound this WeChat user since it logged in):
 * the bind page takes this page's place, since nothing here can work until then. Whether it did.
 */
export function replaceWithBindPage(error: unknown): boolean {
  if (!keepTicket(error)) return false;
  wx.redirectTo({ url: BIND_PAGE });
  return true;
}

/** The kept ticket while it is still good, else one fetched now by a login (null if that login found the user bound). */
async function usableTicket(auth: Auth): Promise<BindTicket | null> {
  const kept = getApp<IAppOption>().globalData.bindTicket;
  if (kept && kept.expiresAt - TICKET_MARGIN_MS > Date.now()) return kept;
  try {
    await auth.login();
    return null;
  } catch (error) {
    if (keepTicket(error)) return getApp<IAppOption>().globalData.bindTicket;
    throw error;
  }
}

/**
 * Binds `account` and logs in; resolves with the user. A ticket that expired meanwhile rejects
 * BIND_REQUIRED, with a fresh ticket kept for the next try (the page says 绑定已过期).
 */
export async function bindAccount(auth: Auth, account: string, password: string): Promise<User> {
  const ticket = await usableTicket(auth);
  if (!ticket) return auth.getSession()!.user;
  try {
    const { user } = await auth.bind({ bindTicket: ticket.bindTicket, account, password });
    getApp<IAppOption>().globalData.bindTicket = null;
    return user;
  } catch (error) {
    keepTicket(error);
    throw error;
  }
}

/** Unbinds the account from this WeChat user; the user is then logged out here. */
export function unbindAccount(auth: Auth): Promise<void> {
  return auth.unbind();
}

/** What the bind page says when a bind fails. */
export function bindErrorMessage(error: unknown): string {
  const code = serverErrorCodeOf(error);
  if (isAuthError(error, 'BIND_REQUIRED') || code === 'INVALID_BIND_TICKET') return '绑定已过期，请再提交一次';
  if (code === 'RATE_LIMITED') {
    const wait = retryWaitText(error);
    return wait ? `尝试次数过多，请 ${wait}后再试` : '尝试次数过多，请稍后再试';
  }
  return errorMessage(error);
}
