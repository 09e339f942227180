import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LoginRequest, LoginResponse, LogoutResponse, SessionResponse, UserInfoRequest, UserInfoResponse } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { decryptData, DecryptError, isFresh, verifySignature } from '../crypto';
import { ApiError } from '../errors';
import { authenticate, hashSkey, newSkey, toApiUser } from '../session';
import { whenReady, type UserPatch } from '../stores/types';
import { enforceLimit } from '../limits';
import { clientKey } from '../net';
import { menusFor, rolesOf } from '../roles';
import { cleanNickname, wechatAvatarUrl } from '../text';

export function authRoutes(app: FastifyInstance, ctx: Context): void {
  const { config, stores } = ctx;

  app.post<{ Body: LoginRequest; Reply: LoginResponse }>(
    '/auth/login',
    { schema: { body: C.loginRequest, response: { 200: C.loginResponse } } },
    async (request) => {
      // request.ip is the address the trusted proxies saw (TRUST_PROXY), never one the client wrote.
      await enforceLimit(stores.limits, `login:${clientKey(request.ip)}`, config.loginRateLimit, config.loginRateWindowMs, 'too many login attempts, try again later');

      const wechat = await ctx.wechat.code2Session(request.body.code);
      const at = ctx.now();
      // By unionid first when WeChat sends one (the same person across the company's apps), then openid.
      const { user, created } = await stores.users.findOrCreate({ openid: wechat.openid, unionid: wechat.unionid }, () => ({
        id: randomUUID(),
        openid: wechat.openid,
        nickname: '',
        avatarUrl: '',
        createdAt: at,
      }));
      // A fresh skey on every login, also for a user already logged in elsewhere: each device
      // holds its own session and can be revoked alone.
      const skey = newSkey();
      const expiresAt = at + config.sessionLifetimeMs;
      await stores.sessions.create({ skeyHash: hashSkey(skey), userId: user.id, sessionKey: wechat.sessionKey, createdAt: at, lastSeenAt: at, expiresAt });
      return { skey, expiresAt, user: toApiUser(user, config), isNewUser: created, menus: menusFor(rolesOf(user)) };
    },
  );

  // Not async: with the memory store the answer is ready at once (see authenticate).
  app.get<{ Reply: SessionResponse }>('/auth/session', { schema: { response: { 200: C.sessionResponse } } }, (request) =>
    whenReady(authenticate(request, stores), ({ session, user }) => ({ user: toApiUser(user, config), expiresAt: session.expiresAt, menus: menusFor(rolesOf(user)) })),
  );

  app.post<{ Reply: LogoutResponse }>('/auth/logout', { schema: { response: { 200: C.logoutResponse } } }, async (request) => {
    const { skeyHash } = await authenticate(request, stores);
    await stores.sessions.delete(skeyHash);
    return { ok: true };
  });

  app.post<{ Body: UserInfoRequest; Reply: UserInfoResponse }>(
    '/auth/user-info',
    { schema: { body: C.userInfoRequest, response: { 200: C.userInfoResponse } } },
    async (request) => {
      const { skeyHash, user } = await authenticate(request, stores);
      const { rawData, signature, encryptedData, iv } = request.body;
      // A session whose session_key cannot be read (sealed under a key since rotated) needs a
      // fresh login, which brings a fresh session_key.
      const sessionKey = await stores.sessions.sessionKey(skeyHash);
      if (sessionKey === null) throw new ApiError('SESSION_EXPIRED', 'the session is missing or expired, log in again');
      // One answer for every failure: which check failed is of use only to an attacker.
      const invalid = new ApiError('INVALID_USER_DATA', 'the user data could not be verified');
      if (!verifySignature(rawData, signature, sessionKey)) throw invalid;
      let payload: Record<string, unknown>;
      try {
        payload = decryptData(encryptedData, iv, sessionKey, config.wechat.appId);
      } catch (error) {
        if (error instanceof DecryptError) throw invalid;
        throw error;
      }
      // WeChat stamps the data when it hands it out: old data is a replay.
      if (!isFresh(payload, ctx.now())) throw invalid;

      // The user is the session's; the payload only fills in what the user has not set, and
      // only with values that pass the same rules as the user's own input.
      const patch: UserPatch = {};
      const nickname = typeof payload.nickName === 'string' ? cleanNickname(payload.nickName) : null;
      if (user.nickname === '' && nickname?.ok) patch.nickname = nickname.value;
      const avatarUrl = wechatAvatarUrl(payload.avatarUrl);
      if (user.avatarUrl === '' && avatarUrl !== null) patch.avatarUrl = avatarUrl;
      const updated = Object.keys(patch).length > 0 ? (await stores.users.update(user.id, patch))?.after : user;
      return { user: toApiUser(updated ?? user, config) };
    },
  );
}
