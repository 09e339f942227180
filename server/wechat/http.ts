/** How the server calls WeChat's APIs: one HTTP call at a time, bounded in time and size, JSON objects only. */
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
 * fetch, without following redirects (the secret or the access_token is in the query string: a
 * redirect would carry it to wherever WeChat, or whoever stands in its way, points) and reading at
 * most MAX_ANSWER_BYTES of the body.
 */
export const fetchTransport: Transport = async (url, signal, request) => {
  const response = await fetch(
    url,
    request ? { signal, redirect: 'manual', method: 'POST', headers: { 'content-type': 'application/json' }, body: request.body } : { signal, redirect: 'manual' },
  );
  if (Number(response.headers.get('content-length')) > MAX_ANSWER_BYTES) {
    await response.body?.cancel();
    throw new AnswerTooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await response.body.cancel().catch(() => undefined);
        throw new AnswerTooLarge();
      }
      chunks.push(chunk);
    }
  }
  return { status: response.status, body: Buffer.concat(chunks).toString('utf8') };
};

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
