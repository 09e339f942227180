import { AuthError, type AuthErrorCode } from './errors';
import type { Response, WxFailure, WxLike } from './types';

/** A bounded pool of request slots, served in order; a login may go to the head of the line. */
export function createSlots(max: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    /** Resolves when a slot is held. `onQueued` receives the function that leaves the line. */
    acquire(first: boolean, onQueued: (leave: () => void) => void): Promise<void> {
      if (active < max) {
        active++;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const start = () => {
          active++;
          resolve();
        };
        if (first) waiting.unshift(start);
        else waiting.push(start);
        onQueued(() => {
          const i = waiting.indexOf(start);
          if (i >= 0) waiting.splice(i, 1);
        });
      });
    },
    release(): void {
      active--;
      const next = waiting.shift();
      if (next) next();
    },
  };
}

/**
 * Calls a callback-style wx API once and settles exactly once: with the success result, or with
 * an AuthError of `failCode` when it fails, throws, or stays silent past `timeout`.
 */
export function callWx<R>(
  where: string,
  timeout: number,
  invoke: (callbacks: { success: (r: R) => void; fail: (e: WxFailure) => void }) => { abort(): void } | void,
  failCode: AuthErrorCode,
  onAbortable?: (abort: () => void) => void,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let task: { abort(): void } | void;
    const stop = (code: AuthErrorCode, detail: string, cause?: unknown) => {
      clearTimeout(timer);
      reject(new AuthError(code, where, detail, cause));
    };
    const abort = (code: AuthErrorCode, detail: string) => {
      stop(code, detail);
      if (task) task.abort();
    };
    const timer = setTimeout(() => abort('TIMEOUT', `no answer within ${timeout} ms`), timeout);
    if (onAbortable) onAbortable(() => abort('CANCELLED', 'aborted'));
    try {
      task = invoke({
        success(result) {
          clearTimeout(timer);
          resolve(result);
        },
        // WeChat's own timeout says "request:fail timeout"; everything else is a network failure.
        fail: (e) => stop(/timeout/.test(e && e.errMsg) ? 'TIMEOUT' : failCode, (e && e.errMsg) || 'failed', e),
      });
    } catch (e) {
      stop(failCode, String(e), e);
    }
  });
}

/** One `wx.request` or `wx.uploadFile` attempt. Any HTTP answer resolves; the rest rejects. */
export function send(
  w: WxLike,
  upload: boolean,
  where: string,
  options: object,
  timeout: number,
  onAbortable: (abort: () => void) => void,
): Promise<Response> {
  return callWx<{ statusCode: number; data: unknown; header?: Record<string, string> }>(
    where,
    timeout,
    (callbacks) => {
      const call = { ...options, timeout, ...callbacks } as Parameters<WxLike['request']>[0] & Parameters<WxLike['uploadFile']>[0];
      return upload ? w.uploadFile(call) : w.request(call);
    },
    'NETWORK',
    onAbortable,
  ).then((r) => ({ statusCode: r.statusCode, data: upload ? parseJson(r.data) : r.data, header: r.header || {} }));
}

/** wx.uploadFile hands back the body as text; JSON is what our servers answer. */
function parseJson(data: unknown): unknown {
  try {
    return typeof data === 'string' ? JSON.parse(data) : data;
  } catch {
    return data;
  }
}
