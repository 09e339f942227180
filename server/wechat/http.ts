/** How the server calls WeChat's APIs: one HTTP call at a time, bounded in time, JSON objects only. */
import { ApiError } from '../errors';

/** A JSON body to POST; without one the call is a GET. */
export interface TransportRequest {
  body: string;
}

/** One HTTP call, answered with status and body text. Injectable so tests can route it anywhere. */
export type Transport = (url: string, signal: AbortSignal, request?: TransportRequest) => Promise<{ status: number; body: string }>;

export const fetchTransport: Transport = async (url, signal, request) => {
  const response = await fetch(url, request ? { signal, method: 'POST', headers: { 'content-type': 'application/json' }, body: request.body } : { signal });
  return { status: response.status, body: await response.text() };
};

/**
 * One call to a WeChat API: the JSON object it answered, or ApiError (504 WECHAT_TIMEOUT after
 * `timeoutMs`, 502 WECHAT_UNAVAILABLE when unreachable or answering anything but a JSON object).
 * The URL can hold a secret or the access_token: it never goes into an error or a log line.
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
    throw new ApiError('WECHAT_UNAVAILABLE', 'WeChat could not be reached');
  } finally {
    clearTimeout(timer);
  }

  if (answer.status < 200 || answer.status > 299) {
    throw new ApiError('WECHAT_UNAVAILABLE', `WeChat answered HTTP ${answer.status}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.body);
  } catch {
    throw new ApiError('WECHAT_UNAVAILABLE', 'WeChat answered something other than JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError('WECHAT_UNAVAILABLE', 'WeChat answered an unexpected shape');
  return body as Record<string, unknown>;
}

/** An answer's errcode: 0 when absent (real WeChat omits it on success), NaN when it is not a number. */
export function errcodeOf(body: Record<string, unknown>): number {
  const { errcode } = body;
  if (errcode === undefined) return 0;
  return typeof errcode === 'number' ? errcode : Number.NaN;
}

