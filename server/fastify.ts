/**
 * `wx-login-server/fastify`: the login routes as a fastify plugin. The routes live in their own
 * encapsulated scope (the host's prefix applies; their JSON parser, validation and error envelope
 * stay theirs, so a host route that throws keeps the host's error format); the host gets
 * `fastify.requireSession` for its own routes and `request.wxUser` on them.
 *
 *   await fastify.register(fastifyWxLogin, { wechat: createSimulatedWeChat() });
 *   fastify.get('/mine', { preHandler: fastify.requireSession }, async (req) => ({ id: req.wxUser.id }));
 */
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, HookHandlerDoneFunction } from 'fastify';
import fp from 'fastify-plugin';
import { bodyLimitOption, contractPaths, CONTRACT_ROUTES } from './core/contract-routes';
import { OptionError } from './core/errors';
import { serviceFrom, type LoginService, type ServiceChoice } from './core/login-service';
import { schemaProblem } from './core/validate';
import { answerError, envelope, installErrorHandling, noRouteFor, sendEnvelope } from './errors';
import { parseJsonBody } from './json-body';
import type { Authenticated } from './session';

/** The user behind the request's session, as the server keeps it (openid included; never sent to the client as is). */
export type WxUser = Authenticated['user'];

/**
 * `wechat` (createSimulatedWeChat(), or `{ appId, secret }` for the real WeChat) and the other
 * options of createLoginService; or `service`, one the host made and uses elsewhere too.
 */
export interface FastifyWxLoginOptions extends ServiceChoice {
  /** Path prefix of the login routes (`/api` → `/api/auth/login`); the host's own prefix, if it registers inside one, comes first. */
  prefix?: string;
  /** Largest JSON body the login routes take, in bytes; more is 413 PAYLOAD_TOO_LARGE. Default 16384. */
  bodyLimit?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A preHandler for the host's own routes: a live session (and, with requirePhone, a bound
     * phone) or the contract's 401 SESSION_EXPIRED (403 PHONE_REQUIRED) envelope, which tells
     * wx-login-auth to log in again; `request.wxUser` is set for the handler.
     */
    requireSession: (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;
    /** The login service behind the routes. */
    wxLogin: LoginService;
  }
  interface FastifyRequest {
    /** The session's user on a route behind requireSession. */
    wxUser: WxUser;
  }
}

/** The preHandler: without a promise when the stores answer at once (memory). */
function sessionGuard(service: LoginService): FastifyInstance['requireSession'] {
  return function requireSession(request, reply, done) {
    let authenticated: ReturnType<LoginService['authenticateComplete']>;
    try {
      authenticated = service.authenticateComplete(request.headers.authorization);
    } catch (error) {
      return void answerError(error as FastifyError, request, reply);
    }
    const proceed = ({ user }: Authenticated) => {
      request.wxUser = user;
      done();
    };
    if (authenticated instanceof Promise) authenticated.then(proceed, (error: unknown) => answerError(error as FastifyError, request, reply));
    else proceed(authenticated);
  };
}

function checkedPrefix(prefix: unknown): string {
  if (prefix === undefined) return '';
  if (typeof prefix !== 'string' || !/^(\/[A-Za-z0-9._~-]+)*$/.test(prefix)) throw new OptionError('prefix', `must be a path such as "/api", without a trailing slash (got ${JSON.stringify(prefix)})`);
  return prefix;
}

const wxLogin: FastifyPluginAsync<FastifyWxLoginOptions> = async (fastify, options) => {
  const { prefix, bodyLimit, ...rest } = options;
  const routePrefix = checkedPrefix(prefix);
  const limit = bodyLimitOption(bodyLimit);
  const service = serviceFrom(rest, fastify.log);

  fastify.decorate('wxLogin', service);
  fastify.decorateRequest('wxUser', null as unknown as WxUser);
  fastify.decorate('requireSession', sessionGuard(service));

  await fastify.register(
    async (scope) => {
      // The contract's rules for the login routes, whatever the host set for its own.
      scope.removeContentTypeParser(['application/json', 'text/plain']);
      scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: limit }, parseJsonBody);
      scope.setValidatorCompiler(({ schema }) => (data) => {
        const problem = schemaProblem(schema, data);
        return problem === null ? { value: data } : { error: Object.assign(new Error(problem), { validation: [{ message: problem }] }) };
      });
      installErrorHandling(scope);

      for (const route of CONTRACT_ROUTES) {
        scope.route({
          method: route.method,
          url: route.url,
          bodyLimit: limit,
          schema: { ...(route.body ? { body: route.body } : {}), response: { 200: route.response } },
          // Answers carry skeys and personal data: no cache may keep them.
          handler: (request, reply) => {
            reply.header('cache-control', 'no-store');
            return route.run(service, { authorization: request.headers.authorization, body: request.body, address: request.ip });
          },
        });
      }
      // A wrong method on a login path: 405 in the envelope here, not the host's 404.
      for (const { url, allowed, refused } of contractPaths()) {
        scope.route({
          method: refused,
          url,
          config: { answersMethodNotAllowed: true },
          exposeHeadRoute: false,
          handler: (request, reply) => {
            reply.header('allow', allowed.join(', '));
            return sendEnvelope(reply, 405, envelope('METHOD_NOT_ALLOWED', `${noRouteFor(request)}; this path takes ${allowed.join(', ')}`));
          },
        });
      }
    },
    { prefix: routePrefix },
  );
};

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on the routes that only answer 405 for a login path's other methods (not-found.ts leaves them out of its index). */
    answersMethodNotAllowed?: boolean;
  }
}

export const fastifyWxLogin = fp(wxLogin, { fastify: '5.x', name: 'wx-login-server' });
export default fastifyWxLogin;
