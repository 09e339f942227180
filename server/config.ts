import { randomBytes } from 'node:crypto';
import path from 'node:path';
import proxyAddr from '@fastify/proxy-addr';
import { allowedHostsFrom, type AllowedHosts } from './allowed-hosts';
import { APP_SECRET, APPID, REAL_WECHAT_API, sealKeyFromSecret, SIMULATED_APPID } from './core/wechat-option';
import { describeLocation, parseDatabaseUrl, type DatabaseLocation } from './database';
import { isLoopbackHostname } from './net';
import { aesKeyFrom, ENCODING_AES_KEY } from './wechat/push-crypto';
import { DEFAULT_MAX_SESSIONS_PER_USER } from './stores/types';
import type { AccountMode } from './core/bind';

/** What the real WeChat API is called with; simulated mode fills in its own values. */
export interface WeChatConfig {
  mode: 'real' | 'simulated';
  appId: string;
  secret: string;
  /** Real mode only; in simulated mode the server calls its own listening address. */
  apiBase: string | null;
  timeoutMs: number;
}

/**
 * Which peers are proxies whose X-Forwarded-For is believed, as Fastify's `trustProxy` takes it:
 * false (none: the client is the TCP peer), a hop count, or proxy addresses/CIDR ranges.
 */
export type TrustProxy = false | number | string[];

export interface Config {
  host: string;
  port: number;
  wechat: WeChatConfig;
  /**
   * The system of record (users, identities; sessions, rate limits and the access token too when
   * there is no Redis): DATABASE_URL. Null keeps everything in process memory, forgotten on
   * restart: the default in simulated mode only.
   */
  database: DatabaseLocation | null;
  /**
   * At start: `check` (the default) refuses a schema behind or ahead of the code, naming the
   * command that migrates it; `auto` applies pending migrations first (npm start does, for its
   * embedded file).
   */
  databaseMigrate: 'check' | 'auto';
  /** A database operation without an answer after this long fails with 503 STORE_UNAVAILABLE (PostgreSQL, MySQL). */
  databaseCommandTimeoutMs: number;
  /** Connections per instance (PostgreSQL, MySQL). */
  databasePoolSize: number;
  /** SQLite in WAL mode: `full` (default) keeps every acknowledged write through a power cut, `normal` through a crash of the process only. */
  sqliteSynchronous: 'full' | 'normal';
  /** PostgreSQL: the stores' fixed queries run as named prepared statements (on by default; off behind PgBouncer in transaction mode before 1.21). */
  databasePreparedStatements: boolean;
  /** `redis://...`: sessions, rate limits and the access token live there (users stay in the database). */
  redisUrl: string | null;
  /** A Redis command that has not answered within this long fails with 503 STORE_UNAVAILABLE. */
  redisCommandTimeoutMs: number;
  /** AES-256-GCM key that seals session_key and WeChat's access token before they are written to Redis. */
  sessionKeySealKey: Buffer;
  /** A session not used for this long is gone. */
  sessionIdleMs: number;
  /** A session is gone this long after its login, used or not. */
  sessionLifetimeMs: number;
  /** Live sessions one user may hold (MAX_SESSIONS_PER_USER); a login beyond it revokes the user's oldest session. */
  maxSessionsPerUser: number;
  /** Login attempts per client (address, or /64 for IPv6) in any sliding window of this length. */
  loginRateLimit: number;
  loginRateWindowMs: number;
  /** JSON bodies above this size get 413. */
  bodyLimitBytes: number;
  avatarMaxBytes: number;
  /** Avatar uploads per user in any sliding window of this length. */
  avatarUploadLimit: number;
  avatarUploadWindowMs: number;
  /** Where avatar files are kept (default data/avatars); made 0700, refused at start if another user could change it (private-dir.ts). */
  uploadDir: string;
  /**
   * Origin put in front of avatar URLs. Required in real mode and under NODE_ENV=production; in
   * simulated mode it defaults to the loopback address the server listens on (this machine only).
   */
  publicUrl: string | null;
  trustProxy: TrustProxy;
  /** A whole request (headers and body) must arrive within this long, or the connection is cut (408). */
  requestTimeoutMs: number;
  /** The request line and headers must arrive within this long. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number;
  /** Open connections, all clients together; more are refused at once. */
  maxConnections: number;
  /** Open connections per client address (/64 for IPv6); 0 for no cap. Not applied to trusted proxies. */
  maxConnectionsPerClient: number;
  /** After SIGTERM, connections still open this long are cut and the process exits. */
  shutdownTimeoutMs: number;
  /** Business routes (orders) answer 403 PHONE_REQUIRED until the user has bound a phone number. */
  requirePhone: boolean;
  /**
   * `open` (the default): a WeChat login creates its user. `bind`: only platform accounts (npm run
   * accounts) exist; an unknown WeChat user gets a bind ticket and binds to one (POST /auth/bind).
   */
  accountMode: AccountMode;
  /** Phone binds (each a paid WeChat exchange when it succeeds) per user in any sliding window of this length. */
  phoneBindLimit: number;
  phoneBindWindowMs: number;
  /**
   * Every WeChat call of one phone bind (token renewal, exchange, retry) within this long, else 504
   * WECHAT_TIMEOUT: shorter than the mini-program's own request timeout (10 s), so it gets the answer.
   */
  phoneBindTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

