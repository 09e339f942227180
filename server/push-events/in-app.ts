/**
 * The reference server's account-event processor: WeChat's account events recorded in the
 * app's stores, acted on against its users and avatar files, swept from when the app is ready
 * until it closes (closing waits for the work under way; what is left stays recorded).
 */
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context';
import { accountEventActions, type DeleteAccount } from './actions';
import { createPushEventProcessor, type PushEventProcessor } from './processor';

export function pushEventProcessorFor(app: FastifyInstance, ctx: Context, deleteAccount: DeleteAccount): PushEventProcessor {
  const processor = createPushEventProcessor({
    store: ctx.stores.pushEvents,
    act: accountEventActions({ users: ctx.stores.users, avatars: ctx.avatars, deleteAccount, now: ctx.now }),
    now: ctx.now,
    log: app.log,
  });
  app.addHook('onReady', async () => processor.start());
  // Registered after the stores' onClose hook, so it runs before it (fastify runs them last first).
  app.addHook('onClose', async () => processor.stop());
  return processor;
}
