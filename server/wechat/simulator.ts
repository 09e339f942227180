/**
 * A stand-in for WeChat's jscode2session, stable_token and getuserphonenumber, reached over HTTP
 * like the real ones, so that the server's code is the same in both modes. Dev-only; never
 * registered in real mode.
 */
import { createCipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UserInfoRequest, WeChatApi, WeChatErrcode } from '../../typings/api';
import { ApiError } from '../errors';
import type { Clock } from '../stores/types';
import type { Transport } from './http';
import { createSimulatedPhones, createSimulatedTokens, failure, type OpenApiAnswer } from './simulated-openapi';

/** The development user: DevTools' codes (not minted here) and POST /dev/codes without a user log in as it. */
export const DEFAULT_USER = 'developer';
/**
 * What wx.login answers in WeChat DevTools' tourist mode (appid "touristappid"), the same string
 * on every call. Unlike any real code it logs in again and again, always as DEFAULT_USER.
 */
export const DEVTOOLS_MOCK_CODE = 'the code is a mock one';
/** The shape of a code wx.login hands out: 32 letters and digits. Codes of any other shape are 40029. */
const REAL_FORMAT_CODE = /^[0-9A-Za-z]{32}$/;
const CODE_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const CODE_LIFETIME_MS = 5 * 60 * 1000;
/** Used codes are remembered this long (a replay within it is 40163) and at most this many. */
const USED_CODE_MEMORY_MS = 24 * 3600 * 1000;
const USED_CODE_LIMIT = 100_000;

const ERRMSG: Record<WeChatErrcode, string> = {
  [-1]: 'system error',
  40029: 'invalid code',
  40163: 'code been used',
  45011: 'api minute-quota reach limit mustslower retry next minute',
  40226: 'invalid risky user',
  40001: 'invalid credential, access_token is invalid or not latest',
  42001: 'access_token expired',
  40014: 'invalid access_token',
  40013: 'invalid appid',
  40125: 'invalid appsecret',
  40164: 'invalid ip 0.0.0.0, not in whitelist',
  45009: 'reach max api daily quota limit',
};
/** Access token errcodes with WeChat's wording, for the checks the simulator makes itself. */
const TOKEN_ERRMSG: Record<number, string> = { ...ERRMSG, 41001: 'access_token missing' };

type Answer = { session_key: string; openid: string; unionid?: string } | { errcode: number; errmsg: string };

interface Fault {
  errcode?: WeChatErrcode;
  delayMs: number;
}

export interface Simulator {
  /**
   * A fresh one-time code for the named simulated user. With `unionid`, this user's logins carry
   * it from now on; a user keeps the first unionid given (400 for a different one).
   */
  mintCode(user?: string, unionid?: string): string;
  /** The same name always maps to the same openid. */
  openidFor(user: string): string;
  /** A getPhoneNumber code: `phoneNumber` (400 when malformed), or the user's own simulated number. */
  mintPhoneCode(user?: string, phoneNumber?: string): string;
  /** The next `times` calls of `api` wait `delayMs`, then fail with `errcode` if given. Returns how many are queued for it. */
  injectFaults(fault: Fault, times: number, api?: WeChatApi): number;
  /** What WeChat hands the client for this user's current session_key; null before the user's first login. */
  userData(user?: string): UserInfoRequest | null;
  exchange(query: Record<string, string | undefined>): Promise<Answer>;
  /** POST /cgi-bin/stable_token with this JSON body. */
  stableToken(body: unknown): Promise<OpenApiAnswer>;
  /** POST /wxa/business/getuserphonenumber?access_token=… with this JSON body. */
  phoneNumber(accessToken: string | undefined, body: unknown): Promise<OpenApiAnswer>;
}

