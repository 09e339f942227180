import { AuthError, type AuthErrorCode } from './errors';
import type { Response, WxFailure, WxLike } from './types';

/**
 * WeChat runs at most 10 `wx.request`, `wx.uploadFile` and `wx.downloadFile` calls at once per
 * mini-program: one limit for the three together, not 10 each (network guide, "使用限制"). It
 * queues the rest itself, but there a login cannot go first and a queued call's timeout already
 * runs, so the service keeps its own line. The pool lives in this module, so every client the app
 * creates shares it (one pool per loaded copy of the module: load one copy).
 */
export const APP_LIMIT = 10;

/** One client's part of the pool: at most `max` of its calls in flight. */
export interface Share {
  max: number;
  active: number;
}

/** A place in line, then a slot; `go` runs once the slot is held. */
export interface Ticket {
  share: Share;
  go: () => void;
  held?: boolean;
}

export type Timer = ReturnType<typeof setTimeout> | undefined;
/** clearTimeout that accepts "no timer yet". */
export const clear = (timer: Timer): void => {
  if (timer !== undefined) clearTimeout(timer);
};

let active = 0;
const line: Ticket[] = [];

/** Lets in, in order, every call of the line that fits both the app's limit and its client's. */
function admit(): void {
  for (let i = 0; active < APP_LIMIT && i < line.length; ) {
    const ticket = line[i];
    if (ticket.share.active < ticket.share.max) {
      line.splice(i, 1);
      active++;
      ticket.share.active++;
      ticket.held = true;
      ticket.go();
    } else i++;
  }
}

/** Slots held and calls in line across the app, for tests that check nothing is left behind. */
export const poolState = () => ({ active, waiting: line.length });

/** Joins the line for a slot (a login joins at its head). */
export function enqueue(ticket: Ticket, first: boolean): void {
  if (first) line.unshift(ticket);
  else line.push(ticket);
  admit();
}

/** Gives back the slot, or the place in line; a second call does nothing. */
export function leave(ticket: Ticket): void {
  if (ticket.held) {
    ticket.held = false;
    active--;
    ticket.share.active--;
    admit();
  } else {
    const i = line.indexOf(ticket);
    if (i >= 0) line.splice(i, 1);
  }
}

/**
 * WeChat words a timeout differently per platform and network stack, and only in `errMsg`:
 * "request:fail timeout", "request:fail socket time out timeout:6000", "request:fail fail:time out",
 * "request:fail errcode:-118 cronet_error_code:-118 error_msg:net::ERR_CONNECTION_TIMED_OUT",
 * "request:fail -7:net::ERR_TIMED_OUT", "request:fail The request timed out.",
 * "request:fail 请求超时。", "request:fail 要求逾時。", "uploadFile:fail timeout".
 */
const TIMED_OUT = /time ?out|timed[ _]?out|超时|逾時/i;

/**
 * Calls a callback-style wx API once and settles exactly once: with the success result, or with an
 * AuthError of `failCode` (TIMEOUT when WeChat says it timed out) when it fails or throws. With a
 * `timeout`, silence past it is a TIMEOUT too and the task is aborted.
 */
export function callWx<R>(
  where: string,
  timeout: number,
  invoke: (callbacks: { success: (r: R) => void; fail: (e: WxFailure) => void }) => { abort(): void } | void,
  failCode: AuthErrorCode,
  onTask?: (abort: () => void) => void,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    let timer: Timer;
    const fail = (code: AuthErrorCode, detail: string, cause?: unknown) => {
      settled = true;
      clear(timer);
      reject(new AuthError(code, where, detail, cause));
    };
    try {
      const task = invoke({
        success(result) {
          settled = true;
          clear(timer);
          resolve(result);
        },
        fail(e) {
          const message = (e && e.errMsg) || 'failed';
          fail(TIMED_OUT.test(message) ? 'TIMEOUT' : failCode, message, e);
        },
      });
      const abort = () => task && task.abort();
      if (timeout && !settled) {
        timer = setTimeout(() => {
          fail('TIMEOUT', `no answer within ${timeout} ms`);
          abort();
        }, timeout);
      }
      if (onTask) onTask(abort);
    } catch (e) {
      fail(failCode, String(e), e);
    }
  });
}

/**
 * One `wx.request` or `wx.uploadFile` attempt. Any HTTP answer resolves; the rest rejects. The
 * caller times it (WeChat gets the same `timeout`) and aborts it through `onTask`.
 */
export function send(
  w: WxLike,
  upload: boolean,
  where: string,
  options: object,
  timeout: number,
  onTask: (abort: () => void) => void,
): Promise<Response> {
  return callWx<{ statusCode: number; data: unknown; header?: Record<string, string> }>(
    where,
    0,
    (callbacks) => {
      const call = { ...options, timeout, ...callbacks } as Parameters<WxLike['request']>[0] & Parameters<WxLike['uploadFile']>[0];
      return upload ? w.uploadFile(call) : w.request(call);
    },
    'NETWORK',
    onTask,
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
