/**
 * Platform accounts in SQL (bind mode): an account is a user row plus its `accounts` row, made in
 * one transaction; binding and unbinding add and remove the user's WeChat identity rows.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { AccountStore, PlatformAccount } from '../types';
import type { AccountsTable, Database } from './schema';
import { Conflict, insertUnlessPresent, lockUser, millis, transact, type Guard } from './support';
import { parseRoles } from './users';

export interface SqlAccountOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
}

function toAccount(row: AccountsTable): PlatformAccount {
  return {
    userId: row.user_id,
    name: row.name,
    displayName: row.display_name,
    roles: parseRoles(row.roles),
    disabled: Number(row.disabled) === 1,
    passwordHash: row.password_hash,
    createdAt: millis(row.created_at),
    updatedAt: millis(row.updated_at),
  };
}

export function createSqlAccountStore({ db, kind, guard, now }: SqlAccountOptions): AccountStore {
  const byName = async (name: string) => {
    const row = await db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toAccount(row) : null;
  };
  const change = (name: string, columns: Partial<Pick<AccountsTable, 'password_hash' | 'disabled' | 'roles'>>) =>
    guard(async () => {
      const [result] = await db.updateTable('accounts').set({ ...columns, updated_at: now() }).where('name', '=', name).execute();
      return Number(result?.numUpdatedRows ?? 0) > 0 ? byName(name) : null;
    });

  return {
    create: ({ name, displayName, roles, passwordHash }) =>
      guard(() =>
        transact(db, kind, async (trx) => {
          if (await trx.selectFrom('accounts').select('user_id').where('name', '=', name).executeTakeFirst()) return { ok: false, reason: 'NAME_TAKEN' } as const;
          const at = now();
          const row: AccountsTable = { user_id: randomUUID(), name, display_name: displayName, password_hash: passwordHash, roles: JSON.stringify(roles), disabled: 0, created_at: at, updated_at: at };
          await trx.insertInto('users').values({ id: row.user_id, nickname: '', avatar_url: '', created_at: at, updated_at: at }).execute();
          // The same name created elsewhere at this moment: look again, and find it taken.
          if (!(await insertUnlessPresent(kind, trx.insertInto('accounts').values(row)))) throw new Conflict('account name created meanwhile');
          return { ok: true, account: toAccount(row) } as const;
        }),
      ),

    byName: (name) => guard(() => byName(name)),

    list: () =>
      guard(async () => {
        const rows = await db
          .selectFrom('accounts')
          .selectAll()
          .select((eb) =>
            eb.exists(eb.selectFrom('identities').select('identities.seq').whereRef('identities.user_id', '=', 'accounts.user_id').where('identities.kind', '=', 'wechat')).as('bound'),
          )
          .orderBy('name')
          .execute();
        return rows.map(({ bound, ...row }) => {
          const { passwordHash: _hash, ...account } = toAccount(row);
          // PostgreSQL answers a boolean, SQLite and MySQL 0 or 1.
          return { ...account, bound: bound === true || Number(bound) === 1 };
        });
      }),

    setPasswordHash: (name, passwordHash) => change(name, { password_hash: passwordHash }),
    setDisabled: (name, disabled) => change(name, { disabled: disabled ? 1 : 0 }),
    setRoles: (name, roles) => change(name, { roles: JSON.stringify(roles) }),

    unbind: (userId) =>
      guard(() =>
        // Under the user's row lock, as a bind takes it: an unbind and a bind of one user take turns.
        transact(db, kind, async (trx) => {
          if (!(await lockUser(kind, trx, userId))) return 0;
          const [result] = await trx.deleteFrom('identities').where('user_id', '=', userId).where('kind', 'in', ['wechat', 'unionid']).execute();
          return Number(result?.numDeletedRows ?? 0);
        }),
      ),
  };
}
