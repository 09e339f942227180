import type { FastifyInstance } from 'fastify';
import type { ProfileResponse, ProfileUpdateRequest } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { ApiError } from '../errors';
import { authenticate, toApiUser } from '../session';
import { whenReady, type UserPatch } from '../stores/types';
import { cleanNickname, wechatAvatarUrl } from '../text';

export function profileRoutes(app: FastifyInstance, ctx: Context): void {
  const { config } = ctx;
  // Not async: with the memory store the answer is ready at once, and no promise is made for it.
  app.get<{ Reply: ProfileResponse }>('/api/profile', { schema: { response: { 200: C.profileResponse } } }, (request) =>
    whenReady(authenticate(request, ctx.stores), ({ user }) => ({ user: toApiUser(user, config) })),
  );

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
        if (cleaned.value !== user.nickname) patch.nickname = cleaned.value;
      }
      // The avatar is what POST /api/avatar stored (sent back unchanged, as the mini-program
      // does after an upload), a WeChat avatar, or nothing: never a URL on any other host, and
      // never another user's uploaded file (whose deletion this user could otherwise trigger).
      if (avatarUrl !== undefined && avatarUrl !== user.avatarUrl) {
        const wechat = avatarUrl === '' ? '' : wechatAvatarUrl(avatarUrl);
        if (wechat === null) throw new ApiError('BAD_REQUEST', 'avatarUrl must be empty, the URL POST /api/avatar answered, or a WeChat avatar URL');
        patch.avatarUrl = wechat;
      }
      // Nothing changes (the form saved as it was loaded): no write, the user as it is.
      if (Object.keys(patch).length === 0) return { user: toApiUser(user, config) };
      const updated = await ctx.stores.users.update(user.id, patch);
      if (!updated) throw new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');
      // Which fields changed, never their values: the trail is not a copy of the profile.
      await ctx.login.audit.record({ userId: user.id, actor: 'user', action: 'profile.changed', outcome: 'ok', address: request.ip, detail: { fields: Object.keys(patch) } });
      await ctx.avatars.discardReplaced(updated.before.avatarUrl, updated.after.avatarUrl);
      return { user: toApiUser(updated.after, config) };
    },
  );
}
