import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError, noRouteFor } from '../errors';
import { hostnameOf, isLoopbackAddress, isLoopbackHostname } from '../net';

/**
 * Whether a request comes from a program on this machine: a loopback TCP peer that no proxy
 * forwarded, addressed to a loopback Host (a web page on a rebinding domain that resolves to
 * 127.0.0.1 still sends its own name) with a path as its target (a full URL names its own host,
 * which Host does not tell), and not sent by a browser on behalf of another site.
 */
export function isFromThisMachine(request: FastifyRequest): boolean {
  const { headers } = request;
  if (!isLoopbackAddress(request.socket.remoteAddress) || !isLoopbackAddress(request.ip)) return false;
  // The reference server refuses other targets before routing (http-server.ts); a server built otherwise may not.
  if (request.raw.url?.charCodeAt(0) !== 0x2f) return false;
  if (headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined || headers['x-real-ip'] !== undefined) return false;
  const host = hostnameOf(headers.host);
  if (host === null || !isLoopbackHostname(host)) return false;
  if (headers['sec-fetch-site'] === 'cross-site') return false;
  const origin = headers.origin;
  if (origin !== undefined) {
    try {
      if (!isLoopbackHostname(new URL(origin).hostname)) return false;
    } catch {
      return false; // "null" and other opaque origins
    }
  }
  return true;
}

/**
 * Makes every route of `scope` (the simulated WeChat and the development routes) answer only
 * requests from this machine, whatever address the server listens on; to anyone else they do not
 * exist (404, as in real mode). A POST must say its body is JSON: a browser cannot send that
 * cross-site without a CORS preflight, which nothing here answers.
 */
export function onlyFromThisMachine(scope: FastifyInstance): void {
  // Known to the 405 answer (not-found.ts) as routes other clients must not learn of.
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, localOnly: true };
  });
  // Callback style, not async: every simulated WeChat call of a login passes here, and an async
  // hook costs a promise and a microtask turn each time.
  scope.addHook('onRequest', (request, _reply, done) => {
    if (!isFromThisMachine(request)) done(new ApiError('NOT_FOUND', noRouteFor(request)));
    else if (request.method === 'POST' && !/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
      done(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'development routes take a JSON body: send content-type: application/json'));
    } else done();
  });
}
