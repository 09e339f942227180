import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import { startRetention } from './audit';
import { AvatarFiles } from './avatars';
import type { Config } from './config';
import type { Context } from './context';
import { clientErrorHandler, failureDetails, frameworkErrors, installErrorHandling } from './errors';
import { beginShutdown, httpServerFactory, type Lifecycle } from './http-server';
import { parseJsonBody } from './json-body';
import { createLoginService } from './core/login-service';
import { menusFor } from './roles';
import { fastifyWxLogin } from './fastify';
import { createLogging } from './logging';
import { originOnThisMachine, proxyTrust } from './net';
import { installNotFound } from './not-found';
import { preparePrivateDir } from './private-dir';
import { approvalRoutes } from './routes/approvals';
import { avatarRoutes } from './routes/avatar';
import { devRoutes } from './routes/dev';
import { healthRoutes } from './routes/health';
import { onlyFromThisMachine } from './routes/local-only';
import { orderRoutes } from './routes/orders';
import { profileRoutes } from './routes/profile';
import { logPushEvents, wechatEventRoutes, type PushHandler } from './routes/wechat-events';
import { pushEventProcessorFor } from './push-events/in-app';
import { storesFromConfig } from './stores/from-config';
import type { Clock, Stores } from './stores/types';
import { createWeChatClient, type Transport } from './wechat/client';
import { createSimulator, registerSimulatorRoutes, type Simulator } from './wechat/simulator';

