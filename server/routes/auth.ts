import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { LoginRequest, LoginResponse, LogoutResponse, SessionResponse, UserInfoRequest, UserInfoResponse } from '../../typings/api';
import * as C from '../contract';
import type { Context } from '../context';
import { decryptData, DecryptError, verifySignature } from '../crypto';
import { ApiError } from '../errors';
import { authenticate, hashSkey, newSkey, toApiUser } from '../session';
import type { UserPatch } from '../stores/types';
import { cleanNickname, isWebUrl } from '../text';

export function authRoutes(app: FastifyInstance, ctx: Context): void {
  const { config, stores } = ctx;

  app.post<{ Body: LoginRequest; Reply: LoginResponse }>(
    '/auth/login',
    { schema: { body: C.loginRequest, response: { 200: C.loginResponse } } },
    async (request) => {
      const windowMs = config.loginRateWindowMs;
      if ((await stores.counters.hit(`login:${request.ip}`, windowMs)) > config.loginRateLimit) {
        const retryAfter = Math.ceil((windowMs - (ctx.now() % windowMs)) / 1000);
        throw new ApiError('RATE_LIMITED', 'too many login attempts, try again later', { headers: { 'retry-after': String(retryAfter) } });
      }

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
      return { skey, expiresAt, user: toApiUser(user, config), isNewUser: created };
    },
  );

  app.get<{ Reply: SessionResponse }>('/auth/session', { schema: { response: { 200: C.sessionResponse } } }, async (request) => {
    const { session, user } = await authenticate(request, stores);
    return { user: toApiUser(user, config), expiresAt: session.expiresAt };
  });

  app.post<{ Reply: LogoutResponse }>('/auth/logout', { schema: { response: { 200: C.logoutResponse } } }, async (request) => {
    const { skeyHash } = await authenticate(request, stores);
    await stores.sessions.delete(skeyHash);
    return { ok: true };
  });

  app.post<{ Body: UserInfoRequest; Reply: UserInfoResponse }>(
    '/auth/user-info',
    { schema: { body: C.userInfoRequest, response: { 200: C.userInfoResponse } } },
    async (request) => {
      const { session, user } = await authenticate(request, stores);
      const { rawData, signature, encryptedData, iv } = request.body;
      // One answer for every failure: which check failed is of use only to an attacker.
      const invalid = new ApiError('INVALID_USER_DATA', 'the user data could not be verified');
      if (!verifySignature(rawData, signature, session.sessionKey)) throw invalid;
      let payload: Record<string, unknown>;
      try {
        payload = decryptData(encryptedData, iv, session.sessionKey, config.wechat.appId);
      } catch (error) {
        if (error instanceof DecryptError) throw invalid;
        throw error;
      }

      // The user is the session's; the payload only fills in what the user has not set.
      const patch: UserPatch = {};
      const nickname = typeof payload.nickName === 'string' ? cleanNickname(payload.nickName) : null;
      if (user.nickname === '' && nickname?.ok) patch.nickname = nickname.value;
      if (user.avatarUrl === '' && typeof payload.avatarUrl === 'string' && isWebUrl(payload.avatarUrl)) patch.avatarUrl = payload.avatarUrl;
      const updated = Object.keys(patch).length > 0 ? await stores.users.update(user.id, patch) : user;
      return { user: toApiUser(updated ?? user, config) };
    },
  );
}
