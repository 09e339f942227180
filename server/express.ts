/**
 * `wx-login-server/express`: the login routes as an express router, with the same envelope as
 * the reference server for every failure on them (a body that is not JSON, a wrong method, a body
 * too large), and `requireSession` for the host's own routes, which sets `req.wxUser`.
 *
 *   const { router, requireSession } = expressWxLogin({ wechat: createSimulatedWeChat() });
 *   app.use(router);
 *   app.get('/mine', requireSession, (req, res) => res.json({ id: req.wxUser.id }));
 *
 * Mount the router before a global express.json(): the router reads its own bodies, with the
 * contract's rules (no prototype-setting keys, its size limit, its envelope for each refusal).
 */
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { Router as createRouter } from 'express';
import type { ApiErrorBody, ApiErrorCode } from '../typings/api';
import { bodyLimitOption, contractPaths, CONTRACT_ROUTES, type ContractRoute } from './core/contract-routes';
import { ApiError, OptionError } from './core/errors';
import { serviceFrom, type LoginService, type ServiceChoice } from './core/login-service';
import { schemaProblem } from './core/validate';
import { parseJson } from './json-body';
import type { Authenticated } from './session';

/** The user behind the request's session, as the server keeps it (openid included; never sent to the client as is). */
export type WxUser = Authenticated['user'];

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- express's own way to type what middleware adds to a request
  namespace Express {
    interface Request {
      /** The session's user on a route behind requireSession. */
      wxUser: WxUser;
    }
  }
}

/** Where failures the answer does not detail go: a 5xx's cause (warn), a bug (error). A pino logger fits. */
export interface ExpressLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/**
 * `wechat` (createSimulatedWeChat(), or `{ appId, secret }` for the real WeChat) and the other
 * options of createLoginService; or `service`, one the host made and uses elsewhere too.
 */
export interface ExpressWxLoginOptions extends ServiceChoice {
  /** Largest JSON body the login routes take, in bytes; more is 413 PAYLOAD_TOO_LARGE. Default 16384. */
  bodyLimit?: number;
  /** Defaults to console, one line per failure. */
  logger?: ExpressLogger;
}

export interface ExpressWxLogin {
  /** The contract's login routes (`/auth/login` and the rest); mount it where the mini-program's baseURL points. */
  router: Router;
  /** Middleware for the host's own routes: a live session or the contract's 401 envelope; sets `req.wxUser`. */
  requireSession: RequestHandler;
  service: LoginService;
}

const consoleLogger: ExpressLogger = {
  warn: (fields, message) => console.warn(message, JSON.stringify(fields)),
  error: (fields, message) => console.error(message, JSON.stringify(fields)),
};

function sendEnvelope(res: Response, status: number, code: ApiErrorCode, message: string, headers: Record<string, string> = {}): void {
  const body: ApiErrorBody = { error: { code, message } };
  res.status(status).set(headers).set('cache-control', 'no-store').json(body);
}

/** The path of a request without its query string (it can carry codes), at most 100 characters. */
const pathOf = (req: Request) => req.originalUrl.split('?')[0].slice(0, 100);

function checkedLogger(logger: unknown): ExpressLogger {
  if (logger === undefined) return consoleLogger;
  const given = logger as Partial<ExpressLogger> | null;
  if (typeof given !== 'object' || given === null || typeof given.warn !== 'function' || typeof given.error !== 'function') {
    throw new OptionError('logger', 'must have warn(fields, message) and error(fields, message) methods (a pino logger does)');
  }
  return given as ExpressLogger;
}

/** The JSON body of `req`, read to at most `limit` bytes; undefined when there is none. Throws ApiError for each refusal. */
async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  // A host's body parser (express.json()) read it first: its result is what there is.
  if (req.readableEnded) return req.body as unknown;
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/json') throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `unsupported content type ${JSON.stringify(type.slice(0, 100))}: send application/json`);
  const tooLarge = () => new ApiError('PAYLOAD_TOO_LARGE', `the body must be at most ${limit} bytes`);
  if (Number(length) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return parseJson(Buffer.concat(chunks, size).toString('utf8'));
}

export function expressWxLogin(options: ExpressWxLoginOptions): ExpressWxLogin {
  if (typeof options !== 'object' || options === null) throw new OptionError('options', 'must be an object with at least { wechat }');
  const { bodyLimit: givenBodyLimit, logger: givenLogger, ...rest } = options;
  const bodyLimit = bodyLimitOption(givenBodyLimit);
  const logger = checkedLogger(givenLogger);
  const service = serviceFrom(rest, logger);

  /** The envelope for `error`: an ApiError as itself (a 5xx is worth a warn line), anything else as a logged 500. */
  const fail = (req: Request, res: Response, error: unknown) => {
    if (error instanceof ApiError) {
      if (error.status >= 500) logger.warn({ code: error.code, cause: error.cause instanceof Error ? error.cause.message : undefined }, error.message);
      // A refused body may not have been read to its end: the connection cannot carry another request.
      if (error.code === 'PAYLOAD_TOO_LARGE') res.set('connection', 'close');
      return sendEnvelope(res, error.status, error.code, error.message, error.headers);
    }
    logger.error({ method: req.method, path: pathOf(req), err: error instanceof Error ? error.message : String(error) }, 'unhandled error');
    sendEnvelope(res, 500, 'INTERNAL', 'internal server error');
  };

  const handle = (route: ContractRoute) => async (req: Request, res: Response) => {
    try {
      const body = await readJsonBody(req, bodyLimit);
      if (route.body) {
        const problem = schemaProblem(route.body, body);
        if (problem !== null) throw new ApiError('BAD_REQUEST', problem);
      }
      const answer = await route.run(service, { authorization: req.headers.authorization, body, address: req.ip });
      res.status(200).set('cache-control', 'no-store').json(answer);
    } catch (error) {
      fail(req, res, error);
    }
  };

  const router = createRouter();
  for (const route of CONTRACT_ROUTES) router[route.method === 'GET' ? 'get' : route.method === 'DELETE' ? 'delete' : 'post'](route.url, handle(route));
  for (const { url, allowed } of contractPaths()) {
    router.all(url, (req: Request, res: Response, next: NextFunction) => {
      // OPTIONS stays the host's (CORS preflights).
      if (req.method === 'OPTIONS') return next();
      sendEnvelope(res, 405, 'METHOD_NOT_ALLOWED', `no route for ${req.method} ${pathOf(req)}; this path takes ${allowed.join(', ')}`, { allow: allowed.join(', ') });
    });
  }

  const requireSession: RequestHandler = (req, res, next) => {
    const proceed = ({ user }: Authenticated) => {
      req.wxUser = user;
      next();
    };
    let authenticated: ReturnType<LoginService['authenticateComplete']>;
    try {
      authenticated = service.authenticateComplete(req.headers.authorization);
    } catch (error) {
      return fail(req, res, error);
    }
    if (authenticated instanceof Promise) authenticated.then(proceed, (error: unknown) => fail(req, res, error));
    else proceed(authenticated);
  };

  return { router, requireSession, service };
}