  // Who may address the server, and how much one connection may ask of it (see http-server.ts).
  /** Names a request's Host may carry (IP addresses always may); any other gets 421. */
  allowedHosts: AllowedHosts;
  /**
   * Requests one connection may have waiting for their answers; the next is answered 429 and the
   * connection closed after it. (Answers that do not drain for `requestTimeoutMs` close it too.)
   */
  maxPipelinedRequests: number;

  /** Audit entries older than this are purged, at start and daily (AUDIT_RETENTION_DAYS, default 180). */
  auditRetentionDays: number;

  /** WeChat's message push (POST /wechat/events); null without WX_PUSH_TOKEN and WX_PUSH_AES_KEY, and then the route does not exist. */
  push: PushConfig | null;
}

/** The console's 消息推送配置 (开发 → 开发管理 → 消息推送配置), as the push route checks it. */
export interface PushConfig {
  /** Token: signs every push (WX_PUSH_TOKEN). */
  token: string;
  /** The AES-256 key of the console's EncodingAESKey (WX_PUSH_AES_KEY). */
  aesKey: Buffer;
  /** Plain-mode pushes (unsigned bodies) are taken only when WX_PUSH_ACCEPT_PLAIN says so. */
  acceptPlain: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

// The login core checks a host's options by the same rules.
export { SIMULATED_APPID };
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Record<string, string | undefined>;

/** How a value that must not be printed is described in an error: its length only. */
const lengthOf = (secret: string) => `${secret.length} characters, not shown`;

/**
 * The key sealing secrets in Redis (session_key, the access token): SESSION_KEY_ENCRYPTION_KEY when given (32 bytes, base64 or hex),
 * else derived from the app secret, so that every instance sharing the secret shares the key.
 */
function sealKey(explicit: string | undefined, secret: string, problems: string[]): Buffer {
  if (explicit !== undefined) {
    const bytes = /^[0-9a-fA-F]{64}$/.test(explicit) ? Buffer.from(explicit, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(explicit) ? Buffer.from(explicit, 'base64') : null;
    if (bytes?.length === 32) return bytes;
    problems.push(`SESSION_KEY_ENCRYPTION_KEY must be 32 bytes as 64 hex digits or 44 base64 characters (got ${lengthOf(explicit)})`);
  }
  return sealKeyFromSecret(secret);
}

function trustProxyFrom(raw: string | undefined, problems: string[]): TrustProxy {
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true') {
    problems.push(
      'TRUST_PROXY=true would take the client address from the left of X-Forwarded-For, which the client writes itself: ' +
        'give the number of proxies in front of the server (e.g. 1) or their addresses (e.g. 10.0.0.5,10.0.1.0/24)',
    );
    return false;
  }
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops <= 10) return hops;
    problems.push(`TRUST_PROXY as a hop count must be from 0 to 10 (got "${raw}")`);
    return false;
  }
  const list = raw.split(',').map((entry) => entry.trim());
  try {
    // The same parser fastify uses: what it accepts here, it accepts there.
    proxyAddr.compile(list);
    return list;
  } catch (error) {
    problems.push(`TRUST_PROXY must be false, a hop count, or proxy addresses/CIDR ranges separated by commas (${(error as Error).message}: "${raw}")`);
    return false;
  }
}

/**
 * PUBLIC_URL as an origin (`https://api.example.com`): a trailing slash is dropped and the host
 * lower-cased, as URL does; a path, query, fragment or credentials are refused.
 */
