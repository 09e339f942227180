/**
 * Platform accounts and bind tickets (bind mode), the same cases on every store that keeps them:
 * memory (the test double), SQLite, PostgreSQL and MariaDB, and the SQL database as the user
 * database of sessions in Redis.
 */
import type { BindTicketRecord, NewAccount, Stores } from '../../server/stores/types';
import { eachStore, storesForEachTest, type OpenStores } from './helpers-databases';
import type { FakeClock } from './helpers';

const MINUTE = 60_000;

const account = (name: string, overrides: Partial<NewAccount> = {}): NewAccount => ({ name, displayName: `名 ${name}`, roles: ['staff'], passwordHash: `$scrypt$hash-of-${name}`, ...overrides });

function accountContract(open: OpenStores) {
  let clock: FakeClock;
  let stores: Stores;
  storesForEachTest(open, (opened) => ({ stores, clock } = opened));

  let tickets = 0;
  const ticket = (openid: string, overrides: Partial<BindTicketRecord> = {}): BindTicketRecord => ({
    ticketHash: (++tickets).toString(16).padStart(64, '0'),
    openid,
    sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==',
    expiresAt: clock.now() + 10 * MINUTE,
    ...overrides,
  });
  const created = async (name: string, overrides: Partial<NewAccount> = {}) => {
    const result = await stores.accounts.create(account(name, overrides));
    if (!result.ok) throw new Error(`account ${name} not created`);
    return result.account;
  };

  describe('accounts', () => {
    it('creates an account as a user of its own: found by name, listed unbound, and its user carries the account and its roles', async () => {
      const made = await created('T1001');
      expect(made).toMatchObject({ name: 'T1001', displayName: '名 T1001', roles: ['staff'], disabled: false, passwordHash: '$scrypt$hash-of-T1001', createdAt: clock.now() });
      expect(await stores.accounts.byName('T1001')).toEqual(made);
      expect(await stores.accounts.byName('T1002')).toBeNull();
      const { passwordHash: _hash, ...summary } = made;
      expect(await stores.accounts.list()).toEqual([{ ...summary, bound: false }]);
      expect(await stores.users.get(made.userId)).toMatchObject({ id: made.userId, openid: '', roles: ['staff'], account: { name: 'T1001', displayName: '名 T1001', disabled: false } });
    });

    it('refuses a taken name, and of 10 concurrent creations of one name makes exactly one account', async () => {
      await created('dup');
      expect(await stores.accounts.create(account('dup'))).toEqual({ ok: false, reason: 'NAME_TAKEN' });
      const results = await Promise.all(Array.from({ length: 10 }, () => stores.accounts.create(account('race'))));
      expect(results.filter((result) => result.ok)).toHaveLength(1);
      expect(results.filter((result) => !result.ok)).toHaveLength(9);
      expect((await stores.accounts.list()).map((listed) => listed.name)).toEqual(['dup', 'race']);
    });

    it('lists accounts by name', async () => {
      for (const name of ['b', 'c', 'a']) await created(name);
      expect((await stores.accounts.list()).map((listed) => listed.name)).toEqual(['a', 'b', 'c']);
    });

    it('changes the password hash, the disabled flag and the roles, stamping updatedAt; null for an unknown name', async () => {
      const made = await created('T2');
      clock.advance(1000);
      expect(await stores.accounts.setPasswordHash('T2', '$scrypt$new')).toMatchObject({ passwordHash: '$scrypt$new', updatedAt: made.createdAt + 1000 });
      expect(await stores.accounts.setDisabled('T2', true)).toMatchObject({ disabled: true });
      expect(await stores.accounts.setRoles('T2', ['member', 'staff'])).toMatchObject({ roles: ['member', 'staff'] });
      expect(await stores.users.get(made.userId)).toMatchObject({ roles: ['member', 'staff'], account: { disabled: true } });
      expect(await stores.accounts.setDisabled('T2', false)).toMatchObject({ disabled: false });
      for (const change of [stores.accounts.setPasswordHash('nobody', 'x'), stores.accounts.setDisabled('nobody', true), stores.accounts.setRoles('nobody', [])]) {
        expect(await change).toBeNull();
      }
    });

    it('the session lookup carries the account: a session of the account’s user sees its name, flag and roles', async () => {
      const made = await created('T3');
      const at = clock.now();
      await stores.sessions.create({ skeyHash: 'f'.repeat(64), userId: made.userId, sessionKey: 'k', createdAt: at, lastSeenAt: at, expiresAt: at + MINUTE });
      expect((await stores.sessions.touch('f'.repeat(64)))?.user).toMatchObject({ roles: ['staff'], account: { name: 'T3', disabled: false } });
      await stores.accounts.setDisabled('T3', true);
      expect((await stores.sessions.touch('f'.repeat(64)))?.user.account).toEqual({ name: 'T3', displayName: '名 T3', disabled: true });
    });
  });

  describe('bind tickets', () => {
    it('finds nobody for an unknown WeChat identity and creates nothing', async () => {
      expect(await stores.users.find({ openid: 'o-unknown', unionid: 'u-unknown' })).toBeNull();
      expect(await stores.users.find({ openid: 'o-unknown' })).toBeNull();
    });

    it('redeems a live ticket once: the WeChat identity and unionid are bound to the account’s user, who logins then find', async () => {
      const made = await created('T10');
      const held = ticket('o-10', { unionid: 'u-10' });
      await stores.bindTickets.issue(held);
      expect(await stores.bindTickets.isLive(held.ticketHash)).toBe(true);

      const outcome = await stores.bindTickets.redeem(held.ticketHash, made.userId);
      expect(outcome).toMatchObject({ ok: true, sessionKey: 'tiihtNczf5v6AKRyjwEUhQ==', user: { id: made.userId, openid: 'o-10', unionid: 'u-10', account: { name: 'T10' } } });
      expect(await stores.bindTickets.isLive(held.ticketHash)).toBe(false);
      expect(await stores.bindTickets.redeem(held.ticketHash, made.userId)).toEqual({ ok: false, reason: 'INVALID_BIND_TICKET' });
      expect((await stores.users.find({ openid: 'o-10' }))?.id).toBe(made.userId);
      expect((await stores.users.find({ openid: 'o-other-app', unionid: 'u-10' }))?.id).toBe(made.userId);
      expect((await stores.accounts.list())[0].bound).toBe(true);
    });

    it('of 20 concurrent redeems of one ticket, exactly one binds and 19 find it used', async () => {
      const made = await created('T20');
      const held = ticket('o-20');
      await stores.bindTickets.issue(held);
      const outcomes = await Promise.all(Array.from({ length: 20 }, () => stores.bindTickets.redeem(held.ticketHash, made.userId)));
      expect(outcomes.filter((outcome) => outcome.ok)).toHaveLength(1);
      expect(outcomes.filter((outcome) => !outcome.ok && outcome.reason === 'INVALID_BIND_TICKET')).toHaveLength(19);
    });

    it('refuses an expired ticket and an unknown one, binding nothing', async () => {
      const made = await created('T30');
      const held = ticket('o-30');
      await stores.bindTickets.issue(held);
      clock.advance(10 * MINUTE);
      expect(await stores.bindTickets.isLive(held.ticketHash)).toBe(false);
      expect(await stores.bindTickets.redeem(held.ticketHash, made.userId)).toEqual({ ok: false, reason: 'INVALID_BIND_TICKET' });
      expect(await stores.bindTickets.redeem('e'.repeat(64), made.userId)).toEqual({ ok: false, reason: 'INVALID_BIND_TICKET' });
      expect(await stores.users.find({ openid: 'o-30' })).toBeNull();
    });

    it('refuses an account already bound to a WeChat user, and leaves that ticket usable for another account', async () => {
      const first = await created('T40');
      const second = await created('T41');
      const mine = ticket('o-40');
      const theirs = ticket('o-41');
      await stores.bindTickets.issue(mine);
      await stores.bindTickets.issue(theirs);
      expect((await stores.bindTickets.redeem(mine.ticketHash, first.userId)).ok).toBe(true);
      expect(await stores.bindTickets.redeem(theirs.ticketHash, first.userId)).toEqual({ ok: false, reason: 'ACCOUNT_ALREADY_BOUND' });
      expect(await stores.bindTickets.isLive(theirs.ticketHash)).toBe(true);
      expect(await stores.bindTickets.redeem(theirs.ticketHash, second.userId)).toMatchObject({ ok: true, user: { id: second.userId, openid: 'o-41' } });
    });

    it('refuses a second ticket of a WeChat user that another ticket bound meanwhile, consuming it', async () => {
      const first = await created('T50');
      const second = await created('T51');
      const one = ticket('o-50');
      const two = ticket('o-50');
      await stores.bindTickets.issue(one);
      await stores.bindTickets.issue(two);
      expect((await stores.bindTickets.redeem(one.ticketHash, first.userId)).ok).toBe(true);
      expect(await stores.bindTickets.redeem(two.ticketHash, second.userId)).toEqual({ ok: false, reason: 'INVALID_BIND_TICKET' });
      expect(await stores.bindTickets.isLive(two.ticketHash)).toBe(false);
      expect((await stores.users.find({ openid: 'o-50' }))?.id).toBe(first.userId);
    });

    it('unbinding removes the WeChat identities: the WeChat user is found no more, the account is listed unbound and can be bound again', async () => {
      const made = await created('T60');
      const held = ticket('o-60', { unionid: 'u-60' });
      await stores.bindTickets.issue(held);
      await stores.bindTickets.redeem(held.ticketHash, made.userId);

      expect(await stores.accounts.unbind(made.userId)).toBe(2);
      expect(await stores.users.find({ openid: 'o-60' })).toBeNull();
      expect(await stores.users.find({ openid: 'o-x', unionid: 'u-60' })).toBeNull();
      expect(await stores.accounts.list()).toMatchObject([{ name: 'T60', bound: false }]);
      expect(await stores.users.get(made.userId)).toMatchObject({ id: made.userId, account: { name: 'T60' } });
      expect(await stores.accounts.unbind(made.userId)).toBe(0);

      const again = ticket('o-60');
      await stores.bindTickets.issue(again);
      expect((await stores.bindTickets.redeem(again.ticketHash, made.userId)).ok).toBe(true);
    });
  });
}

eachStore('account stores', accountContract);
