/**
 * Bind tickets in SQL (bind mode). Redeeming one is one transaction that locks the ticket's row,
 * then the account's user, and only then consumes the ticket and writes the WeChat identity rows:
 * concurrent redeems of one ticket wait on its row and find it gone, so exactly one succeeds.
 */
import type { Kysely } from 'kysely';
import type { DatabaseKind } from '../../database';
import type { Sealer } from '../../seal';
import type { BindOutcome, BindTicketStore } from '../types';
import type { Database } from './schema';
import { Conflict, forUpdate, insertUnlessPresent, lockUser, millis, transact, type Guard } from './support';
import { loadUser, wechatIdentity } from './users';

export interface SqlBindTicketOptions {
  db: Kysely<Database>;
  kind: DatabaseKind;
  guard: Guard;
  now: () => number;
  appId: string;
  sealer: Sealer;
}

/** Expired tickets nobody came back for are swept once per this many issued. */
const SWEEP_EVERY = 100;

export function createSqlBindTicketStore({ db, kind, guard, now, appId, sealer }: SqlBindTicketOptions): BindTicketStore {
  let issuedSinceSweep = 0;
  return {
    issue: ({ ticketHash, openid, unionid, sessionKey, expiresAt }) =>
      guard(async () => {
        if (++issuedSinceSweep >= SWEEP_EVERY) {
          issuedSinceSweep = 0;
          await db.deleteFrom('bind_tickets').where('expires_at', '<=', now()).execute();
        }
        await db
          .insertInto('bind_tickets')
          .values({ ticket_hash: ticketHash, wechat: wechatIdentity(appId, openid), unionid: unionid ?? null, session_key: sealer.seal(sessionKey, ticketHash), expires_at: expiresAt })
          .execute();
      }),

    isLive: (ticketHash) =>
      guard(async () => {
        const row = await db.selectFrom('bind_tickets').select('expires_at').where('ticket_hash', '=', ticketHash).executeTakeFirst();
        return row !== undefined && now() < millis(row.expires_at);
      }),

    redeem: (ticketHash, userId) =>
      guard(() =>
        transact(db, kind, async (trx): Promise<BindOutcome> => {
          // The ticket first, locked: a concurrent redeem of it waits here, then finds it gone.
          const ticket = await forUpdate(kind, trx.selectFrom('bind_tickets').select(['wechat', 'unionid', 'session_key', 'expires_at']).where('ticket_hash', '=', ticketHash)).executeTakeFirst();
          if (!ticket || now() >= millis(ticket.expires_at)) return { ok: false, reason: 'INVALID_BIND_TICKET' };
          if (!(await lockUser(kind, trx, userId))) return { ok: false, reason: 'NO_SUCH_USER' };
          const wechatOfUser = await trx.selectFrom('identities').select('value').where('user_id', '=', userId).where('kind', '=', 'wechat').execute();
          // Refused without consuming the ticket: the user may still bind it to their own account.
          if (wechatOfUser.some((row) => row.value.startsWith(`${appId}:`))) return { ok: false, reason: 'ACCOUNT_ALREADY_BOUND' };
          await trx.deleteFrom('bind_tickets').where('ticket_hash', '=', ticketHash).execute();
          // Another ticket of this WeChat user bound it meanwhile: this one is of no further use.
          const taken = await trx
            .selectFrom('identities')
            .select('seq')
            .where((eb) => eb.or([eb.and([eb('kind', '=', 'wechat'), eb('value', '=', ticket.wechat)]), ...(ticket.unionid === null ? [] : [eb.and([eb('kind', '=', 'unionid'), eb('value', '=', ticket.unionid)])])]))
            .executeTakeFirst();
          if (taken) return { ok: false, reason: 'INVALID_BIND_TICKET' };
          const at = now();
          const link = (identityKind: 'wechat' | 'unionid', value: string) =>
            insertUnlessPresent(kind, trx.insertInto('identities').values({ kind: identityKind, value, user_id: userId, created_at: at }));
          if (!(await link('wechat', ticket.wechat))) throw new Conflict('WeChat identity bound meanwhile');
          if (ticket.unionid !== null && !(await link('unionid', ticket.unionid))) throw new Conflict('unionid bound meanwhile');
          const user = await loadUser(trx, userId, appId);
          if (!user) throw new Conflict('user deleted meanwhile');
          return { ok: true, user, sessionKey: sealer.open(ticket.session_key, ticketHash) };
        }),
      ),
  };
}
