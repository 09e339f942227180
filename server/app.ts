import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import multipart from '@fastify/multipart';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { AvatarFiles } from './avatars';
import type { Config } from './config';
import type { Context } from './context';
import { clientErrorHandler, frameworkErrors, installErrorHandling } from './errors';
import { closeIdleUntilClosed, httpServerFactory, type Lifecycle } from './http-server';
import { parseJsonBody } from './json-body';
import { LazyRequestLogger, logsAt, scrubLogArguments } from './logging';
import { originOnThisMachine, proxyTrust } from './net';
import { installNotFound } from './not-found';
import { authRoutes } from './routes/auth';
import { avatarRoutes } from './routes/avatar';
import { devRoutes } from './routes/dev';
import { healthRoutes } from './routes/health';
import { onlyFromThisMachine } from './routes/local-only';
import { orderRoutes } from './routes/orders';
import { phoneRoutes } from './routes/phone';
import { profileRoutes } from './routes/profile';
import { createMemoryStores } from './stores/memory';
import { createRedisStores } from './stores/redis';
import type { Clock, Stores } from './stores/types';
import { createWeChatClient, type Transport } from './wechat/client';
import { createSimulator, registerSimulatorRoutes } from './wechat/simulator';

export interface AppOptions {
  config: Config;
  /** Defaults to Date.now; tests move time with their own. */
  now?: Clock;
  /** Defaults to the stores the config names (memory, or Redis with REDIS_URL). Closed with the app. */
  stores?: Stores;
  /** How the WeChat client reaches WeChat; defaults to fetch. */
  wechatTransport?: Transport;
  /** Where log lines go; defaults to stdout. `false` turns logging off. */
  log?: Writable | false;
}

/** Keeps only the path: query strings can carry secrets (jscode2session's appid/secret/js_code). */
function pathOf(url: string): string {
  return url.split('?')[0].slice(0, 200);
}

/**
 * One line per request, written when the answer is sent: method, path (no query), status and
 * time. No headers, no bodies, so no skey or code can end up in a log.
 */
class RequestLog extends LogController {
  override incomingRequest(): void {
    // The completion line says all; a second line per request is noise.
  }
  override routeNotFound(): void {
    // Logged as a 404 by requestCompleted; fastify's own line would include the query string.
  }
  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Runs for every request: when the level drops the line (LOG_LEVEL=warn in production or the
    // benchmark), build nothing.
    if (!logsAt(reply.log, error ? 'error' : 'info')) return;
    const line = { method: request.method, path: pathOf(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (error) reply.log.error({ ...line, err: error }, 'request failed');
    else reply.log.info(line, 'request');
  }
}

/** The address other processes on this machine reach a listening server at. */
function loopbackOrigin(app: FastifyInstance): string | null {
  const address = app.server.address() as AddressInfo | string | null;
  return address === null || typeof address === 'string' ? null : originOnThisMachine(address);
}

/**
 * The whole server, not yet listening: tests use inject() or listen on port 0, index.ts listens
 * on the configured address. Closing the app closes its stores.
 */
export async function buildApp({ config, now = Date.now, stores: givenStores, wechatTransport, log }: AppOptions): Promise<FastifyInstance> {
  const lifecycle: Lifecycle = { closing: false };
  const app = Fastify({
    // Timeouts, connection caps and the 503 while closing live in the http.Server (see http-server.ts).
    serverFactory: httpServerFactory(config, lifecycle),
    return503OnClosing: false,
    frameworkErrors,
    logger:
      log === false
        ? false
        : {
            level: config.logLevel,
            ...(log ? { stream: log } : {}),
            hooks: { logMethod: scrubLogArguments },
          },
    logController: new RequestLog(),
    // request.log is made on first use; see LazyRequestLogger. (With log: false there is nothing to make.)
    ...(log === false ? {} : { childLoggerFactory: (logger, bindings, options) => new LazyRequestLogger(logger, bindings, options) }),
    bodyLimit: config.bodyLimitBytes,
    // Without a proxy, fastify's plain Request class: the trust-proxy one walks X-Forwarded-For through proxy-addr on every read of request.ip.
    trustProxy: config.trustProxy === false ? false : proxyTrust(config.trustProxy),
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  const stores =
    givenStores ??
    (config.redisUrl
      ? await createRedisStores({
          url: config.redisUrl,
          now,
          sessionIdleMs: config.sessionIdleMs,
          commandTimeoutMs: config.redisCommandTimeoutMs,
          sealKey: config.sessionKeySealKey,
          onError: (error) => app.log.warn({ err: error.message }, 'redis'),
        })
      : createMemoryStores({ now, sessionIdleMs: config.sessionIdleMs }));
  app.addHook('preClose', (done) => {
    lifecycle.closing = true;
    if (app.server.listening) closeIdleUntilClosed(app.server);
    done();
  });
  app.addHook('onClose', () => stores.close());

  const simulated = config.wechat.mode === 'simulated';
  const simulator = simulated ? createSimulator({ appId: config.wechat.appId, secret: config.wechat.secret, now }) : null;
  const origin = () => config.publicUrl ?? loopbackOrigin(app) ?? `http://${config.host}:${config.port}`;
  const ctx: Context = {
    config,
    now,
    stores,
    simulator,
    lifecycle,
    avatars: new AvatarFiles(config.uploadDir),
    origin,
    wechat: createWeChatClient({
      // Simulated mode: the server asks its own simulator, over HTTP like the real thing.
      baseUrl: () => config.wechat.apiBase ?? loopbackOrigin(app) ?? 'http://127.0.0.1',
      appId: config.wechat.appId,
      secret: config.wechat.secret,
      timeoutMs: config.wechat.timeoutMs,
      ...(wechatTransport ? { transport: wechatTransport } : {}),
      credentials: stores.credentials,
      now,
      onTokenRenewalFailed: (error) =>
        app.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'renewing the WeChat access token failed; the current one serves until it expires'),
    }),
  };

  installErrorHandling(app);
  installNotFound(app);
  // Answers carry skeys and personal data: no cache may keep them (avatars override this).
  // Callback style, not async: an async hook costs a promise and a microtask turn on every answer.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    // An answer finished while shutting down closes its connection, which would otherwise idle
    // on as keep-alive and hold the shutdown up.
    if (lifecycle.closing) reply.header('connection', 'close');
    done(null, payload);
  });

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);

  healthRoutes(app, ctx);
  authRoutes(app, ctx);
  phoneRoutes(app, ctx);
  profileRoutes(app, ctx);
  orderRoutes(app, ctx);
  // Only the avatar routes take multipart. The plugin adds an async onRequest hook (a 'close'
  // listener) and an async onResponse hook (temp-file cleanup) to every route of its scope, so it
  // is kept in the avatars' own scope instead of taxing every JSON request.
  await app.register(async (avatars) => {
    await avatars.register(multipart, {
      limits: { fileSize: config.avatarMaxBytes, files: 1, fields: 10, fieldSize: 1024, parts: 12, headerPairs: 50 },
    });
    avatarRoutes(avatars, ctx);
  });
  if (simulator) {
    await app.register(async (local) => {
      onlyFromThisMachine(local);
      registerSimulatorRoutes(local, simulator);
      devRoutes(local, ctx, simulator);
    });
  }
  return app;
}
