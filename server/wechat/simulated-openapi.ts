/**
 * The simulated WeChat's access tokens (`POST /cgi-bin/stable_token`) and phone numbers
 * (`POST /wxa/business/getuserphonenumber`), with the rules WeChat documents for them. Composed
 * into the simulator (simulator.ts), which adds credentials checks, faults and the HTTP routes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ApiError } from '../errors';
import type { Clock, PhoneNumber } from '../stores/types';

/** What a simulated WeChat API answers: its fields on success, errcode and errmsg otherwise. */
export type OpenApiAnswer = Record<string, unknown>;

export const failure = (errcode: number, errmsg: string): OpenApiAnswer => ({ errcode, errmsg: `${errmsg}, rid: ${randomBytes(6).toString('hex')}` });

const TOKEN_LIFETIME_MS = 7200 * 1000;
/** In the last 5 minutes of a token's life stable_token hands out the next one; both work meanwhile. */
const TOKEN_OVERLAP_MS = 5 * 60 * 1000;
/** Force-refresh mode: at most 20 a day, 30 seconds apart (sooner, it refreshes nothing). */
const FORCED_PER_DAY = 20;
const FORCED_MIN_GAP_MS = 30 * 1000;
const DAY_MS = 24 * 3600 * 1000;
/** Real tokens are long opaque strings; this shape tells "not a token at all" (40014) from "not ours" (40001). */
const TOKEN_SHAPE = /^\d{2}_[A-Za-z0-9_-]{120,}$/;

interface Issued {
  value: string;
  expiresAt: number;
  /** Invalidated early by a force refresh. */
  revoked: boolean;
}

export interface SimulatedTokens {
  /** stable_token's answer, once the caller's appid and secret have been checked. */
  issue(forceRefresh: boolean): OpenApiAnswer;
  /** 0 when WeChat would accept this access_token, else the errcode it answers. */
  check(accessToken: string | undefined): number;
}

export function createSimulatedTokens(now: Clock): SimulatedTokens {
  const issued = new Map<string, Issued>();
  let current: Issued | null = null;
  let lastForcedAt = Number.NEGATIVE_INFINITY;
  /** Force refreshes made on `forcedDay` (a day number since the epoch). */
  let forcedDay = -1;
  let forcedCount = 0;

  const mint = (at: number): Issued => {
    // Forget tokens dead for a day: the map stays small however long the simulator runs.
    for (const [value, token] of issued) if (at - token.expiresAt > DAY_MS) issued.delete(value);
    const token = { value: `86_${randomBytes(120).toString('base64url')}`, expiresAt: at + TOKEN_LIFETIME_MS, revoked: false };
    issued.set(token.value, token);
    current = token;
    return token;
  };

  return {
    issue(forceRefresh) {
      const at = now();
      let token = current;
      if (forceRefresh) {
        const day = Math.floor(at / DAY_MS);
        if (day !== forcedDay) [forcedDay, forcedCount] = [day, 0];
        if (token === null || at - lastForcedAt >= FORCED_MIN_GAP_MS) {
          if (forcedCount >= FORCED_PER_DAY) return failure(45009, 'reach max api daily quota limit');
          forcedCount += 1;
          lastForcedAt = at;
          // Force refresh invalidates every token handed out before, at once.
          for (const old of issued.values()) old.revoked = true;
          token = mint(at);
        }
      } else if (token === null || token.expiresAt - at <= TOKEN_OVERLAP_MS) {
        token = mint(at);
      }
      return { access_token: token.value, expires_in: Math.floor((token.expiresAt - at) / 1000) };
    },

    check(accessToken) {
      if (!accessToken) return 41001;
      const token = issued.get(accessToken);
      if (!token) return TOKEN_SHAPE.test(accessToken) ? 40001 : 40014;
      if (token.revoked) return 40001;
      return now() >= token.expiresAt ? 42001 : 0;
    },
  };
}

const PHONE_CODE_LIFETIME_MS = 5 * 60 * 1000;
/** Unused codes kept at most; past it, expired ones are swept when a code is minted. */
const PHONE_CODE_LIMIT = 10_000;

/** `13800138000`, or `+852 51234567` with the country calling code apart. */
export function parsePhoneNumber(text: string): PhoneNumber {
  const match = /^(?:\+([1-9]\d{0,3})[ -])?(\d{4,14})$/.exec(text.trim());
  const countryCode = match?.[1] ?? '86';
  if (!match || (countryCode === '86' && !/^1\d{10}$/.test(match[2]))) {
    throw new ApiError('BAD_REQUEST', 'phoneNumber must be a mainland number such as 13800138000, or +<country code> and the number, such as +852 51234567');
  }
  return { countryCode, number: match[2] };
}

/** Every simulated user has a number of their own, the same on every run. */
function numberOf(user: string): PhoneNumber {
  const digits = [...createHash('sha256').update(`wx-login-simulator-phone:${user}`).digest()].slice(0, 8).map((byte) => byte % 10);
  return { countryCode: '86', number: `138${digits.join('')}` };
}

export interface SimulatedPhones {
  /** A code as the getPhoneNumber button hands it to the page after `user` agreed. */
  mint(user: string, phoneNumber?: string): string;
  /** getuserphonenumber's answer for a code, once the access_token has been checked. Each code works once. */
  exchange(code: unknown): OpenApiAnswer;
}

export function createSimulatedPhones(appId: string, now: Clock): SimulatedPhones {
  const minted = new Map<string, { phone: PhoneNumber; at: number }>();

  return {
    mint(user, phoneNumber) {
      const phone = phoneNumber === undefined ? numberOf(user) : parsePhoneNumber(phoneNumber);
      const at = now();
      if (minted.size >= PHONE_CODE_LIMIT) for (const [code, entry] of minted) if (at - entry.at > PHONE_CODE_LIFETIME_MS) minted.delete(code);
      // The shape of WeChat's own codes: 64 hex digits.
      const code = randomBytes(32).toString('hex');
      minted.set(code, { phone, at });
      return code;
    },

    exchange(code) {
      const entry = typeof code === 'string' ? minted.get(code) : undefined;
      if (!entry) return failure(40029, 'invalid code');
      minted.delete(code as string);
      if (now() - entry.at > PHONE_CODE_LIFETIME_MS) return failure(40029, 'invalid code');
      const { countryCode, number } = entry.phone;
      return {
        errcode: 0,
        errmsg: 'ok',
        phone_info: {
          phoneNumber: countryCode === '86' ? number : `+${countryCode} ${number}`,
          purePhoneNumber: number,
          countryCode,
          watermark: { timestamp: Math.floor(entry.at / 1000), appid: appId },
        },
      };
    },
  };
}
