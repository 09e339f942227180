/**
 * A page that shows who is logged in (首页, 我的, 账号与安全), kept in step with the auth service:
 * attached, it shows the stored session's user and follows every login, logout and expiry;
 * detached, it stops following. `refreshUser` reads the user from the server again, for a page's
 * onShow (a profile edited or a phone bound on another device since).
 *
 * The page defines `showUser` (what it renders for a user; the behaviour's own only sets `user`)
 * and, to say more about a change (an expiry's hint), `onSessionChange`: a page's method replaces
 * its behaviour's of the same name.
 */
import { appAuth } from '../services/app-context';
import { fetchProfile } from '../services/profile';
import { dropSubscription, keepSubscription, watchSession, type SessionChange } from '../services/session-watch';
import type { User } from '../../typings/api';

export const sessionUser = Behavior({
  data: {
    user: null as User | null,
  },

  lifetimes: {
    attached() {
      const auth = appAuth();
      keepSubscription(this, watchSession(auth, (user, change) => this.onSessionChange(user, change)));
      const session = auth.getSession();
      this.showUser(session ? session.user : null);
    },
    detached() {
      dropSubscription(this);
    },
  },

  methods: {
    showUser(user: User | null) {
      this.setData({ user });
    },

    onSessionChange(user: User | null, change: SessionChange) {
      void change;
      this.showUser(user);
    },

    /**
     * The user as the server has it now, shown; nothing to do while logged out. An answer for
     * someone no longer logged in here (a logout, or another login, while it travelled) is not
     * shown: the page follows the session. Rejects as the request does, for the page to say (or
     * not) what failed.
     */
    refreshUser(): Promise<void> {
      const auth = appAuth();
      if (!auth.getSession()) return Promise.resolve();
      return fetchProfile(auth).then((user) => {
        const session = auth.getSession();
        if (session && session.user.id === user.id) this.showUser(user);
      });
    },
  },
});
