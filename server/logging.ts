import type { Writable } from 'node:stream';
import { LogController, type FastifyBaseLogger, type FastifyReply, type FastifyRequest } from 'fastify';
import pino from 'pino';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = Parameters<FastifyBaseLogger['child']>[1];
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The parts of a pino logger used here; fastify's FastifyBaseLogger type leaves isLevelEnabled and levels out. */
type Pino = FastifyBaseLogger & { isLevelEnabled(level: string): boolean; levels: pino.LevelMapping };

type Write = (...args: unknown[]) => void;

/** Whether `log` writes lines at `level`; the no-op logger of `log: false` has no levels and writes nothing. */
export function logsAt(log: FastifyBaseLogger, level: Level): boolean {
  const { isLevelEnabled } = log as Partial<Pino>;
  return typeof isLevelEnabled === 'function' && isLevelEnabled.call(log, level);
}

/**
 * A pino child made on first use. Fastify gives every request a child bound to its reqId; making
 * one (an object, formatters, the bindings serialized) cost more than authentication on
 * `GET /api/profile`, and a successful request writes no line of its own (its request line is
 * written apart, see RequestLog). The child is the same pino child, made with the same bindings
 * when a line at an enabled level is first written, so every line that is written is unchanged.
 *
 * Its own children are lazy too: the app's logger is one, so fastify's default child factory
 * (which it calls without validating the result, unlike a custom childLoggerFactory) makes a lazy
 * child for each request.
 */
export class LazyLogger implements FastifyBaseLogger {
  readonly #parent: Pino | LazyLogger;
  #child: Pino | undefined;

  constructor(
    parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options?: ChildLoggerOptions,
  ) {
    this.#parent = parent as Pino | LazyLogger;
    // A route with its own logLevel (the health probes) needs the child's level from the start.
    if (options?.level !== undefined) this.real();
  }

  /** The pino child itself, made now if not yet. */
  real(): Pino {
    return (this.#child ??= (this.#parent instanceof LazyLogger ? this.#parent.real() : this.#parent).child(this.bindings, this.options) as Pino);
  }

  /** Until the child exists (or has its own level set), its level is the parent's. */
  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.real().level = level;
  }

  /** Fastify checks route log levels against these. */
  get levels(): pino.LevelMapping {
    return (this.#child ?? this.#parent).levels;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }

  #write(level: Level, args: unknown[]): void {
    if (this.isLevelEnabled(level)) (this.real()[level] as Write)(...args);
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.#write('error', args);
  }

  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }

  info(...args: unknown[]): void {
    this.#write('info', args);
  }

  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }

  silent(): void {}

  /** Writes out what is pending (pino's flush), then calls `done`. */
  flush(done?: (error?: Error) => void): void {
    (this.real() as unknown as pino.Logger).flush(done);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return new LazyLogger(this, bindings, options);
  }
}

/**
 * The path a request line shows: no query string (jscode2session's secret and js_code, and the
 * access_token, travel there), at most 200 characters, and anything in it that looks like a
 * secret censored as in every other line (the path is the client's to write).
 */
export function loggedPath(url: string): string {
  const end = url.indexOf('?');
  const path = (end === -1 ? url : url.slice(0, end)).slice(0, 200);
  // The text rules below need whitespace or an "=": without either (nearly every path), nothing to censor.
  return MAY_HOLD_SECRET_TEXT.test(path) ? scrubText(path) : path;
}

/**
 * The request line as pino writes an info line of `logger` (the same fields in the same order:
 * level, time, pid, hostname, then the line's own, then msg), formatted here. Its fields are fixed
 * and known to hold no secret, so it needs neither the scrubbing hook nor pino's generic
 * formatting (each value of an object through its serializer and stringifier), which together
 * cost more than the rest of the line.
 */
export class RequestLines {
  readonly #head: string;
  readonly #bindings: string;

  constructor(
    logger: pino.Logger,
    private readonly destination: pino.DestinationStream,
  ) {
    this.#head = `{"level":${logger.levels.values.info},"time":`;
    // `,"pid":…,"hostname":"…"`: pino's base bindings, serialized once by pino itself.
    this.#bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym];
  }

  write(reqId: string, method: string, path: string, status: number, ms: number): void {
    this.destination.write(
      `${this.#head}${Date.now()}${this.#bindings},"reqId":${JSON.stringify(reqId)},"method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"ms":${ms},"msg":"request"}\n`,
    );
  }
}

/**
 * One line per request, written when the answer is sent: reqId, method, path (no query),
 * status and time. No headers, no bodies, so no skey or code can end up in it: those fields are
 * the whole line (see RequestLines), and the path, the only text the client chose, is censored by
 * loggedPath as every other line is. A failed request's line carries the error, which can hold
 * anything: it goes through the request's own (scrubbing) logger.
 */
class RequestLog extends LogController {
  /** `lines` is null when logging is off (fastify's no-op logger then answers no level as enabled). */
  constructor(private readonly lines: RequestLines | null) {
    super();
  }

  override incomingRequest(): void {
    // The completion line says all; a second line per request is noise.
  }

  override routeNotFound(): void {
    // Logged as a 404 by requestCompleted; fastify's own line would include the query string.
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    // Runs for every request: when the level drops the line (LOG_LEVEL=warn, or a route's own
    // level, as the health probes have), build nothing. reply.log answers without being made.
    if (error) {
      if (logsAt(reply.log, 'error')) reply.log.error({ method: request.method, path: loggedPath(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime), err: error }, 'request failed');
      return;
    }
    if (this.lines === null || !logsAt(reply.log, 'info')) return;
    this.lines.write(request.id, request.method, loggedPath(request.url), reply.statusCode, Math.round(reply.elapsedTime));
  }
}

