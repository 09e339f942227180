import { accountsJson, accountsTable } from '../../../server/operator/accounts-table';
import type { AccountSummary } from '../../../server/stores/types';

const account = (overrides: Partial<AccountSummary>): AccountSummary => ({
  userId: 'u1',
  name: 'E1',
  displayName: 'x',
  roles: [],
  disabled: false,
  bound: false,
  createdAt: 1,
  updatedAt: 2,
  ...overrides,
});

describe('the accounts listing', () => {
  it('aligns its columns counting a Chinese character as two terminal columns', () => {
    const text = accountsTable([account({ name: 'E1', displayName: '张三丰', roles: ['staff'] }), account({ name: 'E1025', displayName: 'Li', bound: true, disabled: true })], 'member');
    expect(text).toBe(
      ['ACCOUNT  NAME    ROLES             STATE     WECHAT', 'E1       张三丰  staff             enabled   not bound', 'E1025    Li      member (default)  disabled  bound', ''].join('\n'),
    );
  });

  it('shows control characters a row may hold as replacement characters, never as what they would do to the terminal', () => {
    const text = accountsTable([account({ displayName: 'evil\u001b[2J\u0007name' })], 'member');
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u0007');
    expect(text).toContain('evil\ufffd[2J\ufffdname');
  });

  it('says how to add one when there are none, and gives JSON without user ids or hashes', () => {
    expect(accountsTable([], 'member')).toBe('no accounts yet: add one with `npm run accounts -- add <account> --name <display name>`\n');
    const withHash = { ...account({}), passwordHash: '$scrypt$secret' } as AccountSummary;
    expect(JSON.parse(accountsJson([withHash]))).toEqual([{ name: 'E1', displayName: 'x', roles: [], disabled: false, bound: false, createdAt: 1, updatedAt: 2 }]);
  });
});