function publicOrigin(raw: string | undefined, problems: string[]): string | null {
  if (raw === undefined) return null;
  const refuse = () => {
    problems.push(`PUBLIC_URL must be an origin such as https://api.example.com, without a path (got "${raw}")`);
    return null;
  };
  if (!/^https?:\/\/[^/?#@]+\/?$/.test(raw)) return refuse();
  try {
    return new URL(raw).origin;
  } catch {
    return refuse();
  }
}

/** The embedded database `npm start` uses, and the one suggested where DATABASE_URL is missing. */
export const EMBEDDED_DATABASE_URL = 'sqlite:data/wx-login.db';

/**
 * DATABASE_URL, understood. `memory:` (or nothing, in simulated mode) keeps users in process
 * memory; real WeChat and NODE_ENV=production need a database that outlives the process, named
 * explicitly: real users' accounts must not vanish on a restart, and a production deployment
 * must say where they live (an embedded file per instance would split them between instances).
 */
function databaseFrom(raw: string | undefined, real: boolean, production: boolean, problems: string[]): DatabaseLocation | null {
  const suggestion = `postgres://user:password@host/db or mysql://user:password@host/db, or ${EMBEDDED_DATABASE_URL} for one instance with an embedded file`;
  if (raw === 'memory:') {
    // Asked for by name (tests, demos): allowed anywhere but in production.
    if (production) problems.push(`DATABASE_URL=memory: keeps nothing, and NODE_ENV=production needs a database that outlives the process: ${suggestion}`);
    return null;
  }
  if (raw === undefined) {
    const needed = production ? 'NODE_ENV=production' : real ? 'real WeChat' : null;
    if (needed !== null) problems.push(`DATABASE_URL is not set: ${needed} needs a database that outlives the process: ${suggestion}`);
    return null;
  }
  const location = parseDatabaseUrl(raw);
  if (location === null) {
    // Not echoed: a mistyped URL can still carry a password.
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(raw)?.[1];
    problems.push(`DATABASE_URL must be sqlite:PATH, postgres://..., mysql://... or memory: (got ${scheme ? `a ${scheme}: URL` : lengthOf(raw)})`);
    return null;
  }
  try {
    describeLocation(location);
  } catch {
    problems.push('DATABASE_URL is not a valid URL');
    return null;
  }
  return location;
}

/** Whether the server can reach itself over loopback when listening on `host`. */
function reachableOverLoopback(host: string): boolean {
  return isLoopbackHostname(host) || host === '0.0.0.0' || host === '::' || host === '[::]';
}

/** WeChat's rule for the console's Token: 3 to 32 letters or digits. */
const PUSH_TOKEN = /^[A-Za-z0-9]{3,32}$/;

/** The WX_PUSH_* block: both values or neither; each in WeChat's own format. */
function pushConfig(token: string | undefined, encodingAesKey: string | undefined, acceptPlain: boolean, problems: string[]): PushConfig | null {
  if (token === undefined && encodingAesKey === undefined) {
    if (acceptPlain) problems.push('WX_PUSH_ACCEPT_PLAIN is set but the message push is not configured: set WX_PUSH_TOKEN and WX_PUSH_AES_KEY');
    return null;
  }
  if (token === undefined || encodingAesKey === undefined) {
    problems.push(`the message push needs both WX_PUSH_TOKEN and WX_PUSH_AES_KEY (only ${token === undefined ? 'WX_PUSH_AES_KEY' : 'WX_PUSH_TOKEN'} is set), as the console's 消息推送配置 shows them`);
    return null;
  }
  const before = problems.length;
  if (!PUSH_TOKEN.test(token)) problems.push(`WX_PUSH_TOKEN must be 3 to 32 letters or digits, as WeChat requires (got ${lengthOf(token)})`);
  if (!ENCODING_AES_KEY.test(encodingAesKey)) problems.push(`WX_PUSH_AES_KEY must be the console's EncodingAESKey: 43 letters and digits (got ${lengthOf(encodingAesKey)})`);
  return problems.length === before ? { token, aesKey: aesKeyFrom(encodingAesKey), acceptPlain } : null;
}

/**
 * Reads and validates the environment. Every bad value is reported at once, by name; secret
 * values are never echoed. Fails closed: WeChat is simulated only when WX_MODE=simulated says
 * so, never by default and never with NODE_ENV=production.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const bool = (name: string): boolean => {
    const raw = value(name);
    if (raw === undefined || raw === '0' || raw === 'false') return false;
    if (raw === '1' || raw === 'true') return true;
    problems.push(`${name} must be true/false or 1/0 (got "${raw}")`);
    return false;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };

  const host = value('HOST') ?? '127.0.0.1';
  const appId = value('WX_APPID');
  const secret = value('WX_SECRET');
  const mode = value('WX_MODE') ?? (appId !== undefined || secret !== undefined ? 'real' : undefined);
  const production = value('NODE_ENV') === 'production';
  if (mode === undefined) {
    problems.push(
      production
        ? 'WX_MODE is not set: NODE_ENV=production needs WX_MODE=real with WX_APPID and WX_SECRET'
        : 'WX_MODE is not set: set WX_MODE=simulated to develop against the simulated WeChat (npm start does), ' +
            'or WX_MODE=real with WX_APPID and WX_SECRET to use real WeChat',
    );
  } else if (mode === 'real') {
    if (appId === undefined || secret === undefined) {
      problems.push('real WeChat needs both WX_APPID and WX_SECRET (from the mini-program admin console, 开发管理 → 开发设置)');
    } else if (APP_SECRET.test(appId) && APPID.test(secret)) {
      problems.push('WX_APPID and WX_SECRET look swapped: WX_APPID starts with "wx", WX_SECRET is 32 hex digits');
    } else {
      if (!APPID.test(appId)) problems.push(`WX_APPID must be "wx" followed by 16 letters or digits (got ${lengthOf(appId)})`);
      if (!APP_SECRET.test(secret)) problems.push(`WX_SECRET must be 32 hex digits (got ${lengthOf(secret)})`);
    }
  } else if (mode === 'simulated') {
    if (production) problems.push('NODE_ENV=production needs real WeChat: set WX_MODE=real with WX_APPID and WX_SECRET');
    if (appId !== undefined || secret !== undefined) problems.push('WX_MODE=simulated does not use WX_APPID or WX_SECRET: unset them, or set WX_MODE=real');
    if (!reachableOverLoopback(host)) {
      problems.push(`in simulated mode HOST must be a loopback address or 0.0.0.0/:: (got "${host}"): the server reaches its simulated WeChat over loopback`);
    }
  } else {
    problems.push(`WX_MODE must be real or simulated (got "${mode}")`);
  }

  const redisUrl = value('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('REDIS_URL must start with redis:// or rediss://');
  }
  const database = databaseFrom(value('DATABASE_URL'), mode === 'real', production, problems);
  const databaseMigrate = value('DATABASE_MIGRATE') ?? 'check';
  if (databaseMigrate !== 'check' && databaseMigrate !== 'auto') problems.push(`DATABASE_MIGRATE must be check or auto (got "${databaseMigrate}")`);
  const sqliteSynchronous = value('SQLITE_SYNCHRONOUS') ?? 'full';
  if (sqliteSynchronous !== 'full' && sqliteSynchronous !== 'normal') problems.push(`SQLITE_SYNCHRONOUS must be full or normal (got "${sqliteSynchronous}")`);
  const preparedStatements = value('DATABASE_PREPARED_STATEMENTS') ?? 'on';
  if (preparedStatements !== 'on' && preparedStatements !== 'off') problems.push(`DATABASE_PREPARED_STATEMENTS must be on or off (got "${preparedStatements}")`);
  const publicUrl = publicOrigin(value('PUBLIC_URL'), problems);
  // The loopback fallback (avatars at http://127.0.0.1:3000/...) is for a developer's own machine:
  // a deployment storing it in every user record would serve avatars no phone can load.
  if (publicUrl === null && (mode === 'real' || production)) {
    problems.push(
      `PUBLIC_URL is not set: ${production ? 'NODE_ENV=production' : 'real WeChat'} needs the origin clients reach this server at ` +
        '(e.g. PUBLIC_URL=https://api.example.com), which avatar URLs are built on',
    );
  }
  const accountMode = value('ACCOUNT_MODE') ?? 'open';
  if (accountMode !== 'open' && accountMode !== 'bind') problems.push(`ACCOUNT_MODE must be open or bind (got "${accountMode}")`);
  const logLevel = value('LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const real = mode === 'real' && appId !== undefined && secret !== undefined;
  const timeoutMs = int('WX_TIMEOUT_MS', 5000, 100, 60000);
  // The simulator checks the secret like WeChat does; a fresh one per process is enough.
  const wechat: WeChatConfig = real
    ? { mode: 'real', appId, secret, apiBase: REAL_WECHAT_API, timeoutMs }
    : { mode: 'simulated', appId: SIMULATED_APPID, secret: randomBytes(16).toString('hex'), apiBase: null, timeoutMs };

  const requestTimeoutMs = int('REQUEST_TIMEOUT_SECONDS', 30, 1, 3600) * 1000;
  const headersTimeoutMs = int('HEADERS_TIMEOUT_SECONDS', 10, 1, 3600) * 1000;
  if (headersTimeoutMs > requestTimeoutMs) problems.push('HEADERS_TIMEOUT_SECONDS must not be longer than REQUEST_TIMEOUT_SECONDS');

  // A session ends at its lifetime whatever its idle timeout: an idle timeout longer than that
  // would never apply. Given explicitly, it is a mistake worth saying; by default it is capped.
  const problemsBefore = problems.length;
  const sessionLifetimeMs = int('SESSION_LIFETIME_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600) * 1000;
  const idleGiven = value('SESSION_IDLE_SECONDS') !== undefined;
  const idleMs = int('SESSION_IDLE_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600) * 1000;
  const sessionIdleMs = idleGiven ? idleMs : Math.min(idleMs, sessionLifetimeMs);
  // (Compared only when both parsed: a refused value has already been reported.)
  if (problems.length === problemsBefore && sessionIdleMs > sessionLifetimeMs) {
    problems.push(
      `SESSION_IDLE_SECONDS (${sessionIdleMs / 1000}) must not be longer than SESSION_LIFETIME_SECONDS (${sessionLifetimeMs / 1000}): every session ends at its lifetime`,
    );
  }

  const config: Config = {
    host,
    port: int('PORT', 3000, 0, 65535),
    wechat,
    database,
    databaseMigrate: databaseMigrate === 'auto' ? 'auto' : 'check',
    databaseCommandTimeoutMs: int('DATABASE_COMMAND_TIMEOUT_MS', 2000, 50, 60000),
    databasePoolSize: int('DATABASE_POOL_SIZE', 10, 1, 1000),
    sqliteSynchronous: sqliteSynchronous === 'normal' ? 'normal' : 'full',
    databasePreparedStatements: preparedStatements !== 'off',
    redisUrl,
    redisCommandTimeoutMs: int('REDIS_COMMAND_TIMEOUT_MS', 2000, 50, 60000),
    sessionKeySealKey: sealKey(value('SESSION_KEY_ENCRYPTION_KEY'), wechat.secret, problems),
    sessionIdleMs,
    sessionLifetimeMs,
    maxSessionsPerUser: int('MAX_SESSIONS_PER_USER', DEFAULT_MAX_SESSIONS_PER_USER, 1, 1000),
    loginRateLimit: int('LOGIN_RATE_LIMIT', 20, 1, 100000),
    loginRateWindowMs: int('LOGIN_RATE_WINDOW_SECONDS', 60, 1, 86400) * 1000,
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 16 * 1024, 1024, 10 * 1024 * 1024),
    avatarMaxBytes: int('AVATAR_MAX_BYTES', 1024 * 1024, 1024, 20 * 1024 * 1024),
    avatarUploadLimit: int('AVATAR_UPLOAD_LIMIT', 10, 1, 10000),
    avatarUploadWindowMs: int('AVATAR_UPLOAD_WINDOW_SECONDS', 3600, 1, 86400) * 1000,
    // The project's own data folder (git-ignored) under the directory the server starts in: npm start's is the project root.
    uploadDir: path.resolve(value('UPLOAD_DIR') ?? path.join('data', 'avatars')),
    publicUrl,
    trustProxy: trustProxyFrom(value('TRUST_PROXY'), problems),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: int('KEEP_ALIVE_TIMEOUT_SECONDS', 72, 1, 3600) * 1000,
    maxConnections: int('MAX_CONNECTIONS', 4096, 1, 1_000_000),
    maxConnectionsPerClient: int('MAX_CONNECTIONS_PER_CLIENT', 128, 0, 1_000_000),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_SECONDS', 10, 1, 600) * 1000,
    requirePhone: bool('REQUIRE_PHONE'),
    accountMode: accountMode === 'bind' ? 'bind' : 'open',
    phoneBindLimit: int('PHONE_BIND_LIMIT', 10, 1, 10000),
    phoneBindWindowMs: int('PHONE_BIND_WINDOW_SECONDS', 3600, 1, 86400) * 1000,
    phoneBindTimeoutMs: int('PHONE_BIND_TIMEOUT_MS', 8000, 100, 60000),
    logLevel: logLevel as Config['logLevel'],

    allowedHosts: allowedHostsFrom(value('ALLOWED_HOSTS'), [publicUrl === null ? null : new URL(publicUrl).hostname, host], problems),
    maxPipelinedRequests: int('MAX_PIPELINED_REQUESTS', 16, 1, 1024),

    auditRetentionDays: int('AUDIT_RETENTION_DAYS', 180, 1, 3650),

    push: pushConfig(value('WX_PUSH_TOKEN'), value('WX_PUSH_AES_KEY'), bool('WX_PUSH_ACCEPT_PLAIN'), problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
