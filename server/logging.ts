import type { FastifyBaseLogger } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = Parameters<FastifyBaseLogger['child']>[1];
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The parts of a pino logger used here; fastify's FastifyBaseLogger type leaves isLevelEnabled out. */
type Pino = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

type Write = (...args: unknown[]) => void;

/** Whether `log` writes lines at `level`; the no-op logger of `log: false` has no levels and writes nothing. */
export function logsAt(log: FastifyBaseLogger, level: Level): boolean {
  const { isLevelEnabled } = log as Partial<Pino>;
  return typeof isLevelEnabled === 'function' && isLevelEnabled.call(log, level);
}

/**
 * `request.log`, made on first use. Fastify gives every request a pino child bound to its reqId;
 * making one (an object, formatters, the bindings serialized through the redaction) cost more
 * than authentication on `GET /api/profile`, and at LOG_LEVEL=warn a successful request never
 * writes a line. The child is the same pino child, made with the same bindings when a line at an
 * enabled level is first written, so every line that is written is unchanged.
 */
export class LazyRequestLogger implements FastifyBaseLogger {
  readonly #parent: Pino;
  #child: Pino | undefined;

  /** `parent` is the app's pino logger, as fastify hands it to its childLoggerFactory. */
  constructor(
    parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options?: ChildLoggerOptions,
  ) {
    this.#parent = parent as Pino;
    // A route with its own logLevel (the health probes) needs the child's level from the start.
    if (options?.level !== undefined) this.#real();
  }

  #real(): Pino {
    return (this.#child ??= this.#parent.child(this.bindings, this.options) as Pino);
  }

  /** Until the child exists (or has its own level set), its level is the parent's. */
  get level(): string {
    return (this.#child ?? this.#parent).level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.#parent).isLevelEnabled(level);
  }

  #write(level: Level, args: unknown[]): void {
    if (this.isLevelEnabled(level)) (this.#real()[level] as Write)(...args);
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

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/** Keys whose values are secrets wherever they appear in a logged object (headers included). */
const SECRET_KEY = /^(authorization|proxy-authorization|cookie|set-cookie|skey|session_?key|sessionkey|secret|app_?secret|js_code|access_token|password)$/i;
/** Secrets inside text: a bearer token, and the query parameters of WeChat's API that carry them. */
const SECRET_IN_TEXT = /(bearer\s+)[^\s",;]+|([?&](?:secret|js_code|access_token)=)[^&\s"]*/gi;
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
