/** The demo account of `ACCOUNT_MODE=bind npm start`. */
import { demoAccountLines, ensureDemoAccount } from '../../server/demo-account';
import { verifyPassword } from '../../server/passwords';
import { createMemoryStores } from '../../server/stores/memory';

const CHEAP = { logN: 10, r: 8, p: 1 };

describe('the demo account', () => {
  it('is created once, as staff, and its password is a fresh one on every start that only the latest banner knows', async () => {
    const stores = createMemoryStores({ now: Date.now, sessionIdleMs: 60_000 });
    const first = await ensureDemoAccount(stores, CHEAP);
    const second = await ensureDemoAccount(stores, CHEAP);
    const accounts = await stores.accounts.list();
    expect(accounts).toMatchObject([{ name: 'demo', roles: ['staff'], disabled: false }]);
    const { passwordHash } = (await stores.accounts.byName('demo'))!;
    expect(await verifyPassword(second.password, passwordHash)).toBe(true);
    expect(await verifyPassword(first.password, passwordHash)).toBe(false);
    expect(second.password).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(demoAccountLines(second)).toContain(`Demo account: demo, password ${second.password}`);
  });
});
