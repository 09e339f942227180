/**
 * The parts of WeChat's `wx` API that the auth service uses, for Node: real HTTP requests,
 * storage in memory, and `login` backed by the development server's `POST /dev/codes`.
 * Callback style with wx's semantics (success/fail, then complete; never synchronously), so
 * the same code that runs in the mini-program runs in tests, the demo and benchmarks.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEVTOOLS_MOCK_CODE } from '../server/wechat/simulator';

type Header = Record<string, string>;
type Method = 'GET' | 'HEAD' | 'OPTIONS' | 'POST' | 'PUT' | 'DELETE' | 'TRACE' | 'CONNECT';

export interface WxError {
  errMsg: string;
}
interface Callbacks<R> {
  success?: (result: R) => void;
  fail?: (error: WxError) => void;
  complete?: (result: R | WxError) => void;
}
export interface RequestSuccess {
  statusCode: number;
  data: unknown;
  header: Header;
  cookies: string[];
  errMsg: string;
}
export interface UploadSuccess {
  statusCode: number;
  data: string;
  header: Header;
  errMsg: string;
}
export interface RequestOption extends Callbacks<RequestSuccess> {
  url: string;
  method?: Method;
  data?: string | object | ArrayBuffer;
  header?: Header;
  timeout?: number;
  dataType?: string;
  responseType?: 'text' | 'arraybuffer';
}
export interface UploadFileOption extends Callbacks<UploadSuccess> {
  url: string;
  filePath: string;
  name: string;
  header?: Header;
  formData?: Record<string, unknown>;
  timeout?: number;
}
export interface Task {
  abort(): void;
}

export interface NodeWx {
  login(options: Callbacks<{ code: string; errMsg: string }> & { timeout?: number }): void;
  checkSession(options: Callbacks<{ errMsg: string }>): void;
  request(options: RequestOption): Task;
  uploadFile(options: UploadFileOption): Task;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, data: unknown): void;
  removeStorageSync(key: string): void;
  /** The simulated user `login` gets codes for. */
  user: string | undefined;
  /** How often each API was called: tests assert on these. */
  readonly calls: { login: number; checkSession: number; request: number; uploadFile: number };
}

export interface NodeWxOptions {
  /** Origin of the development server, e.g. http://127.0.0.1:3000. */
  server: string;
  /** Simulated user name for `login`; the server's default development user when omitted. */
  user?: string;
  /**
   * Behave as WeChat DevTools in tourist mode (appid "touristappid"): `login` answers the same
   * mock code every time without asking anyone, and `checkSession` fails.
   */
  tourist?: boolean;
}


/** wx calls back on a later tick, never inside the call. */
function settle<R>(options: Callbacks<R>, outcome: { ok: true; result: R } | { ok: false; error: WxError }): void {
  setImmediate(() => {
    if (outcome.ok) {
      options.success?.(outcome.result);
      options.complete?.(outcome.result);
    } else {
      options.fail?.(outcome.error);
      options.complete?.(outcome.error);
    }
  });
}

function flatHeaders(headers: IncomingHttpHeaders): Header {
  const flat: Header = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

function hasHeader(header: Header, name: string): string | undefined {
  const key = Object.keys(header).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : header[key];
}

interface RawAnswer {
  statusCode: number;
  header: Header;
  body: Buffer;
}

/** One HTTP exchange; `fail` receives the reason after "<api>:fail ". */
function exchange(
  url: string,
  method: string,
  header: Header,
  body: Buffer | undefined,
  timeout: number | undefined,
  done: (outcome: { ok: true; answer: RawAnswer } | { ok: false; reason: string }) => void,
): Task {
  let finished = false;
  const finish = (outcome: Parameters<typeof done>[0]) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    done(outcome);
  };
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    setImmediate(() => finish({ ok: false, reason: 'invalid url' }));
    return { abort: () => undefined };
  }
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = send(target, { method, headers: body ? { ...header, 'content-length': String(body.length) } : header }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => finish({ ok: true, answer: { statusCode: res.statusCode ?? 0, header: flatHeaders(res.headers), body: Buffer.concat(chunks) } }));
    res.on('error', (error) => finish({ ok: false, reason: error.message }));
  });
  req.on('error', (error) => finish({ ok: false, reason: error.message }));
  const timer = timeout
    ? setTimeout(() => {
        finish({ ok: false, reason: 'timeout' });
        req.destroy();
      }, timeout)
    : undefined;
  req.end(body);
  return {
    abort() {
      finish({ ok: false, reason: 'abort' });
      req.destroy();
    },
  };
}

