/** The account lifecycle without HTTP: what an operator's command and WeChat's events call. */
import { createLoginService, createMemoryStores, OptionError } from '../../../server/core';
import { createSimulatedWeChat } from '../../../server/core/simulator';
import type { UserRecord } from '../../../server/stores/types';
import { fakeClock } from '../helpers';

function setup(removed: UserRecord[] = []) {
  const clock = fakeClock();
  const wechat = createSimulatedWeChat({ now: clock.now });
  const stores = createMemoryStores({ now: clock.now, sessionIdleMs: 60_000 });
  const service = createLoginService({ wechat, stores, now: clock.now, userFiles: { removeAllOf: async (user) => void removed.push(user) } });
  return { clock, wechat, stores, service };
}

describe('the account lifecycle of the core', () => {
  it('deletes an account by user id for an operator: every session ends, the user is gone, the host’s files are removed for that user once', async () => {
    const removed: UserRecord[] = [];
    const { wechat, service, stores } = setup(removed);
    const first = await service.login(wechat.mintCode('by-id'));
    await service.login(wechat.mintCode('by-id'));
    const other = await service.login(wechat.mintCode('other'));

    expect(await service.accounts.deleteAccount(first.user.id, { by: 'operator' })).toEqual({ deleted: true, kept: 'nothing', sessionsEnded: 2 });
    expect(removed.map((user) => user.id)).toEqual([first.user.id]);
    expect(await stores.users.get(first.user.id)).toBeNull();
    await expect(Promise.resolve().then(() => service.session(`Bearer ${first.skey}`))).rejects.toMatchObject({ code: 'SESSION_EXPIRED' });
    expect((await service.session(`Bearer ${other.skey}`)).user.id).toBe(other.user.id);
  });

  it('does nothing for an unknown user id, and says so', async () => {
    const removed: UserRecord[] = [];
    const { service } = setup(removed);
    expect(await service.accounts.deleteAccount('nobody', { by: 'wechat' })).toEqual({ deleted: false, kept: 'nothing', sessionsEnded: 0 });
    expect(await service.accounts.exportAccount('nobody')).toBeNull();
    expect(removed).toEqual([]);
  });

  it('exports by user id with no session marked current when none asked', async () => {
    const { wechat, service, clock } = setup();
    const { user } = await service.login(wechat.mintCode('exported'));
    clock.advance(10);
    const exported = await service.accounts.exportAccount(user.id);
    // The login is on the trail (no client address given to the core here: no network).
    expect(exported).toMatchObject({ exportedAt: clock.now(), user: { id: user.id, roles: ['member'] }, account: null, audit: [{ at: clock.now() - 10, action: 'login', actor: 'user', outcome: 'ok', clientNetwork: null }] });
    expect(exported?.sessions.map((session) => session.current)).toEqual([false]);
  });

  it('refuses a userFiles option without removeAllOf, naming it', () => {
    const wechat = createSimulatedWeChat();
    expect(() => createLoginService({ wechat, userFiles: {} as never })).toThrow(new OptionError('userFiles', 'must have a removeAllOf(user) method'));
  });
});
