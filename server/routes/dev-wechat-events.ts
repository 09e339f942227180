/**
 * POST /dev/wechat-events: the simulated WeChat pushes an account event to this server's
 * /wechat/events as WeChat does (safe mode, signed with the push token, sealed with the
 * EncodingAESKey: wechat/push-sender.ts), over HTTP to the address it listens on, then waits until
 * the server has acted on it, so that what the event did is there when the answer comes.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { DevWeChatEventRequest, DevWeChatEventResponse } from '../../typings/api';
import type { Context } from '../context';
import { ApiError } from '../errors';
import { originOnThisMachine } from '../net';
import { REVOKE_INFO, type RevokedData } from '../wechat/push';
import { accountEventPush, type AccountEventSpec } from '../wechat/push-sender';
import { PUSH_PATH } from './wechat-events';

/** The event as the simulated WeChat raises it; a RevokeInfo only with a revoke, and of known codes. */
function specOf({ event, revokeInfo, openid }: DevWeChatEventRequest & { openid: string }): AccountEventSpec {
  if (event !== 'user_authorization_revoke') {
    if (revokeInfo !== undefined) throw new ApiError('BAD_REQUEST', `revokeInfo goes with user_authorization_revoke only, not ${event}`);
    return { event, openid };
  }
  if (revokeInfo === undefined) throw new ApiError('BAD_REQUEST', 'user_authorization_revoke needs revokeInfo: what was withdrawn, as WeChat codes it (8 phone number, 6 nickname and avatar, 19 nickname, 20 avatar)');
  const codes = revokeInfo.split(',');
  const unknown = codes.filter((code) => !Object.hasOwn(REVOKE_INFO, code));
  if (unknown.length > 0) throw new ApiError('BAD_REQUEST', `revokeInfo has codes WeChat does not send (${unknown.join(', ')}); known: ${Object.keys(REVOKE_INFO).join(', ')}`);
  return { event, openid, revoked: codes.map((code) => REVOKE_INFO[code as keyof typeof REVOKE_INFO] as RevokedData) };
}

export async function deliverSimulatedPush(app: FastifyInstance, ctx: Context, request: DevWeChatEventRequest & { openid: string }): Promise<DevWeChatEventResponse> {
  const push = ctx.config.push;
  if (!push) throw new ApiError('NOT_FOUND', `${PUSH_PATH} does not exist on this server: set WX_PUSH_TOKEN and WX_PUSH_AES_KEY (npm start sets them)`);
  const built = accountEventPush({ token: push.token, aesKey: push.aesKey, appId: ctx.config.wechat.appId }, specOf(request), { format: 'xml', mode: 'safe', nowMs: ctx.now() });
  const address = app.server.address() as AddressInfo | string | null;
  let status: number;
  let answer: string;
  if (address !== null && typeof address !== 'string') {
    const response = await fetch(`${originOnThisMachine(address)}${built.url}`, { method: 'POST', headers: built.headers, body: built.body ?? null });
    status = response.status;
    answer = await response.text();
  } else {
    // Not listening (a test's inject()): the same request, through the same routes.
    const response = await app.inject({ method: 'POST', url: built.url, headers: built.headers, payload: built.body ?? '' });
    status = response.statusCode;
    answer = response.body;
  }
  if (status === 200) await ctx.pushEvents?.idle();
  return { status, answer };
}