/** wx.request's body rules: GET data becomes the query string, objects become JSON or a form. */
function encodeRequest(url: string, method: string, header: Header, data: RequestOption['data']): { url: string; body: Buffer | undefined } {
  if (data === undefined) return { url, body: undefined };
  if (data instanceof ArrayBuffer) return { url, body: Buffer.from(data) };
  if (method === 'GET' && typeof data === 'object') {
    const query = new URLSearchParams(Object.entries(data).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    return { url: `${url}${url.includes('?') ? '&' : '?'}${query}`, body: undefined };
  }
  if (typeof data === 'string') return { url, body: Buffer.from(data) };
  const form = /application\/x-www-form-urlencoded/i.test(hasHeader(header, 'content-type') ?? '');
  return { url, body: Buffer.from(form ? new URLSearchParams(data as Record<string, string>).toString() : JSON.stringify(data)) };
}

export function createNodeWx({ server, user, tourist = false }: NodeWxOptions): NodeWx {
  const storage = new Map<string, unknown>();
  const calls = { login: 0, checkSession: 0, request: 0, uploadFile: 0 };

  const wx: NodeWx = {
    user,
    calls,

    login(options) {
      calls.login++;
      if (tourist) return settle(options, { ok: true, result: { code: DEVTOOLS_MOCK_CODE, errMsg: 'login:ok' } });
      const body = Buffer.from(JSON.stringify(wx.user === undefined ? {} : { user: wx.user }));
      exchange(`${server}/dev/codes`, 'POST', { 'content-type': 'application/json' }, body, options.timeout, (outcome) => {
        if (!outcome.ok) return settle(options, { ok: false, error: { errMsg: `login:fail ${outcome.reason}` } });
        try {
          const { code } = JSON.parse(outcome.answer.body.toString()) as { code?: unknown };
          if (outcome.answer.statusCode === 200 && typeof code === 'string') return settle(options, { ok: true, result: { code, errMsg: 'login:ok' } });
        } catch {
          // Not JSON: reported below like any other unusable answer.
        }
        settle(options, { ok: false, error: { errMsg: `login:fail server answered ${outcome.answer.statusCode}` } });
      });
    },

    checkSession(options) {
      calls.checkSession++;
      if (tourist) return settle(options, { ok: false, error: { errMsg: 'checkSession:fail' } });
      // The simulated session_key never expires on its own.
      settle(options, { ok: true, result: { errMsg: 'checkSession:ok' } });
    },

    request(options) {
      calls.request++;
      const method = (options.method ?? 'GET').toUpperCase();
      const header: Header = { ...options.header };
      if (hasHeader(header, 'content-type') === undefined) header['content-type'] = 'application/json';
      const { url, body } = encodeRequest(options.url, method, header, options.data);
      return exchange(url, method, header, body, options.timeout, (outcome) => {
        if (!outcome.ok) return settle(options, { ok: false, error: { errMsg: `request:fail ${outcome.reason}` } });
        const { statusCode, header: responseHeader, body: raw } = outcome.answer;
        let data: unknown = options.responseType === 'arraybuffer' ? raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) : raw.toString('utf8');
        if (options.responseType !== 'arraybuffer' && (options.dataType ?? 'json') === 'json') {
          try {
            data = JSON.parse(data as string);
          } catch {
            // wx hands over the text when it is not JSON.
          }
        }
        settle(options, { ok: true, result: { statusCode, data, header: responseHeader, cookies: [], errMsg: 'request:ok' } });
      });
    },

    uploadFile(options) {
      calls.uploadFile++;
      let task: Task | undefined;
      let aborted = false;
      const fail = (reason: string) => settle(options, { ok: false, error: { errMsg: `uploadFile:fail ${reason}` } });
      readFile(options.filePath).then(
        (file) => {
          if (aborted) return;
          const boundary = `----wxNodeBoundary${randomBytes(12).toString('hex')}`;
          const parts: Buffer[] = [];
          for (const [name, value] of Object.entries(options.formData ?? {})) {
            parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${typeof value === 'string' ? value : JSON.stringify(value)}\r\n`));
          }
          parts.push(
            Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${options.name}"; filename="${path.basename(options.filePath)}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
            file,
            Buffer.from(`\r\n--${boundary}--\r\n`),
          );
          const header = { ...options.header, 'content-type': `multipart/form-data; boundary=${boundary}` };
          task = exchange(options.url, 'POST', header, Buffer.concat(parts), options.timeout, (outcome) => {
            if (!outcome.ok) return fail(outcome.reason);
            const { statusCode, header: responseHeader, body } = outcome.answer;
            settle(options, { ok: true, result: { statusCode, data: body.toString('utf8'), header: responseHeader, errMsg: 'uploadFile:ok' } });
          });
        },
        (error: Error) => fail(`file not found: ${error.message}`),
      );
      return {
        abort() {
          if (task) return task.abort();
          if (!aborted) {
            aborted = true;
            fail('abort');
          }
        },
      };
    },

    getStorageSync(key) {
      // wx answers '' for a missing key, and a copy, never the stored object itself.
      return storage.has(key) ? structuredClone(storage.get(key)) : '';
    },
    setStorageSync(key, data) {
      storage.set(key, structuredClone(data));
    },
    removeStorageSync(key) {
      storage.delete(key);
    },
  };
  return wx;
}
