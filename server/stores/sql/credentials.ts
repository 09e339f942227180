/**
 * The credential cache (WeChat's access_token) and its renewal lock in SQL, for deployments
 * without Redis: values sealed and bound to their name, as in Redis; the lock a row whose key
 * only one holder can insert, taken over once its time has passed (a holder that crashed).
 */
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { Sealer } from '../../seal';
import type { CredentialCache } from '../types';
import type { Database } from './schema';
import { insertUnlessPresent, millis, type Guard } from './support';

export interface SqlCredentialOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
  sealer: Sealer;
}

export function createSqlCredentialCache({ db, kind, guard, now, sealer }: SqlCredentialOptions): CredentialCache {
  const context = (name: string) => `credential:${name}`;
  const stored = (name: string) => db.selectFrom('credentials').select(['value', 'refresh_at', 'expires_at']).where('name', '=', name).executeTakeFirst();

  return {
    get: (name) =>
      guard(async () => {
        const row = await stored(name);
        const value = row ? sealer.open(row.value, context(name)) : null;
        if (!row || value === null || value === '' || now() >= millis(row.expires_at)) return null;
        return { value, refreshAt: millis(row.refresh_at), expiresAt: millis(row.expires_at) };
      }),

    set: (name, credential) =>
      guard(async () => {
        const values = { value: sealer.seal(credential.value, context(name)), refresh_at: credential.refreshAt, expires_at: credential.expiresAt };
        const insert = db.insertInto('credentials').values({ name, ...values });
        await (kind === 'mysql' ? insert.onDuplicateKeyUpdate(values) : insert.onConflict((conflict) => conflict.column('name').doUpdateSet(values))).execute();
      }),

    deleteIf: (name, value) =>
      guard(async () => {
        const row = await stored(name);
        if (!row || sealer.open(row.value, context(name)) !== value) return false;
        // Sealing is randomised: the sealed text as read names this very value, unless someone stored another since.
        const [result] = await db.deleteFrom('credentials').where('name', '=', name).where('value', '=', row.value).execute();
        return Number(result?.numDeletedRows ?? 0) > 0;
      }),

    lock: (name, ttlMs) =>
      guard(async () => {
        const at = now();
        await db.deleteFrom('credential_locks').where('name', '=', name).where('held_until', '<=', at).execute();
        const owner = randomBytes(16).toString('hex');
        if (!(await insertUnlessPresent(kind, db.insertInto('credential_locks').values({ name, owner, held_until: at + ttlMs })))) return null;
        // Only the holder releases, and best effort: if the database is away now, the time limit frees the lock soon anyway.
        return () =>
          guard(async () => void (await db.deleteFrom('credential_locks').where('name', '=', name).where('owner', '=', owner).execute())).catch(() => undefined);
      }),
  };
}
