import type { FastifyInstance } from 'fastify';
import type {
  DevCodeRequest,
  DevCodeResponse,
  DevExpireRequest,
  DevExpireResponse,
  DevFaultRequest,
  DevFaultResponse,
  DevPhoneCodeRequest,
  DevPhoneCodeResponse,
  DevUserDataRequest,
  DevWeChatEventRequest,
  DevWeChatEventResponse,
  UserInfoRequest,
} from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { ApiError } from '../errors';
import { hashSkey } from '../session';
import { DEFAULT_USER, type Simulator } from '../wechat/simulator';
import { deliverSimulatedPush } from './dev-wechat-events';

/** Development routes, registered only with the simulator. Their JSON bodies are optional. */
export function devRoutes(app: FastifyInstance, ctx: Context, simulator: Simulator): void {
  app.register(async (dev) => {
    dev.addHook('preValidation', async (request) => {
      if (request.body === undefined) request.body = {};
    });

    dev.post<{ Body: DevCodeRequest; Reply: DevCodeResponse }>(
      '/dev/codes',
      { schema: { body: C.devCodeRequest, response: { 200: C.devCodeResponse } } },
      async (request) => ({ code: simulator.mintCode(request.body.user, request.body.unionid) }),
    );

    dev.post<{ Body: DevPhoneCodeRequest; Reply: DevPhoneCodeResponse }>(
      '/dev/phone-codes',
      { schema: { body: C.devPhoneCodeRequest, response: { 200: C.devPhoneCodeResponse } } },
      async (request) => ({ code: simulator.mintPhoneCode(request.body.user, request.body.phoneNumber) }),
    );

    dev.post<{ Body: DevFaultRequest; Reply: DevFaultResponse }>(
      '/dev/faults',
      { schema: { body: C.devFaultRequest, response: { 200: C.devFaultResponse } } },
      async (request) => {
        const { api, errcode, delayMs = 0, times = 1 } = request.body;
        return { pending: simulator.injectFaults(errcode === undefined ? { delayMs } : { errcode, delayMs }, times, api) };
      },
    );

    dev.post<{ Body: DevExpireRequest; Reply: DevExpireResponse }>(
      '/dev/sessions/expire',
      { schema: { body: C.devExpireRequest, response: { 200: C.devExpireResponse } } },
      async (request) => {
        const { skey } = request.body;
        if (skey === undefined) return { expired: await ctx.stores.sessions.deleteAll() };
        return { expired: (await ctx.stores.sessions.delete(hashSkey(skey))) ? 1 : 0 };
      },
    );

    dev.post<{ Body: DevWeChatEventRequest; Reply: DevWeChatEventResponse }>(
      '/dev/wechat-events',
      { schema: { body: C.devWeChatEventRequest, response: { 200: C.devWeChatEventResponse } } },
      async (request) => deliverSimulatedPush(dev, ctx, { ...request.body, openid: simulator.openidFor(request.body.user ?? DEFAULT_USER) }),
    );

    dev.post<{ Body: DevUserDataRequest; Reply: UserInfoRequest }>(
      '/dev/user-data',
      { schema: { body: C.devUserDataRequest, response: { 200: C.devUserDataResponse } } },
      async (request) => {
        const data = simulator.userData(request.body.user);
        if (!data) throw new ApiError('NOT_FOUND', 'this simulated user has not logged in yet');
        return data;
      },
    );
  });
}
