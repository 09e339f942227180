import { createHash } from 'node:crypto';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Clock } from '../stores/types';
import { answerUrlCheck, readPush, type PushEvent, type PushSettings } from '../wechat/push';

/**
 * What is done with each verified push. Awaited before WeChat gets its `success`: it should record
 * the event (durably, by its dedupeKey) and return; work that can wait runs after. If it throws,
 * WeChat gets a 500 and delivers the event again (three tries within 15 s, WeChat says), so an
 * event is not lost to a failure to record it.
 */
export type PushHandler = (event: PushEvent) => Promise<void> | void;

/** The path to enter as the URL in the console (with the server's public origin in front). */
export const PUSH_PATH = '/wechat/events';

/**
 * `GET /wechat/events` (the console's URL check) and `POST /wechat/events` (pushed messages), in a
 * scope of their own: the body is read as text whatever its content type (WeChat sends JSON and
 * XML under several), and verified before anything reads it as a push.
 */
export function wechatEventRoutes(app: FastifyInstance, { settings, now, handle }: { settings: PushSettings; now: Clock; handle: PushHandler }): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    scope.get(PUSH_PATH, async (request, reply) => {
      const echostr = answerUrlCheck(settings, request.query as Record<string, unknown>, now());
      return reply.type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(echostr);
    });

    scope.post(PUSH_PATH, async (request, reply) => {
      const body = typeof request.body === 'string' ? request.body : '';
      const event = readPush(settings, request.query as Record<string, unknown>, body, now());
      await handle(event);
      // WeChat's documented answer; anything else counts as a failure and is delivered again.
      return reply.type('text/plain; charset=utf-8').send('success');
    });
  });
}

/** A stand-in for the user's openid in logs: enough to tell one user's events apart, not to find the user. */
export function openidTag(openid: string): string {
  return createHash('sha256').update(`wx-login push log:${openid}`).digest('hex').slice(0, 12);
}

/** The reference server's handler until the account lifecycle acts on events: one info line each, no personal data. */
export function logPushEvents(log: FastifyBaseLogger): PushHandler {
  return (event) => {
    const user = event.kind === 'other' ? undefined : openidTag(event.openid);
    const revoked = event.kind === 'user_authorization_revoke' ? event.revoked : undefined;
    log.info({ kind: event.kind, event: event.kind === 'other' ? event.event : event.kind, dedupeKey: event.dedupeKey, user, revoked }, 'wechat push received');
  };
}
