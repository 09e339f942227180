import type { FastifyInstance } from 'fastify';
import type { PhoneBindRequest, PhoneBindResponse } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { ApiError } from '../errors';
import { enforceLimit } from '../limits';
import { authenticate, toApiUser } from '../session';

/**
 * POST /auth/phone: the number behind a getPhoneNumber code becomes the user's. Open to accounts
 * without a phone (it is how they get one) whatever REQUIRE_PHONE says.
 */
export function phoneRoutes(app: FastifyInstance, ctx: Context): void {
  const { config, stores } = ctx;

  app.post<{ Body: PhoneBindRequest; Reply: PhoneBindResponse }>(
    '/auth/phone',
    { schema: { body: C.phoneBindRequest, response: { 200: C.phoneBindResponse } } },
    async (request) => {
      const { user } = await authenticate(request, stores);
      // Every successful exchange is charged to the mini-program, and failed ones count against
      // WeChat's quota for everyone: a per-user limit before asking WeChat.
      await enforceLimit(stores.limits, `phone:${user.id}`, config.phoneBindLimit, config.phoneBindWindowMs, 'too many phone number requests, try again later');
      const phone = await ctx.wechat.getPhoneNumber(request.body.code, config.phoneBindTimeoutMs);
      const binding = await stores.users.bindPhone(user.id, phone);
      if (!binding) throw new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');
      // One number, one account. A real product would offer to merge the two accounts here (see docs/server.md, "Binding a phone").
      if (!binding.ok) throw new ApiError('PHONE_IN_USE', 'this phone number is already bound to another account');
      return { user: toApiUser(binding.user, config) };
    },
  );
}
