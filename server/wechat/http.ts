/** How the server calls WeChat's APIs: one HTTP call at a time, bounded in time and size, JSON objects only. */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ApiError } from '../errors';

/** A JSON body to POST; without one the call is a GET. */
export interface TransportRequest {
  body: string;
}

/** One HTTP call, answered with status and body text. Injectable so tests can route it anywhere. */
export type Transport = (url: string, signal: AbortSignal, request?: TransportRequest) => Promise<{ status: number; body: string }>;

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

/**
 * One HTTP call over the kept-open connections, without following redirects (the secret or the
 * access_token is in the query string: a redirect would carry it to wherever WeChat, or whoever
 * stands in its way, points) and reading at most MAX_ANSWER_BYTES of the body. Aborting `signal`
 * destroys the connection.
 */
export const httpTransport: Transport = (url, signal, request) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const agent = target.protocol === 'https:' ? agents['https:'] : target.protocol === 'http:' ? agents['http:'] : null;
    if (!agent) {
      reject(new Error(`not an HTTP URL: ${target.protocol}`));
      return;
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = request ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body) } : {};
    const call = send(target, { agent, method: request ? 'POST' : 'GET', headers, signal }, (response) => {
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
      // Cut off mid-answer (the connection reset, or `signal` aborted): the promise settles once, so a later resolve or reject is ignored.
      response.on('error', reject);
      response.on('close', () => {
        if (!response.complete) reject(new Error('the connection closed before the answer was complete'));
      });
    });
    call.on('error', reject);
    call.end(request?.body);
  });

/** 502: what went wrong goes to the server's log (as the cause), never to the mini-program. */
export const unavailable = (message: string, cause?: unknown) =>
  Object.assign(new ApiError('WECHAT_UNAVAILABLE', 'WeChat could not be reached or answered something unusable'), { cause: cause ?? new Error(message) });

/**
 * One call to a WeChat API: the JSON object it answered, or ApiError (504 WECHAT_TIMEOUT after
 * `timeoutMs`, 502 WECHAT_UNAVAILABLE when unreachable or answering anything but a JSON object).
 * The URL can hold the secret or the access_token: it never goes into an error or a log line.
 */
export async function callWeChat(transport: Transport, url: string, timeoutMs: number, request?: TransportRequest): Promise<Record<string, unknown>> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new ApiError('WECHAT_TIMEOUT', `WeChat did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  let answer: { status: number; body: string };
  try {
    answer = await Promise.race([transport(url, controller.signal, request), timeout]);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw unavailable('transport failed', error);
  } finally {
    clearTimeout(timer);
  }

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
