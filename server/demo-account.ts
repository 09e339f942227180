/**
 * The demo platform account of `ACCOUNT_MODE=bind npm start` (simulated WeChat only): there is
 * no accounts command to run before trying bind mode, so the development server makes one.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword, type PasswordParams } from './passwords';
import type { Stores } from './stores/types';

export const DEMO_ACCOUNT = 'demo';

/**
 * The demo account (role staff, so its menus include the approvals), created when missing; its
 * password is a fresh random one on every start (only its hash is stored, so an old one cannot be
 * shown again), for the start banner to print.
 */
export async function ensureDemoAccount(stores: Pick<Stores, 'accounts'>, params?: PasswordParams): Promise<{ name: string; password: string }> {
  const password = randomBytes(9).toString('base64url');
  const passwordHash = await hashPassword(password, params);
  const existing = await stores.accounts.setPasswordHash(DEMO_ACCOUNT, passwordHash);
  if (!existing) {
    const created = await stores.accounts.create({ name: DEMO_ACCOUNT, displayName: '演示账号', roles: ['staff'], passwordHash });
    // Made meanwhile by another process on the same database: take it over all the same.
    if (!created.ok) await stores.accounts.setPasswordHash(DEMO_ACCOUNT, passwordHash);
  }
  return { name: DEMO_ACCOUNT, password };
}

/** The banner's lines about it. */
export function demoAccountLines({ name, password }: { name: string; password: string }): string {
  return (
    `Bind mode (ACCOUNT_MODE=bind): a WeChat login is asked to bind to a platform account first.\n` +
    `Demo account: ${name}, password ${password} (role staff; a fresh password on every start).\n\n`
  );
}
