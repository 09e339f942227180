/**
 * The `wechat` option of the login core: the real WeChat (an AppID and AppSecret), the simulated
 * one (createSimulatedWeChat), or a WeChat client the host built itself, each turned into the
 * client the service calls.
 */
import { createWeChatClient, type WeChatClient } from '../wechat/client';
import { callSimulator, createSimulator, type Simulator } from '../wechat/simulator';
import { hkdfSync, randomBytes } from 'node:crypto';
import type { Clock, CredentialCache } from '../stores/types';
import { OptionError } from './errors';

/** The appid the simulated WeChat stamps into watermarks; not a real one. */
export const SIMULATED_APPID = 'wx00000000simulated';
export const REAL_WECHAT_API = 'https://api.weixin.qq.com';
/** WeChat's formats: an AppID is "wx" and 16 letters or digits, an AppSecret 32 hex digits. */
export const APPID = /^wx[0-9a-zA-Z]{16}$/;
export const APP_SECRET = /^[0-9a-fA-F]{32}$/;
const DEFAULT_TIMEOUT_MS = 5000;

/** Real WeChat: the mini-program's AppID and AppSecret (admin console, 开发管理 → 开发设置). */
export interface RealWeChatOptions {
  appId: string;
  secret: string;
  /** Where WeChat's API is; `https://api.weixin.qq.com` unless a proxy stands in between. */
  apiBase?: string;
  /** A WeChat call without an answer after this long fails with 504 WECHAT_TIMEOUT. Default 5000. */
  timeoutMs?: number;
}

/** A WeChat client the host built (the reference server's, which reaches its simulator over HTTP). */
export interface OwnWeChatClient {
  /** The AppID the client logs in to: user data must carry it in its watermark. */
  appId: string;
  client: WeChatClient;
}

/**
 * The simulated WeChat as a value: logins with the codes it mints (or DevTools' tourist-mode
 * mock code), user data and phone codes as WeChat would hand them to the mini-program, faults on
 * demand. For development and tests; never in production.
 */
export type SimulatedWeChat = Pick<Simulator, 'mintCode' | 'mintPhoneCode' | 'openidFor' | 'userData' | 'injectFaults'> & {
  /** The simulated AppID, stamped into user data's watermark. */
  readonly appId: string;
};

export type WeChatOption = RealWeChatOptions | SimulatedWeChat | OwnWeChatClient;

/** What only this module knows of a simulated WeChat: its simulator and secret. */
const simulated = new WeakMap<object, { simulator: Simulator; secret: string }>();

/** A fresh simulated WeChat; `now` moves its codes' and tokens' clock (tests pass their fake one). */
export function createSimulatedWeChat(options: { now?: Clock } = {}): SimulatedWeChat {
  const now = options.now ?? Date.now;
  // The simulator checks the secret as WeChat does; a fresh one per simulator is enough.
  const secret = randomBytes(16).toString('hex');
  const simulator = createSimulator({ appId: SIMULATED_APPID, secret, now });
  const wechat: SimulatedWeChat = {
    appId: SIMULATED_APPID,
    mintCode: (user, unionid) => simulator.mintCode(user, unionid),
    mintPhoneCode: (user, phoneNumber) => simulator.mintPhoneCode(user, phoneNumber),
    openidFor: (user) => simulator.openidFor(user),
    userData: (user) => simulator.userData(user),
    injectFaults: (fault, times, api) => simulator.injectFaults(fault, times, api),
  };
  simulated.set(wechat, { simulator, secret });
  return wechat;
}

/** Whether `wechat` is a simulated WeChat (for a host that refuses it in production). */
export function isSimulatedWeChat(wechat: unknown): wechat is SimulatedWeChat {
  return typeof wechat === 'object' && wechat !== null && simulated.has(wechat);
}

/**
 * The key sealing secrets at rest (session_key, the access token in Redis) derived from the app
 * secret, so that every instance sharing the secret shares the key.
 */
export function sealKeyFromSecret(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'wx-login', 'session_key at rest v1', 32));
}

/** The seal key `wechat` implies: derived from its secret (the real one, or the simulator's); null for a host's own client. */
export function impliedSealKey(wechat: unknown): Buffer | null {
  if (!isObject(wechat)) return null;
  const secret = simulated.get(wechat)?.secret ?? (typeof wechat.secret === 'string' && APP_SECRET.test(wechat.secret) ? wechat.secret : null);
  return secret === null ? null : sealKeyFromSecret(secret);
}

export interface ResolvedWeChat {
  appId: string;
  client: WeChatClient;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

/** The client `wechat` stands for, its access token kept in `credentials`; a mistake names the option. */
export function resolveWeChat(
  wechat: unknown,
  parts: { credentials: CredentialCache; now: Clock; warn: (what: string) => (error: unknown) => void },
): ResolvedWeChat {
  if (!isObject(wechat)) throw new OptionError('wechat', 'is required: createSimulatedWeChat(), or { appId, secret } for the real WeChat');
  const events = {
    credentials: parts.credentials,
    now: parts.now,
    onTokenRenewalFailed: parts.warn('renewing the WeChat access token failed; the current one serves until it expires'),
    onTokenCacheFailed: parts.warn('the credential cache failed to keep the fetched WeChat access token; it is used all the same'),
  };
  const own = simulated.get(wechat);
  if (own) {
    // Called in this process: the host has no simulator routes to reach over HTTP.
    const client = createWeChatClient({ baseUrl: () => 'http://simulated-wechat.invalid', appId: SIMULATED_APPID, secret: own.secret, timeoutMs: DEFAULT_TIMEOUT_MS, transport: callSimulator(own.simulator), ...events });
    return { appId: SIMULATED_APPID, client };
  }
  if ('client' in wechat) {
    const { client, appId } = wechat;
    if (!isObject(client) || typeof client.code2Session !== 'function' || typeof client.getPhoneNumber !== 'function') {
      throw new OptionError('wechat.client', 'must have code2Session and getPhoneNumber methods');
    }
    if (typeof appId !== 'string' || appId === '') throw new OptionError('wechat.appId', 'must be the AppID the client logs in to');
    return { appId, client: client as unknown as WeChatClient };
  }
  const { appId, secret, apiBase = REAL_WECHAT_API, timeoutMs = DEFAULT_TIMEOUT_MS } = wechat;
  // The secret's value is never part of a message: its length at most.
  if (typeof appId !== 'string' || !APPID.test(appId)) throw new OptionError('wechat.appId', 'must be "wx" followed by 16 letters or digits');
  if (typeof secret !== 'string' || !APP_SECRET.test(secret)) {
    throw new OptionError('wechat.secret', `must be the 32 hex digits of the AppSecret (got ${typeof secret === 'string' ? `${secret.length} characters, not shown` : typeof secret})`);
  }
  if (typeof apiBase !== 'string' || !/^https?:\/\/[^/?#@]+$/.test(apiBase)) throw new OptionError('wechat.apiBase', 'must be an origin such as https://api.weixin.qq.com');
  if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60_000) {
    throw new OptionError('wechat.timeoutMs', 'must be an integer from 100 to 60000');
  }
  return { appId, client: createWeChatClient({ baseUrl: () => apiBase, appId, secret, timeoutMs, ...events }) };
}