export interface AppOptions {
  config: Config;
  /** Defaults to Date.now; tests move time with their own. */
  now?: Clock;
  /** Defaults to the stores the config names (see stores/from-config.ts). Closed with the app. */
  stores?: Stores;
  /** How the WeChat client reaches WeChat; defaults to HTTP over kept-open connections (wechat/http.ts). */
  wechatTransport?: Transport;
  /** Simulated mode's WeChat; defaults to a fresh one. Given, so that a transport can call it directly (see callSimulator). */
  simulator?: Simulator;
  /** Where log lines go; defaults to stdout. `false` turns logging off. */
  log?: Writable | false;
  /** What is done with each verified WeChat push (with WX_PUSH_TOKEN/WX_PUSH_AES_KEY); defaults to an info log line. */
  onPushEvent?: PushHandler;
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
export async function buildApp({ config, now = Date.now, stores: givenStores, wechatTransport, simulator: givenSimulator, log, onPushEvent }: AppOptions): Promise<FastifyInstance> {
  const lifecycle: Lifecycle = { closing: false };
  // Before anything is opened: a folder refused here stops the start with nothing to close.
  const uploadDir = await preparePrivateDir(config.uploadDir, 'UPLOAD_DIR');
  const logging = createLogging(config.logLevel, log);
  const app = Fastify({
    // Timeouts, connection caps and the 503 while closing live in the http.Server (see http-server.ts).
    serverFactory: httpServerFactory(config, lifecycle),
    return503OnClosing: false,
    frameworkErrors,
    // Every line scrubbed of secrets, request loggers made on first use, the request line apart: see logging.ts.
    ...(logging.logger ? { loggerInstance: logging.logger } : {}),
    logController: logging.controller,
    bodyLimit: config.bodyLimitBytes,
    // Without a proxy, fastify's plain Request class: the trust-proxy one walks X-Forwarded-For through proxy-addr on every read of request.ip.
    trustProxy: config.trustProxy === false ? false : proxyTrust(config.trustProxy),
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  const stores =
    givenStores ??
    (await storesFromConfig(config, now, {
      database: (error) => app.log.warn({ err: error.message }, 'database'),
      redis: (error) => app.log.warn({ err: error.message }, 'redis'),
    }));
  app.addHook('preClose', (done) => {
    lifecycle.closing = true;
    if (app.server.listening) beginShutdown(app.server);
    done();
  });
  // The audit trail's retention: a purge now (not waited for: a slow one must not hold the start) and daily.
  const retention = startRetention({
    audit: stores.audit,
    now,
    retentionMs: config.auditRetentionDays * 24 * 3600 * 1000,
    onPurged: (count) => app.log.info({ count, retentionDays: config.auditRetentionDays }, 'audit entries past their retention purged'),
    onError: (error) => app.log.error({ err: error instanceof Error ? error.message : String(error), ...failureDetails(error) }, 'purging the audit trail failed; the next daily run tries again'),
  });
  app.addHook('onClose', async () => {
    // A purge under way finishes before its database closes.
    await retention.stop();
    await stores.close();
    logging.close();
  });

  const simulated = config.wechat.mode === 'simulated';
  const simulator = simulated ? (givenSimulator ?? createSimulator({ appId: config.wechat.appId, secret: config.wechat.secret, now })) : null;
  const origin = () => config.publicUrl ?? loopbackOrigin(app) ?? `http://${config.host}:${config.port}`;
  /** A warn line for a failure the answer does not show: what failed, and why (see failureDetails). */
  const warnOf = (what: string) => (error: unknown) => app.log.warn({ err: error instanceof Error ? error.message : String(error), ...failureDetails(error) }, what);
  // Simulated mode: the server asks its own simulator, over HTTP like the real thing, at the
  // address it listens on, looked up once it listens (server.address() on every login showed up in its profile).
  let wechatBase = config.wechat.apiBase;
  const wechatBaseUrl = () => (wechatBase ??= loopbackOrigin(app)) ?? 'http://127.0.0.1';
  const wechat = createWeChatClient({
    baseUrl: wechatBaseUrl,
    appId: config.wechat.appId,
    secret: config.wechat.secret,
    timeoutMs: config.wechat.timeoutMs,
    ...(wechatTransport ? { transport: wechatTransport } : {}),
    credentials: stores.credentials,
    now,
    onTokenRenewalFailed: warnOf('renewing the WeChat access token failed; the current one serves until it expires'),
    onTokenCacheFailed: warnOf('the credential cache failed to keep the fetched WeChat access token; it is used all the same'),
  });
  const avatars = new AvatarFiles(uploadDir, origin, (name, error) => app.log.warn({ file: name, err: error.message }, 'deleting an avatar file failed; it stays on disk'));
  const ctx: Context = {
    config,
    now,
    stores,
    simulator,
    lifecycle,
    avatars,
    pushEvents: null,
    wechat,
    // The login routes' logic, the same service the plugin below mounts.
    login: createLoginService({
      wechat: { appId: config.wechat.appId, client: wechat },
      stores,
      now,
      sessionLifetimeMs: config.sessionLifetimeMs,
      loginRateLimit: config.loginRateLimit,
      loginRateWindowMs: config.loginRateWindowMs,
      phoneBindLimit: config.phoneBindLimit,
      phoneBindWindowMs: config.phoneBindWindowMs,
      phoneBindTimeoutMs: config.phoneBindTimeoutMs,
      requirePhone: config.requirePhone,
      menus: menusFor,
      // Where an audit entry that could not be written is reported.
      logger: app.log,
      // A deleted account's uploaded avatar goes with it.
      userFiles: avatars,
      accountMode: config.accountMode,
    }),
  };

  installErrorHandling(app);
  installNotFound(app);
  // Answers carry skeys and personal data: no cache may keep them. Every route, whoever registers
  // it after this hook, sets cache-control: no-store before its handler runs (a route whose
  // answers may be cached, the avatars, sets its own); errors and 404s get it with the envelope
  // (errors.ts). Set per route, it costs a header assignment; an onSend hook on every answer cost
  // a hook run per request.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function noStore(this: FastifyInstance, request, reply) {
      reply.header('cache-control', 'no-store');
      return handler.call(this, request, reply);
    };
  });

  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);

  healthRoutes(app, ctx);
  // The login routes, as any host mounts them (server/fastify.ts).
  await app.register(fastifyWxLogin, { service: ctx.login, bodyLimit: config.bodyLimitBytes });
  profileRoutes(app, ctx);
  orderRoutes(app, ctx);
  approvalRoutes(app, ctx);
  if (config.push) {
    // A cancellation deletes the account as every other deletion does (the same files, sessions and limits).
    const processor = onPushEvent ? null : pushEventProcessorFor(app, ctx, (userId, options) => ctx.login.accounts.deleteAccount(userId, options));
    ctx.pushEvents = processor;
    const received = logPushEvents(app.log);
    const handle: PushHandler =
      onPushEvent ??
      (async (event) => {
        received(event);
        await processor?.handle(event);
      });
    wechatEventRoutes(app, { settings: { ...config.push, appId: config.wechat.appId }, now, handle });
  }
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
