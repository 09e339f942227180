import { runAccountCommand, type AccountsContext } from '../../../server/operator/accounts-actions';
import { CommandError, EXIT } from '../../../server/operator/accounts-arguments';
import { createMemoryStores } from '../../../server/stores/memory';
import type { SessionRecord } from '../../../server/stores/types';
import { fakeClock } from '../helpers';

/** The memory stores, a password source that counts how often it was asked, and a hash that costs nothing. */
function context() {
  const clock = fakeClock();
  const stores = createMemoryStores({ now: clock.now, sessionIdleMs: 3_600_000 });
  const asked = { count: 0 };
  const ctx: AccountsContext = {
    stores,
    newPassword: async () => (asked.count++, 'a-good-password'),
    hash: async (password) => `hashed:${password.length}`,
  };
  const session = (userId: string, n: number): SessionRecord => ({ skeyHash: `${userId}-${n}`, userId, sessionKey: 'k', createdAt: clock.now(), lastSeenAt: clock.now(), expiresAt: clock.now() + 86_400_000 });
  return { ctx, stores, asked, session };
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(CommandError);
      return error as CommandError;
    },
  );

describe('the accounts commands on the stores', () => {
  it('disable ends every live session of the account\'s user and says how many; a second disable says it was disabled already', async () => {
    const { ctx, stores, session } = context();
    await runAccountCommand({ kind: 'add', name: 'E1', displayName: '张三', roles: ['staff'] }, ctx);
    await runAccountCommand({ kind: 'add', name: 'E2', displayName: '李四', roles: [] }, ctx);
    const { userId } = (await stores.accounts.byName('E1'))!;
    const other = (await stores.accounts.byName('E2'))!.userId;
    await stores.sessions.create(session(userId, 1));
    await stores.sessions.create(session(userId, 2));
    await stores.sessions.create(session(other, 1));

    expect(await runAccountCommand({ kind: 'disable', name: 'E1' }, ctx)).toBe('disabled E1: it can no longer bind or log in; 2 sessions ended\n');
    expect(await stores.sessions.touch(`${userId}-1`)).toBeNull();
    expect(await stores.sessions.touch(`${other}-1`)).not.toBeNull();
    expect(await runAccountCommand({ kind: 'disable', name: 'E1' }, ctx)).toBe('E1 was disabled already: it can no longer bind or log in; 0 sessions ended\n');
    expect(await runAccountCommand({ kind: 'enable', name: 'E1' }, ctx)).toBe('enabled E1\n');
    expect(await runAccountCommand({ kind: 'enable', name: 'E1' }, ctx)).toBe('E1 was enabled already\n');
  });

  it('keeps an account disabled when its sessions cannot be ended, and says so with exit 1 so that the operator runs it again', async () => {
    const { ctx, stores } = context();
    await runAccountCommand({ kind: 'add', name: 'E1', displayName: '张三', roles: [] }, ctx);
    const failing: AccountsContext = { ...ctx, stores: { ...stores, sessions: { ...stores.sessions, deleteAllOf: () => Promise.reject(Object.assign(new Error('storage is unavailable, try again later'), { cause: new Error('connect ECONNREFUSED') })) } } };
    const error = await refusal(runAccountCommand({ kind: 'disable', name: 'E1' }, failing));
    expect(error.exitCode).toBe(EXIT.storeFailed);
    expect(error.message).toBe('disabled E1 (it can no longer bind or log in), but its sessions could not be ended: storage is unavailable, try again later (connect ECONNREFUSED); run the command again');
    expect((await stores.accounts.byName('E1'))!.disabled).toBe(true);
  });

  it('asks for no password when add meets a taken name or passwd an unknown account', async () => {
    const { ctx, asked } = context();
    await runAccountCommand({ kind: 'add', name: 'E1', displayName: '张三', roles: [] }, ctx);
    expect(asked.count).toBe(1);
    expect((await refusal(runAccountCommand({ kind: 'add', name: 'E1', displayName: '李四', roles: [] }, ctx))).exitCode).toBe(EXIT.accountExists);
    expect((await refusal(runAccountCommand({ kind: 'passwd', name: 'E404' }, ctx))).exitCode).toBe(EXIT.noSuchAccount);
    expect(asked.count).toBe(1);
  });

  it('unbind removes the WeChat identities of the account\'s user and ends its sessions; an account bound to nobody says so', async () => {
    const { ctx, stores, session } = context();
    await runAccountCommand({ kind: 'add', name: 'E1', displayName: '张三', roles: [] }, ctx);
    const { userId } = (await stores.accounts.byName('E1'))!;
    expect(await runAccountCommand({ kind: 'unbind', name: 'E1' }, ctx)).toBe('E1 was bound to no WeChat user; 0 sessions ended\n');

    const ticketHash = 'a'.repeat(64);
    await stores.bindTickets.issue({ ticketHash, openid: 'o-e1', sessionKey: 'session-key', expiresAt: Date.UTC(2030, 0, 1) });
    expect(await stores.bindTickets.redeem(ticketHash, userId)).toMatchObject({ ok: true });
    await stores.sessions.create(session(userId, 1));
    expect((await stores.accounts.list())[0].bound).toBe(true);

    expect(await runAccountCommand({ kind: 'unbind', name: 'E1' }, ctx)).toBe('unbound E1 from its WeChat user: 1 session ended; the next login of that WeChat user must bind again\n');
    expect((await stores.accounts.list())[0].bound).toBe(false);
    expect(await stores.users.find({ openid: 'o-e1' })).toBeNull();
  });
});
