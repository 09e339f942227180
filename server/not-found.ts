/**
 * The answer to a request no route matched: 405 METHOD_NOT_ALLOWED with an Allow header when its
 * path exists for other methods, else 404 NOT_FOUND. Fastify's router only says "no route"; the
 * index here holds the app's own routes in the same router library (find-my-way, with fastify's
 * default options), so that a URL matches here exactly as it would there.
 */
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import Router, { type HTTPMethod } from 'find-my-way';
import { envelope, noRouteFor, sendEnvelope } from './errors';
import { isFromThisMachine } from './routes/local-only';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set on routes that exist only for requests from this machine (routes/local-only.ts). */
    localOnly?: boolean;
  }
}

interface Recorded {
  methods: HTTPMethod[];
  url: string;
  /** Read when the index is built: a scope's own onRoute hook (local-only) runs after the root's. */
  options: RouteOptions;
}

/**
 * Records every route `app` and its scopes register (call it before any route), and answers, for a
 * request no route matched, the methods its path does take: empty when the path is unknown, or
 * known only to routes this client may not see.
 */
function indexAllowedMethods(app: FastifyInstance): (request: FastifyRequest) => HTTPMethod[] {
  const recorded: Recorded[] = [];
  app.addHook('onRoute', (options) => {
    // The login plugin's own 405 answers are not methods its paths take.
    if (options.config?.answersMethodNotAllowed) return;
    recorded.push({ methods: [options.method].flat() as HTTPMethod[], url: options.url ?? '', options });
  });

  let index: { router: Router.Instance<Router.HTTPVersion.V1>; methods: HTTPMethod[] } | undefined;
  // Built on the first unmatched request, when every route is registered.
  const build = () => {
    const router = Router();
    const methods = new Set<HTTPMethod>();
    for (const { methods: routeMethods, url, options } of recorded) {
      // A HEAD fastify added beside a GET can also be declared by hand: the path takes it either way.
      const fresh = routeMethods.filter((method) => !router.hasRoute(method, url));
      if (fresh.length > 0) router.on(fresh, url, () => undefined, { localOnly: options.config?.localOnly === true });
      for (const method of routeMethods) methods.add(method);
    }
    return { router, methods: [...methods].sort() };
  };

  return (request) => {
    index ??= build();
    const path = request.url.split('?')[0];
    const { router } = index;
    return index.methods.filter((method) => {
      const found = router.find(method, path);
      return found !== null && (!(found.store as { localOnly: boolean }).localOnly || isFromThisMachine(request));
    });
  };
}

/** Installs the 404/405 answer; call it before any route is registered. */
export function installNotFound(app: FastifyInstance): void {
  const allowedMethods = indexAllowedMethods(app);
  app.setNotFoundHandler((request, reply) => {
    const allowed = allowedMethods(request);
    if (allowed.length === 0) return sendEnvelope(reply, 404, envelope('NOT_FOUND', noRouteFor(request)));
    const list = allowed.join(', ');
    reply.header('allow', list);
    return sendEnvelope(reply, 405, envelope('METHOD_NOT_ALLOWED', `${noRouteFor(request)}; this path takes ${list}`));
  });
}
