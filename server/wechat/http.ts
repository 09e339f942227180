/** How the server calls WeChat's APIs: one HTTP call at a time, bounded in time and size, JSON objects only. */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ApiError } from '../errors';

/** A JSON body to POST; without one the call is a GET. */
export interface TransportRequest {
  body: string;
}

/**
 * A call's time limit as a transport sees it. A plain callback rather than an AbortSignal: node's
 * EventTarget and http.request's signal handling cost more per call than the rest of the client.
 */
export interface Deadline {
  readonly timeoutMs: number;
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
 * Connections kept open between calls, one pool per protocol: HTTPS to the real WeChat, HTTP to
 * the simulated one on loopback. A call on an open connection skips the TCP (and TLS) handshake;
 * fetch pools connections too, but its per-call machinery (WHATWG streams, Headers, Response)
 * cost as much as the rest of a login.
 *
 * An idle connection is closed after 4 s, before any server's keep-alive timeout is likely to end
 * it first (node's own default is 5 s; a connection a server closes just as it is reused fails
 * the call): the same margin undici (fetch) keeps. Up to 256 connections per host: a flood of
 * logins waits for one (within its timeout) rather than opening sockets without end.
 */
const AGENT_OPTIONS = { keepAlive: true, timeout: 4000, maxSockets: 256, scheduling: 'lifo' } as const;
const agents = { 'http:': new HttpAgent(AGENT_OPTIONS), 'https:': new HttpsAgent(AGENT_OPTIONS) };

interface Origin {
  send: typeof httpRequest;
  agent: HttpAgent;
  hostname: string;
  port: number;
}

/** Each origin called, parsed once (the WeChat API's, or the simulator's): a URL object per call cost more than the call's own work. */
const origins = new Map<string, Origin>();

function originOf(url: string): { origin: Origin; path: string } {
  const pathAt = url.indexOf('/', url.indexOf('//') + 2);
  const key = pathAt === -1 ? url : url.slice(0, pathAt);
  let origin = origins.get(key);
  if (!origin) {
    const { protocol, hostname, port } = new URL(key);
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(`not an HTTP URL: ${protocol}`);
    origin = {
      send: protocol === 'https:' ? httpsRequest : httpRequest,
      agent: agents[protocol],
      // http.request takes an IPv6 address without the URL's brackets.
      hostname: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname,
      port: port === '' ? (protocol === 'https:' ? 443 : 80) : Number(port),
    };
    // A server calls one or two origins; the bound keeps a misuse from growing the map.
    if (origins.size < 16) origins.set(key, origin);
  }
  return { origin, path: pathAt === -1 ? '/' : url.slice(pathAt) };
}

/**
 * One HTTP call over the kept-open connections, without following redirects (the secret or the
 * access_token is in the query string: a redirect would carry it to wherever WeChat, or whoever
 * stands in its way, points) and reading at most MAX_ANSWER_BYTES of the body. At its deadline the
 * connection is destroyed.
 */
export const httpTransport: Transport = (url, deadline, request) =>
  new Promise((resolve, reject) => {
    const { origin, path } = originOf(url);
    const headers = request ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body) } : {};
    const call = origin.send({ hostname: origin.hostname, port: origin.port, path, method: request ? 'POST' : 'GET', headers, agent: origin.agent }, (response) => {
      const tooLarge = () => {
        // Destroyed, not returned to the pool: the rest of that answer must never be read as the next one.
        response.destroy();
        reject(new AnswerTooLarge());
      };
      if (Number(response.headers['content-length']) > MAX_ANSWER_BYTES) return tooLarge();
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) tooLarge();
        else chunks.push(chunk);
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks, size).toString('utf8') }));
      // Cut off mid-answer (the connection reset, or the deadline): the promise settles once, so a later resolve or reject is ignored.
      response.on('error', reject);
      response.on('close', () => {
        if (!response.complete) reject(new Error('the connection closed before the answer was complete'));
      });
    });
    deadline.onExpiry(() => call.destroy(new Error('the deadline passed')));
    call.on('error', reject);
    call.end(request?.body);
  });

/** 502: what went wrong goes to the server's log (as the cause), never to the mini-program. */
export const unavailable = (message: string, cause?: unknown) =>
  Object.assign(new ApiError('WECHAT_UNAVAILABLE', 'WeChat could not be reached or answered something unusable'), { cause: cause ?? new Error(message) });

/** What callWeChat gives a transport: one timer per call, which also ends the wait for a transport that ignores it. */
class CallDeadline implements Deadline {
  expired = false;
  #stop: (() => void) | undefined;

  constructor(readonly timeoutMs: number) {}

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
    const deadline = new CallDeadline(timeoutMs);
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