export function createSimulator({ appId, secret, now }: { appId: string; secret: string; now: Clock }): Simulator {
  const minted = new Map<string, { user: string; at: number }>();
  const used = new Map<string, number>();
  const sessionKeys = new Map<string, string>();
  const unionids = new Map<string, string>();
  const faults: Record<WeChatApi, Fault[]> = { jscode2session: [], stable_token: [], getuserphonenumber: [] };
  const secretDigest = createHash('sha256').update(secret).digest();
  const tokens = createSimulatedTokens(now);
  const phones = createSimulatedPhones(appId, now);

  /** 40013 / 40125 for a wrong appid or secret (compared in constant time), else null. */
  const credentialsError = (givenAppId: unknown, givenSecret: unknown): Answer | null => {
    if (givenAppId !== appId) return fail(40013, 'invalid appid');
    const digest = createHash('sha256').update(typeof givenSecret === 'string' ? givenSecret : '').digest();
    return timingSafeEqual(digest, secretDigest) ? null : fail(40125, 'invalid appsecret');
  };
  /** The next fault queued for `api`, after its delay: the errcode answer it stands for, or null. */
  const nextFault = async (api: WeChatApi): Promise<Answer | null> => {
    const fault = faults[api].shift();
    if (!fault) return null;
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    return fault.errcode === undefined ? null : fail(fault.errcode, ERRMSG[fault.errcode]);
  };

  /** A code in wx.login's own format (rejection sampling keeps the 62 characters equally likely). */
  const newCode = () => {
    let code = '';
    while (code.length < 32) {
      for (const byte of randomBytes(48)) if (byte < 248 && code.length < 32) code += CODE_ALPHABET[byte % 62];
    }
    return code;
  };
  const openidFor = (user: string) => `o${createHash('sha256').update(`wx-login-simulator:${user}`).digest('base64url').slice(0, 27)}`;
  const fail = (errcode: number, errmsg: string) => failure(errcode, errmsg) as Answer;

  const remember = (code: string) => {
    const at = now();
    used.set(code, at);
    // Map order is insertion order: the oldest entries come first.
    for (const [old, usedAt] of used) {
      if (used.size <= USED_CODE_LIMIT && at - usedAt < USED_CODE_MEMORY_MS) break;
      used.delete(old);
    }
  };

  return {
    mintCode(user = DEFAULT_USER, unionid) {
      const known = unionids.get(user);
      if (unionid !== undefined && known !== undefined && known !== unionid) {
        throw new ApiError('BAD_REQUEST', `the simulated user "${user}" already has another unionid`);
      }
      if (unionid !== undefined) unionids.set(user, unionid);
      const code = newCode();
      minted.set(code, { user, at: now() });
      return code;
    },

    openidFor,

    mintPhoneCode(user = DEFAULT_USER, phoneNumber) {
      return phones.mint(user, phoneNumber);
    },

    injectFaults(fault, times, api = 'jscode2session') {
      for (let i = 0; i < times; i++) faults[api].push(fault);
      return faults[api].length;
    },

    userData(user = DEFAULT_USER) {
      const openid = openidFor(user);
      const sessionKey = sessionKeys.get(openid);
      if (sessionKey === undefined) return null;
      const profile = { nickName: user, gender: 0, language: 'zh_CN', city: '', province: '', country: '', avatarUrl: '' };
      const rawData = JSON.stringify(profile);
      const iv = randomBytes(16);
      const payload = JSON.stringify({ openId: openid, ...profile, watermark: { timestamp: Math.floor(now() / 1000), appid: appId } });
      const cipher = createCipheriv('aes-128-cbc', Buffer.from(sessionKey, 'base64'), iv);
      return {
        rawData,
        signature: createHash('sha1').update(rawData + sessionKey).digest('hex'),
        encryptedData: Buffer.concat([cipher.update(payload, 'utf8'), cipher.final()]).toString('base64'),
        iv: iv.toString('base64'),
      };
    },

    async exchange({ appid, secret: givenSecret, js_code: code, grant_type: grantType }) {
      const refused = credentialsError(appid, givenSecret);
      if (refused) return refused;
      if (grantType !== 'authorization_code') return fail(40002, 'invalid grant_type');
      if (!code) return fail(41008, 'missing code');

      const fault = await nextFault('jscode2session');
      if (fault) return fault;

      let user = DEFAULT_USER;
      // Tourist mode: the one mock code is not a one-time code, it stands for the development user.
      if (code !== DEVTOOLS_MOCK_CODE) {
        if (used.has(code)) return fail(40163, ERRMSG[40163]);
        const mint = minted.get(code);
        // A real-format code the simulator did not mint came from wx.login in DevTools with a
        // real AppID: accepted once, as the development user. Anything else is not a code.
        if (!mint && !REAL_FORMAT_CODE.test(code)) return fail(40029, ERRMSG[40029]);
        minted.delete(code);
        remember(code);
        if (mint && now() - mint.at > CODE_LIFETIME_MS) return fail(40029, ERRMSG[40029]);
        if (mint) user = mint.user;
      }

      const openid = openidFor(user);
      // WeChat may hand out a new session_key on every login; the latest is the current one.
      const sessionKey = randomBytes(16).toString('base64');
      sessionKeys.set(openid, sessionKey);
      const unionid = unionids.get(user);
      return unionid === undefined ? { session_key: sessionKey, openid } : { session_key: sessionKey, openid, unionid };
    },

    async stableToken(body) {
      const { grant_type: grantType, appid, secret: givenSecret, force_refresh: forceRefresh } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      const refused = credentialsError(appid, givenSecret);
      if (refused) return refused;
      if (grantType !== 'client_credential') return fail(40002, 'invalid grant_type');
      return (await nextFault('stable_token')) ?? tokens.issue(forceRefresh === true);
    },

    async phoneNumber(accessToken, body) {
      const tokenError = tokens.check(accessToken);
      if (tokenError !== 0) return fail(tokenError, TOKEN_ERRMSG[tokenError] ?? 'invalid credential');
      const fault = await nextFault('getuserphonenumber');
      if (fault) return fault;
      return phones.exchange(typeof body === 'object' && body !== null ? (body as Record<string, unknown>).code : undefined);
    },
  };
}

