/**
 * The reference server's account-event processor: WeChat's account events recorded in the
 * app's stores, acted on against its users and avatar files, swept from when the app is ready
 * until it closes (closing waits for the work under way; what is left stays recorded).
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context';
import type { AuditTrail } from '../audit';
import type { AuditAction } from '../stores/types';
import { accountEventActions, type DeleteAccount, type WeChatAccountEventAudit } from './actions';
import { createPushEventProcessor, type PushEventProcessor } from './processor';

const ACTIONS: Record<WeChatAccountEventAudit['action'], AuditAction> = {
  'wechat.revoke': 'wechat.revoke',
  'wechat.cancellation': 'wechat.cancel',
  'wechat.info-modified': 'wechat.modified',
};

/**
 * A WeChat account event on the audit trail, actor WeChat, with what was withdrawn. After a
 * cancellation the account is deleted and its entries anonymised: this one is anonymised with them.
 */
async function recordWeChatEvent(audit: AuditTrail, { userId, action, revoked }: WeChatAccountEventAudit): Promise<void> {
  await audit.record({ userId, actor: 'wechat', action: ACTIONS[action], outcome: 'ok', ...(revoked.length > 0 ? { detail: { revoked } } : {}) });
  if (action === 'wechat.cancellation') await audit.store.anonymise(userId);
}

export function pushEventProcessorFor(app: FastifyInstance, ctx: Context, deleteAccount: DeleteAccount): PushEventProcessor {
  const processor = createPushEventProcessor({
    store: ctx.stores.pushEvents,
    act: accountEventActions({ users: ctx.stores.users, avatars: ctx.avatars, deleteAccount, now: ctx.now, auditWeChatAccountEvent: (entry) => recordWeChatEvent(ctx.login.audit, entry) }),
    now: ctx.now,
    log: app.log,
  });
  app.addHook('onReady', async () => processor.start());
  // Registered after the stores' onClose hook, so it runs before it (fastify runs them last first).
  app.addHook('onClose', async () => processor.stop());
  return processor;
}
