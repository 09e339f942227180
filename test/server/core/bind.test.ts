/** Bind mode in the login core on its own: the limits per account and per address, the audit hook, and the options. */
import { createLoginService, createMemoryStores, OptionError } from '../../../server/core';
import { createSimulatedWeChat } from '../../../server/core/simulator';
import type { AccountEvent } from '../../../server/core/bind';
import { hashPassword } from '../../../server/passwords';
import type { BindRequiredResponse } from '../../../typings/api';
import { apiFailure, fakeClock } from '../helpers';

const MINUTE = 60_000;
const PARAMS = { logN: 11, r: 8, p: 1 };
const PASSWORD = 'pa55-word';

async function setup(options: { onAccountEvent?: (event: AccountEvent) => void } = {}) {
  const clock = fakeClock();
  const wechat = createSimulatedWeChat({ now: clock.now });
  const stores = createMemoryStores({ now: clock.now, sessionIdleMs: 30 * MINUTE });
  const warnings: string[] = [];
  const service = createLoginService({ wechat, stores, now: clock.now, accountMode: 'bind', passwordParams: PARAMS, logger: { warn: (_fields, message) => void warnings.push(message) }, ...options });
  for (const name of ['A1', 'A2']) await stores.accounts.create({ name, displayName: '', roles: [], passwordHash: await hashPassword(PASSWORD, PARAMS) });
  const ticket = async (user: string) => ((await service.login(wechat.mintCode(user))) as BindRequiredResponse).bindTicket;
  return { clock, wechat, stores, service, ticket, warnings };
}