/** A query string's or body's value as the simulator takes it: a string, or absent. */
const textOf = (record: Record<string, unknown>, key: string) => (typeof record[key] === 'string' ? (record[key] as string) : undefined);

/** Each simulated API by its path: what it answers for a query and a JSON body (WeChat's own shapes). */
const SIMULATED_APIS: Record<string, { method: 'GET' | 'POST'; answer: (simulator: Simulator, query: Record<string, unknown>, body: unknown) => Promise<unknown> }> = {
  '/sns/jscode2session': {
    method: 'GET',
    answer: (simulator, query) =>
      simulator.exchange({ appid: textOf(query, 'appid'), secret: textOf(query, 'secret'), js_code: textOf(query, 'js_code'), grant_type: textOf(query, 'grant_type') }),
  },
  '/cgi-bin/stable_token': { method: 'POST', answer: (simulator, _query, body) => simulator.stableToken(body) },
  '/wxa/business/getuserphonenumber': { method: 'POST', answer: (simulator, query, body) => simulator.phoneNumber(textOf(query, 'access_token'), body) },
};

/**
 * What registering the routes takes of a fastify instance, by shape: the simulator's declarations
 * (shipped in the server package, whose hosts may run express) then need no fastify types.
 */
interface RouteRegistrar {
  route(options: {
    method: 'GET' | 'POST';
    url: string;
    handler: (request: { query: unknown; body: unknown }, reply: { type(contentType: string): { send(payload: string): unknown } }) => Promise<unknown>;
  }): unknown;
}

/** WeChat's route shape: always HTTP 200, errors as errcode/errmsg in the body (jscode2session as text/plain, as WeChat sends it). */
export function registerSimulatorRoutes(app: RouteRegistrar, simulator: Simulator): void {
  for (const [path, api] of Object.entries(SIMULATED_APIS)) {
    app.route({
      method: api.method,
      url: path,
      handler: async (request, reply) => {
        const answer = await api.answer(simulator, request.query as Record<string, unknown>, request.body);
        return reply.type(path === '/sns/jscode2session' ? 'text/plain' : 'application/json').send(JSON.stringify(answer));
      },
    });
  }
}

/**
 * The simulator called in this process instead of over HTTP, as a WeChat client transport: what a
 * login costs the server itself, without the hop its simulated mode makes to look like the real
 * WeChat (the benchmark measures both). Answers as the routes above do.
 */
export function callSimulator(simulator: Simulator): Transport {
  return async (url, _deadline, request) => {
    const { pathname, searchParams } = new URL(url);
    const api = SIMULATED_APIS[pathname];
    if (!api || api.method !== (request ? 'POST' : 'GET')) return { status: 404, body: '{}' };
    let body: unknown;
    try {
      body = request ? JSON.parse(request.body) : undefined;
    } catch {
      return { status: 400, body: '{}' };
    }
    return { status: 200, body: JSON.stringify(await api.answer(simulator, Object.fromEntries(searchParams), body)) };
  };
}
