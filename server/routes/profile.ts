import type { FastifyInstance } from 'fastify';
import type { ProfileResponse, ProfileUpdateRequest } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { ApiError } from '../errors';
import { authenticate, toApiUser } from '../session';
import type { UserPatch } from '../stores/types';
import { cleanNickname, isWebUrl } from '../text';

export function profileRoutes(app: FastifyInstance, ctx: Context): void {
  const { config } = ctx;
  app.get<{ Reply: ProfileResponse }>('/api/profile', { schema: { response: { 200: C.profileResponse } } }, async (request) => {
    const { user } = await authenticate(request, ctx.stores);
    return { user: toApiUser(user, config) };
  });

  app.put<{ Body: ProfileUpdateRequest; Reply: ProfileResponse }>(
    '/api/profile',
    { schema: { body: C.profileUpdateRequest, response: { 200: C.profileResponse } } },
    async (request) => {
      const { user } = await authenticate(request, ctx.stores);
      const { nickname, avatarUrl } = request.body;
      const patch: UserPatch = {};
      if (nickname !== undefined) {
        const cleaned = cleanNickname(nickname);
        if (!cleaned.ok) throw new ApiError('BAD_REQUEST', cleaned.reason);
        patch.nickname = cleaned.value;
      }
      if (avatarUrl !== undefined) {
        if (avatarUrl !== '' && !isWebUrl(avatarUrl)) throw new ApiError('BAD_REQUEST', 'avatarUrl must be an http(s) URL or empty');
        patch.avatarUrl = avatarUrl;
      }
      const updated = await ctx.stores.users.update(user.id, patch);
      if (!updated) throw new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');
      return { user: toApiUser(updated, config) };
    },
  );
}