describe('bind mode in createLoginService', () => {
  it('counts failures per account whatever the address: the 6th from a 6th address is refused', async () => {
    const { service, ticket } = await setup();
    const bindTicket = await ticket('spread');
    for (let i = 0; i < 5; i++) {
      expect((await apiFailure(() => service.bind({ bindTicket, account: 'A1', password: `no-${i}` }, { address: `198.51.100.${i}` }))).code).toBe('INVALID_CREDENTIALS');
    }
    const limited = await apiFailure(() => service.bind({ bindTicket, account: 'A1', password: PASSWORD }, { address: '198.51.100.99' }));
    expect(limited.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBe(15 * 60);
    // Another account from a fresh address is not held back by A1's failures.
    await expect(service.bind({ bindTicket, account: 'A2', password: PASSWORD }, { address: '198.51.100.100' })).resolves.toMatchObject({ user: { account: { name: 'A2' } } });
  });

  it('clears an account’s failures when it binds: five more may fail afterwards before the sixth is refused', async () => {
    const { service, ticket } = await setup();
    const first = await ticket('clear-1');
    for (let i = 0; i < 4; i++) await apiFailure(() => service.bind({ bindTicket: first, account: 'A1', password: 'no' }, { address: `203.0.113.${i}` }));
    const { skey } = await service.bind({ bindTicket: first, account: 'A1', password: PASSWORD }, { address: '203.0.113.10' });
    await service.unbind(`Bearer ${skey}`);
    const second = await ticket('clear-2');
    for (let i = 0; i < 5; i++) {
      expect((await apiFailure(() => service.bind({ bindTicket: second, account: 'A1', password: 'no' }, { address: `203.0.113.${20 + i}` }))).code).toBe('INVALID_CREDENTIALS');
    }
    expect((await apiFailure(() => service.bind({ bindTicket: second, account: 'A1', password: PASSWORD }, { address: '203.0.113.30' }))).code).toBe('RATE_LIMITED');
  });

  it('takes an attempt before checking the password: 10 concurrent guesses on one account get 5 answers of INVALID_CREDENTIALS and 5 of RATE_LIMITED', async () => {
    const { service, ticket } = await setup();
    const bindTicket = await ticket('concurrent');
    const codes = await Promise.all(Array.from({ length: 10 }, (_, i) => apiFailure(() => service.bind({ bindTicket, account: 'A1', password: `guess-${i}` }, { address: `192.0.2.${i}` })).then((error) => error.code)));
    expect(codes.filter((code) => code === 'INVALID_CREDENTIALS')).toHaveLength(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(5);
  });

  it('stores only the ticket’s hash, with the WeChat identity; the openid is in no answer', async () => {
    const { service, stores, wechat } = await setup();
    const issued: unknown[] = [];
    const issue = stores.bindTickets.issue.bind(stores.bindTickets);
    stores.bindTickets.issue = async (record) => (issued.push(record), issue(record));
    const answer = (await service.login(wechat.mintCode('hashed'))) as BindRequiredResponse;
    expect(issued).toEqual([{ ticketHash: expect.stringMatching(/^[0-9a-f]{64}$/), openid: wechat.openidFor('hashed'), sessionKey: expect.any(String), expiresAt: answer.expiresAt }]);
    expect(JSON.stringify(issued)).not.toContain(answer.bindTicket);
    expect(JSON.stringify(answer)).not.toContain(wechat.openidFor('hashed'));
  });

  it('binds all the same when the audit hook throws, and says so in a warn line', async () => {
    const { service, ticket, warnings } = await setup({
      onAccountEvent: () => {
        throw new Error('audit store away');
      },
    });
    await expect(service.bind({ bindTicket: await ticket('hooked'), account: 'A1', password: PASSWORD })).resolves.toMatchObject({ user: { account: { name: 'A1' } } });
    expect(warnings).toEqual(['onAccountEvent failed; the change itself is stored']);
  });

  it('binds all the same when the limiter cannot clear the account or give the address its attempt back, and says so in two warn lines', async () => {
    const { service, stores, ticket, warnings } = await setup();
    stores.limits.reset = async () => {
      throw new Error('limiter away');
    };
    stores.limits.refund = async () => {
      throw new Error('limiter away');
    };
    await expect(service.bind({ bindTicket: await ticket('unlimited'), account: 'A1', password: PASSWORD }, { address: '192.0.2.1' })).resolves.toMatchObject({ user: { account: { name: 'A1' } } });
    expect(warnings).toEqual(['clearing the account’s failed binds failed; they expire with their window', 'giving the client address back this bind’s attempt failed; it expires with its window']);
  });

  it('answers DELETE /auth/binding of a user without a platform account 404 NOT_FOUND, removing nothing', async () => {
    const { service, stores, wechat } = await setup();
    const { user } = await stores.users.findOrCreate({ openid: wechat.openidFor('legacy') }, () => ({ id: 'legacy', openid: wechat.openidFor('legacy'), nickname: '', avatarUrl: '', createdAt: 0 }));
    const login = await service.login(wechat.mintCode('legacy'));
    expect(login).toMatchObject({ user: { id: user.id, account: null } });
    expect((await apiFailure(() => service.unbind(`Bearer ${(login as { skey: string }).skey}`))).code).toBe('NOT_FOUND');
    expect((await stores.users.find({ openid: wechat.openidFor('legacy') }))?.id).toBe(user.id);
  });

  it.each([
    [{ accountMode: 'closed' }, 'accountMode'],
    [{ accountMode: 'bind', passwordParams: { logN: 30, r: 8, p: 1 } }, 'passwordParams'],
    [{ bindFailureLimit: 0 }, 'bindFailureLimit'],
    [{ bindTicketLifetimeMs: 10 }, 'bindTicketLifetimeMs'],
    [{ onAccountEvent: 'log it' }, 'onAccountEvent'],
  ])('refuses the option mistake %j, naming %s', (options, option) => {
    const make = () => createLoginService({ wechat: createSimulatedWeChat(), ...(options as object) });
    expect(make).toThrow(OptionError);
    expect(make).toThrow(`option ${option} `);
  });

  it('refuses bind mode on Redis stores whose user database has no accounts, naming userDatabase', () => {
    // A user database with its users and audit trail, and nothing of bind mode.
    const pick = ({ users, audit }: ReturnType<typeof createMemoryStores>) => ({ users, audit });
    const make = () =>
      createLoginService({
        wechat: createSimulatedWeChat(),
        accountMode: 'bind',
        stores: { defineCommand() {}, evalsha() {} },
        userDatabase: { ...pick(createMemoryStores({ now: Date.now, sessionIdleMs: MINUTE })), ping: async () => undefined, close: async () => undefined },
      });
    expect(make).toThrow('option userDatabase needs accounts and bindTickets in bind mode');
  });
});