export interface Logging {
  /** Fastify's `loggerInstance` (none when logging is off): every line scrubbed (see scrubLogArguments), request children lazy. */
  logger?: FastifyBaseLogger;
  /** Fastify's `logController`: the request line. */
  controller: LogController;
  /** Writes out the lines still pending; when the app closes. */
  close(): void;
}

type Destination = pino.DestinationStream & { flushSync?: () => void; flush?: (done: (error?: Error) => void) => void };

/**
 * The lines written during one turn of the event loop, handed to the destination as one write at
 * its end. Pino's own destination (sonic-boom) measures its whole pending buffer on every line it
 * is given while a write is under way (a new rope of strings each time, flattened to count its
 * bytes) and starts a write per line otherwise: at a line per request that was over half of what
 * the line cost. Lines keep their order; none waits longer than the turn it was written in, and
 * the ones of the last turn are written out if the process exits before that turn ends.
 */
class TurnBatch implements pino.DestinationStream {
  /** Every batch not closed yet, for the one exit listener. */
  static readonly #open = new Set<TurnBatch>();
  static #exitListener = false;

  #lines: string[] = [];
  #scheduled = false;

  constructor(private readonly destination: Destination) {
    TurnBatch.#open.add(this);
    if (!TurnBatch.#exitListener) {
      TurnBatch.#exitListener = true;
      process.on('exit', () => {
        for (const batch of TurnBatch.#open) batch.close();
      });
    }
  }

  /** Hands over what is pending now (pino's flush calls this), and calls `done` once the destination has it out. */
  flush(done: (error?: Error) => void): void {
    this.#flush();
    if (this.destination.flush) this.destination.flush(done);
    else done();
  }

  /** Writes out what is pending, synchronously where the destination can (at exit, nothing asynchronous runs any more). */
  close(): void {
    TurnBatch.#open.delete(this);
    this.#flush();
    this.destination.flushSync?.();
  }

  write(line: string): void {
    this.#lines.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (this.#lines.length === 0) return;
    const text = this.#lines.length === 1 ? this.#lines[0] : this.#lines.join('');
    this.#lines = [];
    this.destination.write(text);
  };
}

/** The server's logging at `level`, to `stream` (default: stdout, as pino writes it), or none. */
export function createLogging(level: Level | 'silent', stream?: Writable | false): Logging {
  if (stream === false) return { controller: new RequestLog(null), close: () => undefined };
  // One destination for both loggers, so that their lines stay whole and in order.
  const destination = new TurnBatch(stream ?? pino.destination({ dest: 1, sync: true }));
  const scrubbing = pino({ level, hooks: { logMethod: scrubLogArguments } }, destination);
  return { logger: new LazyLogger(scrubbing, {}), controller: new RequestLog(new RequestLines(scrubbing, destination)), close: () => destination.close() };
}

/** Keys whose values are secrets wherever they appear in a logged object (headers included). */
const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|skey|session_?key|sessionkey|secret|app_?secret|js_code|access_token|password)$/i;
/** Secrets inside text: a bearer token, and the query parameters of WeChat's API that carry them. */
const SECRET_IN_TEXT = /(bearer\s+)[^\s",;]+|([?&](?:secret|js_code|access_token)=)[^&\s"]*/gi;
/** What any match of SECRET_IN_TEXT contains. */
const MAY_HOLD_SECRET_TEXT = /[\s=]/;
const CENSOR = '[redacted]';
const MAX_DEPTH = 6;

/** The text with every secret censored (the same string when it holds none). */
function scrubText(text: string): string {
  return text.replace(SECRET_IN_TEXT, (_match, bearer: string | undefined, parameter: string | undefined) => `${bearer ?? parameter}${CENSOR}`);
}

const cloneError = (error: Error): Error => Object.assign(Object.create(Object.getPrototypeOf(error) as object) as Error, error, { message: error.message, stack: error.stack });

/**
 * A copy of `value` with every secret censored, or `value` itself when it holds none (the
 * common case costs a walk, no copy). Objects and arrays are walked to MAX_DEPTH; errors keep
 * their class for pino's serializer, with message, stack and own fields censored.
 */
export function scrubSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH) return value;
  const source = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  const set = (key: string, clean: unknown) => {
    copy ??= (value instanceof Error ? cloneError(value) : Array.isArray(value) ? [...value] : { ...source }) as Record<string, unknown>;
    copy[key] = clean;
  };
  for (const key of Object.keys(source)) {
    const item = source[key];
    const clean = SECRET_KEY.test(key) && item !== undefined && item !== null && item !== '' ? CENSOR : scrubSecrets(item, depth + 1);
    if (clean !== item) set(key, clean);
  }
  if (value instanceof Error) {
    for (const key of ['message', 'stack'] as const) {
      const text = value[key];
      if (typeof text === 'string' && scrubText(text) !== text) set(key, scrubText(text));
    }
  }
  return copy ?? value;
}

/**
 * pino's logMethod hook: every argument of every line, at every level, from this server or
 * from a plugin (the multipart plugin logs the raw request headers at trace), is scrubbed
 * before pino serializes it. Cheaper than pino's path-based redaction, and not limited to paths
 * someone thought of.
 */
export function scrubLogArguments(this: unknown, args: unknown[], method: (...args: unknown[]) => void): void {
  for (let i = 0; i < args.length; i++) args[i] = scrubSecrets(args[i]);
  method.apply(this, args);
}
