/** How the server calls WeChat's APIs: one HTTP call at a time, bounded in time and size, JSON objects only. */
import type { IncomingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { ApiError } from '../core/errors';

/** A JSON body to POST; without one the call is a GET. */
export interface TransportRequest {
  body: string;
}

/**
 * A call's time limit as a transport sees it. A plain callback rather than an AbortSignal: an
 * AbortController (an EventTarget) and its listeners cost more per call than the client's own work.
 */
export interface Deadline {
  /** Whether the limit has passed: the answer is no longer wanted. */
  readonly expired: boolean;
  /** Registers what stops the call (closing its connection), run if the limit passes before the call settles. */
  onExpiry(stop: () => void): void;
}

/** One HTTP call, answered with status and body text. Injectable so tests can route it anywhere. */
export type Transport = (url: string, deadline: Deadline, request?: TransportRequest) => Promise<{ status: number; body: string }>;

/** WeChat's answers are at most a few hundred bytes (a jscode2session answer about 100); anything near this is not one. */
export const MAX_ANSWER_BYTES = 16 * 1024;

/** Thrown by the transport for an answer it will not read to the end. */
export class AnswerTooLarge extends Error {
  constructor() {
    super(`WeChat's answer exceeded ${MAX_ANSWER_BYTES} bytes`);
    this.name = 'AnswerTooLarge';
  }
}

/**
 * Connections kept open between calls, one pool per origin (HTTPS to the real WeChat, HTTP to the
 * simulated one on loopback), by undici (the HTTP client inside node's own fetch), called through
 * its dispatch API. A call on an open connection skips the TCP (and TLS) handshake. Per call,
 * measured on logins: fetch's WHATWG streams, Headers and Response objects cost as much as the
 * rest of a login; node:http's ClientRequest and Agent on kept-open connections cost 15% more
 * server CPU per login than this.
 *
 * An idle connection is closed after 4 s, before any server's keep-alive timeout is likely to end
 * it first (node's own default is 5 s; a connection a server closes just as it is reused fails the
 * call); undici also honours a shorter Keep-Alive hint from the server. Up to 256 connections per
 * origin: a flood of logins waits for one (within its deadline) rather than opening sockets
 * without end. Redirects are never followed: undici's dispatch follows none.
 */
const POOL_OPTIONS = { connections: 256, keepAliveTimeout: 4000, keepAliveMaxTimeout: 4000 } as const;
/** A server calls one or two origins; past this many (a process making many apps, as tests do), the oldest pool is closed. */
const MAX_POOLS = 16;

/** Each origin called, with its pool, parsed once: a URL object per call cost more than the call's own work. */
const pools = new Map<string, Pool>();

function poolFor(url: string): { pool: Pool; path: string } {
  const pathAt = url.indexOf('/', url.indexOf('//') + 2);
  const origin = pathAt === -1 ? url : url.slice(0, pathAt);
  let pool = pools.get(origin);
  if (!pool) {
    const { protocol } = new URL(origin);
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`not an HTTP URL: ${protocol}`);
    if (pools.size >= MAX_POOLS) {
      const [oldest, retired] = pools.entries().next().value!;
      pools.delete(oldest);
      // Lets calls under way finish, then closes the connections.
      void retired.close();
    }
    pools.set(origin, (pool = new Pool(origin, POOL_OPTIONS)));
  }
  return { pool, path: pathAt === -1 ? '/' : url.slice(pathAt) };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * One call's answer as undici's dispatch delivers it (no stream object per call): the status and
 * the body, read to MAX_ANSWER_BYTES at most. Aborting (at the deadline, or past the size) closes
 * the connection rather than returning it to the pool, so the rest of an answer is never read as
 * the next one.
 */
class AnswerReader implements Dispatcher.DispatchHandler {
  #status = 0;
  readonly #chunks: Buffer[] = [];
  #size = 0;

  constructor(
    private readonly deadline: Deadline,
    private readonly resolve: (answer: { status: number; body: string }) => void,
    private readonly reject: (error: Error) => void,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    // A call that waited for a connection past its deadline is not sent at all.
    if (this.deadline.expired) controller.abort(new Error('the deadline passed'));
    else this.deadline.onExpiry(() => controller.abort(new Error('the deadline passed')));
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.#status = statusCode;
    if (Number(headers['content-length']) > MAX_ANSWER_BYTES) controller.abort(new AnswerTooLarge());
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > MAX_ANSWER_BYTES) controller.abort(new AnswerTooLarge());
    else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.resolve({ status: this.#status, body: Buffer.concat(this.#chunks, this.#size).toString('utf8') });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.reject(error);
  }
}

/**
 * One HTTP call over the kept-open connections, without following redirects (the secret or the
 * access_token is in the query string: a redirect would carry it to wherever WeChat, or whoever
 * stands in its way, points) and reading at most MAX_ANSWER_BYTES of the body. At its deadline the
 * call is aborted, its connection closed.
 */
export const httpTransport: Transport = (url, deadline, request) =>
  new Promise((resolve, reject) => {
    const { pool, path } = poolFor(url);
    pool.dispatch({ path, method: request ? 'POST' : 'GET', headers: request ? JSON_HEADERS : undefined, body: request?.body }, new AnswerReader(deadline, resolve, reject));
  });

/** 502: what went wrong goes to the server's log (as the cause), never to the mini-program. */
export const unavailable = (message: string, cause?: unknown) =>
  Object.assign(new ApiError('WECHAT_UNAVAILABLE', 'WeChat could not be reached or answered something unusable'), { cause: cause ?? new Error(message) });

/** What callWeChat gives a transport: one timer per call, which also ends the wait for a transport that ignores it. */
class CallDeadline implements Deadline {
  expired = false;
  #stop: (() => void) | undefined;

  onExpiry(stop: () => void): void {
    this.#stop = stop;
  }

  expire(): void {
    this.expired = true;
    this.#stop?.();
  }
}

/**
 * One call to a WeChat API: the JSON object it answered, or ApiError (504 WECHAT_TIMEOUT after
 * `timeoutMs`, 502 WECHAT_UNAVAILABLE when unreachable or answering anything but a JSON object).
 * The URL can hold the secret or the access_token: it never goes into an error or a log line.
 */
export function callWeChat(transport: Transport, url: string, timeoutMs: number, request?: TransportRequest): Promise<Record<string, unknown>> {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const deadline = new CallDeadline();
    const timer = setTimeout(() => {
      deadline.expire();
      reject(new ApiError('WECHAT_TIMEOUT', `WeChat did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const failed = (error: unknown) => {
      clearTimeout(timer);
      reject(error instanceof ApiError ? error : unavailable('transport failed', error));
    };
    try {
      transport(url, deadline, request).then((answer) => {
        clearTimeout(timer);
        resolve(answer);
      }, failed);
    } catch (error) {
      failed(error);
    }
  }).then(answerBody);
}

/** The JSON object of an answer, or 502. */
function answerBody(answer: { status: number; body: string }): Record<string, unknown> {
  if (answer.status < 200 || answer.status > 299) throw unavailable(`HTTP ${answer.status}`);
  if (answer.body.length > MAX_ANSWER_BYTES) throw unavailable('answer too large');
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    throw unavailable('answer is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw unavailable('answer is not an object');
  return body as Record<string, unknown>;
}

/** An answer's errcode: 0 when absent (real WeChat omits it on success), NaN when it is not a number. */
export function errcodeOf(body: Record<string, unknown>): number {
  const { errcode } = body;
  if (errcode === undefined) return 0;
  return typeof errcode === 'number' ? errcode : Number.NaN;
}
