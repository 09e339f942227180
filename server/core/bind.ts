/**
 * Bind mode (ACCOUNT_MODE=bind): WeChat users bind to platform accounts that existed before the
 * mini-program (a staff number, a student number, a member id). A login that finds no user gets
 * a bind ticket instead of a new user; POST /auth/bind turns ticket + account + password into a
 * binding and a session; DELETE /auth/binding undoes it. No web framework in here: the login
 * service wires it, the adapters mount its routes.
 */
import type { BindRequest, BindRequiredResponse, LoginResponse, UnbindResponse } from '../../typings/api';
import { enforceLimit } from '../limits';
import type { PasswordChecker } from '../passwords';
import { hashSkey, newSkey, type Authenticated } from '../session';
import type { Clock, MaybePromise, Stores, UserRecord, WeChatIdentity } from '../stores/types';
import { clientKey } from './client-key';
import { refuseIfShutOut } from '../blocking';
import { ApiError } from './errors';

/** `open`: a WeChat login creates its user. `bind`: only platform accounts exist, and WeChat users bind to them. */
export type AccountMode = 'open' | 'bind';

/**
 * What happened to a binding, for the audit trail (the host's `onAccountEvent`): who, which
 * account, from where. Called after the change is stored; what it throws is logged, not answered.
 */
export interface AccountEvent {
  type: 'bind' | 'unbind';
  at: number;
  userId: string;
  /** The platform account's name. */
  account: string;
  /** The client's address as the host's trusted proxies saw it. */
  clientAddress?: string;
}

