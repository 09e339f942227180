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
