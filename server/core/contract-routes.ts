/**
 * The contract's login routes, as data both adapters mount: method, path, the schemas of the
 * body and the answer (contract.ts), and the service call behind each. An adapter only reads the
 * request into this input and writes the answer or the error's envelope.
 */
import type { AccountDeleteRequest, BindRequest, LoginRequest, PhoneBindRequest, UserInfoRequest } from '../../typings/api';
import * as C from '../contract';
import type { MaybePromise } from '../stores/types';
import { OptionError } from './errors';
import type { LoginService } from './login-service';

/** What a route reads of a request. */
export interface RouteInput {
  authorization: string | undefined;
  /** Parsed and checked against the route's body schema already. */
  body: unknown;
  /** The client's address as the host's trusted proxies saw it. */
  address: string | undefined;
}

export interface ContractRoute {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  body?: object;
  response: object;
  run(service: LoginService, input: RouteInput): MaybePromise<unknown>;
}

export const CONTRACT_ROUTES: readonly ContractRoute[] = [
  { method: 'POST', url: '/auth/login', body: C.loginRequest, response: C.loginAnswer, run: (service, { body, address }) => service.login((body as LoginRequest).code, { address }) },
  // Bind mode (404 NOT_FOUND in open mode): a bind ticket, an account and its password make a binding and a session.
  { method: 'POST', url: '/auth/bind', body: C.bindRequest, response: C.loginResponse, run: (service, { body, address }) => service.bind(body as BindRequest, { address }) },
  { method: 'DELETE', url: '/auth/binding', response: C.unbindResponse, run: (service, { authorization, address }) => service.unbind(authorization, { address }) },
  // Not async: with the memory stores the answer is ready at once (see authenticate).
  { method: 'GET', url: '/auth/session', response: C.sessionResponse, run: (service, { authorization }) => service.session(authorization) },
  { method: 'POST', url: '/auth/logout', response: C.logoutResponse, run: (service, { authorization }) => service.logout(authorization) },
  {
    method: 'POST',
    url: '/auth/user-info',
    body: C.userInfoRequest,
    response: C.userInfoResponse,
    run: (service, { authorization, body }) => service.verifyUserInfo(authorization, body as UserInfoRequest),
  },
  {
    method: 'POST',
    url: '/auth/phone',
    body: C.phoneBindRequest,
    response: C.phoneBindResponse,
    run: (service, { authorization, body, address }) => service.bindPhone(authorization, (body as PhoneBindRequest).code, { address }),
  },
  {
    method: 'POST',
    url: '/api/account/delete',
    body: C.accountDeleteRequest,
    response: C.accountDeleteResponse,
    run: (service, { authorization, body }) => service.deleteOwnAccount(authorization, (body as AccountDeleteRequest).code),
  },
  { method: 'GET', url: '/api/account/export', response: C.accountExport, run: (service, { authorization }) => service.exportOwnAccount(authorization) },
];

/** The methods a 405 is answered for on a contract path (OPTIONS stays the host's: CORS preflights). */
const ANSWERED_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

/** Each contract path with the methods it takes (HEAD beside GET, as fastify and express answer it) and those it refuses. */
export function contractPaths(): { url: string; allowed: string[]; refused: string[] }[] {
  const byUrl = new Map<string, Set<string>>();
  for (const { url, method } of CONTRACT_ROUTES) {
    const methods = byUrl.get(url) ?? new Set<string>();
    methods.add(method);
    if (method === 'GET') methods.add('HEAD');
    byUrl.set(url, methods);
  }
  return [...byUrl].map(([url, methods]) => ({ url, allowed: [...methods].sort(), refused: ANSWERED_METHODS.filter((method) => !methods.has(method)) }));
}

/** The `bodyLimit` option of an adapter: bytes of JSON a login route takes (16 KB unless given); a mistake names it. */
export function bodyLimitOption(bodyLimit: unknown): number {
  if (bodyLimit === undefined) return 16 * 1024;
  if (typeof bodyLimit !== 'number' || !Number.isInteger(bodyLimit) || bodyLimit < 1024 || bodyLimit > 10 * 1024 * 1024) {
    throw new OptionError('bodyLimit', 'must be an integer from 1024 to 10485760 (bytes)');
  }
  return bodyLimit;
}