export interface BindSettings {
  stores: Stores;
  now: Clock;
  passwords: PasswordChecker;
  /** A bind ticket is refused this long after its login. */
  ticketLifetimeMs: number;
  /** Failed bind attempts per account, and per client address, in any sliding window of failureWindowMs; a success clears the account's, and does not count against the address. */
  failureLimit: number;
  failureWindowMs: number;
  authenticate(authorization: string | undefined): MaybePromise<Authenticated>;
  /** The session a successful bind starts, answered as a login is. */
  startSession(user: UserRecord, sessionKey: string): Promise<LoginResponse>;
  onAccountEvent?: (event: AccountEvent) => MaybePromise<void>;
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface Binding {
  /** The login answer for a WeChat identity that found no user: a ticket for it, valid ticketLifetimeMs. */
  ticketFor(identity: WeChatIdentity, sessionKey: string): Promise<BindRequiredResponse>;
  bind(request: BindRequest, client: { address?: string }): Promise<LoginResponse>;
  unbind(authorization: string | undefined, client: { address?: string }): Promise<UnbindResponse>;
}

/** A ticket as newSkey makes them: 256 random bits, URL-safe. */
const TICKET = /^[A-Za-z0-9_-]{43}$/;

const invalidTicket = () => new ApiError('INVALID_BIND_TICKET', 'the bind ticket is unknown, used or expired: log in again for a new one');

/** 403 USER_BLOCKED for a disabled platform account or a blocked user, at bind: the one check of blocking.ts that login and authentication make too. */
export const refuseDisabled = refuseIfShutOut;

export function createBinding(settings: BindSettings): Binding {
  const { stores, now, passwords, failureLimit, failureWindowMs } = settings;
  const limited = 'too many failed attempts, try again later';

  const report = async (event: AccountEvent) => {
    try {
      await settings.onAccountEvent?.(event);
    } catch (error) {
      settings.warn({ err: error instanceof Error ? error.message : String(error), event: event.type }, 'onAccountEvent failed; the change itself is stored');
    }
  };

  return {
    async ticketFor({ openid, unionid }, sessionKey) {
      // Same generator as skeys: 256 random bits. Only its hash is stored.
      const bindTicket = newSkey();
      const expiresAt = now() + settings.ticketLifetimeMs;
      await stores.bindTickets.issue({ ticketHash: hashSkey(bindTicket), openid, ...(unionid === undefined ? {} : { unionid }), sessionKey, expiresAt });
      return { bindRequired: true, bindTicket, expiresAt };
    },

    async bind(request, client) {
      const { bindTicket, account: typed, password } = (request ?? {}) as Partial<BindRequest>;
      // NFC, as `npm run accounts` stores names: 工号 typed with a decomposed accent is the same account.
      const name = typeof typed === 'string' ? typed.normalize('NFC') : typed;
      if (typeof name !== 'string' || name === '' || name.length > 64 || typeof password !== 'string' || password === '' || password.length > 256 || typeof bindTicket !== 'string') {
        throw new ApiError('BAD_REQUEST', 'bindTicket, account (1 to 64 characters) and password (1 to 256) are required');
      }
      // A ticket that cannot be used is said at once, and costs no attempt: it reveals nothing of any account.
      if (!TICKET.test(bindTicket)) throw invalidTicket();
      const ticketHash = hashSkey(bindTicket);
      if (!(await stores.bindTickets.isLive(ticketHash))) throw invalidTicket();

      // Counted before the password is checked, so that concurrent guesses cannot get past the cap.
      const accountKey = `bind-account:${name}`;
      const addressKey = `bind-client:${clientKey(client.address)}`;
      await enforceLimit(stores.limits, addressKey, failureLimit, failureWindowMs, limited);
      await enforceLimit(stores.limits, accountKey, failureLimit, failureWindowMs, limited);

      const account = await stores.accounts.byName(name);
      // An unknown account pays the same hash as a known one (PasswordChecker's dummy): one answer, one cost.
      const matches = await passwords.check(password, account?.passwordHash ?? null);
      if (!account || !matches) throw new ApiError('INVALID_CREDENTIALS', 'the account or the password is wrong');
      if (account.disabled) throw new ApiError('USER_BLOCKED', 'this account is disabled');

      const outcome = await stores.bindTickets.redeem(ticketHash, account.userId);
      if (!outcome.ok) {
        if (outcome.reason === 'ACCOUNT_ALREADY_BOUND') throw new ApiError('ACCOUNT_ALREADY_BOUND', 'this account is already bound to another WeChat user');
        throw invalidTicket();
      }
      // The bind stands whatever happens to these: a count left behind only runs out with its window.
      // The account's failures are cleared; the address gets back only this attempt's place (an
      // office behind one NAT address binds freely), never its failures: one valid account must
      // not wipe the count of a spray over others from the same address.
      const warnThat = (message: string) => (error: unknown) => settings.warn({ err: error instanceof Error ? error.message : String(error) }, message);
      await stores.limits.reset(accountKey).catch(warnThat('clearing the account’s failed binds failed; they expire with their window'));
      await stores.limits.refund(addressKey).catch(warnThat('giving the client address back this bind’s attempt failed; it expires with its window'));
      if (passwords.needsRehash(account.passwordHash)) {
        // Stored under the current parameters now that the password is known; the bind stands either way.
        try {
          await stores.accounts.setPasswordHash(name, await passwords.hash(password));
        } catch (error) {
          settings.warn({ err: error instanceof Error ? error.message : String(error) }, 'upgrading a password hash failed; the old one still works');
        }
      }
      await report({ type: 'bind', at: now(), userId: outcome.user.id, account: name, ...(client.address === undefined ? {} : { clientAddress: client.address }) });
      // No session_key (the ticket's was sealed under a key since rotated): a session without one
      // serves everything but user-data checks, which answer 401 and bring a fresh login.
      return settings.startSession(outcome.user, outcome.sessionKey ?? '');
    },

    async unbind(authorization, client) {
      const { user } = await settings.authenticate(authorization);
      if (!user.account) throw new ApiError('NOT_FOUND', 'this user is bound to no platform account');
      // Identities first: a login racing with this finds nobody, and cannot start a session the next step misses.
      await stores.accounts.unbind(user.id);
      await stores.sessions.deleteAllOf(user.id);
      await report({ type: 'unbind', at: now(), userId: user.id, account: user.account.name, ...(client.address === undefined ? {} : { clientAddress: client.address }) });
      return { ok: true };
    },
  };
}
