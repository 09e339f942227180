import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/** What the real WeChat API is called with; simulated mode fills in its own values. */
export interface WeChatConfig {
  mode: 'real' | 'simulated';
  appId: string;
  secret: string;
  /** Real mode only; in simulated mode the server calls its own listening address. */
  apiBase: string | null;
  timeoutMs: number;
}

export interface Config {
  host: string;
  port: number;
  wechat: WeChatConfig;
  /** `redis://...`; the stores live in memory when null. */
  redisUrl: string | null;
  /** A session not used for this long is gone. */
  sessionIdleMs: number;
  /** A session is gone this long after its login, used or not. */
  sessionLifetimeMs: number;
  /** Login attempts per client address and window. */
  loginRateLimit: number;
  loginRateWindowMs: number;
  /** JSON bodies above this size get 413. */
  bodyLimitBytes: number;
  avatarMaxBytes: number;
  uploadDir: string;
  /** Origin put in front of avatar URLs; defaults to the server's own listening address. */
  publicUrl: string | null;
  /** Trust X-Forwarded-For (only behind a proxy you control). */
  trustProxy: boolean;
  /** Business routes (orders) answer 403 PHONE_REQUIRED until the user has bound a phone number. */
  requirePhone: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** The appid the simulated WeChat stamps into watermarks; not a real one. */
export const SIMULATED_APPID = 'wx00000000simulated';
const REAL_WECHAT_API = 'https://api.weixin.qq.com';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the environment. Every bad value is reported at once, by name; secret
 * values are never echoed.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const value = (name: string): string | undefined => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
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
  const bool = (name: string): boolean => {
    const raw = value(name);
    if (raw === undefined || raw === '0' || raw === 'false') return false;
    if (raw === '1' || raw === 'true') return true;
    problems.push(`${name} must be true/false or 1/0 (got "${raw}")`);
    return false;
  };

  const appId = value('WX_APPID');
  const secret = value('WX_SECRET');
  if ((appId === undefined) !== (secret === undefined)) {
    problems.push('WX_APPID and WX_SECRET go together: set both for real WeChat, neither for the simulator');
  }
  if (appId !== undefined && !/^wx[0-9a-zA-Z]{16}$/.test(appId)) {
    problems.push(`WX_APPID must look like wx followed by 16 letters or digits (got "${appId}")`);
  }

  const redisUrl = value('REDIS_URL') ?? null;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) {
    problems.push('REDIS_URL must start with redis:// or rediss://');
  }
  const publicUrl = value('PUBLIC_URL') ?? null;
  if (publicUrl !== null && !/^https?:\/\/[^/?#]+$/.test(publicUrl)) {
    problems.push(`PUBLIC_URL must be an origin such as https://api.example.com, without a path (got "${publicUrl}")`);
  }
  const logLevel = value('LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const timeoutMs = int('WX_TIMEOUT_MS', 5000, 100, 60000);
  const config: Config = {
    host: value('HOST') ?? '127.0.0.1',
    port: int('PORT', 3000, 0, 65535),
    wechat:
      appId !== undefined && secret !== undefined
        ? { mode: 'real', appId, secret, apiBase: REAL_WECHAT_API, timeoutMs }
        : // The simulator checks the secret like WeChat does; a fresh one per process is enough.
          { mode: 'simulated', appId: SIMULATED_APPID, secret: randomBytes(16).toString('hex'), apiBase: null, timeoutMs },
    redisUrl,
    sessionIdleMs: int('SESSION_IDLE_SECONDS', 7 * 24 * 3600, 60, 365 * 24 * 3600) * 1000,
    sessionLifetimeMs: int('SESSION_LIFETIME_SECONDS', 30 * 24 * 3600, 60, 365 * 24 * 3600) * 1000,
    loginRateLimit: int('LOGIN_RATE_LIMIT', 20, 1, 100000),
    loginRateWindowMs: int('LOGIN_RATE_WINDOW_SECONDS', 60, 1, 86400) * 1000,
    bodyLimitBytes: int('BODY_LIMIT_BYTES', 16 * 1024, 1024, 10 * 1024 * 1024),
    avatarMaxBytes: int('AVATAR_MAX_BYTES', 1024 * 1024, 1024, 20 * 1024 * 1024),
    uploadDir: path.resolve(value('UPLOAD_DIR') ?? path.join(os.tmpdir(), 'wx-login-uploads')),
    publicUrl,
    trustProxy: bool('TRUST_PROXY'),
    requirePhone: bool('REQUIRE_PHONE'),
    logLevel: logLevel as Config['logLevel'],
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
