import type { Session, WxLike } from './types';

/** Bump when the stored shape changes: records of any other version read as "no session". */
const VERSION = 1;

/**
 * The skey rule, for a login answer and for what storage gives back alike: it goes into a header,
 * so visible ASCII only, and at most 1 KB (real ones are tens of characters; servers answer 431 to
 * headers of 8-16 KB). A stored skey that breaks it would fail every call with no renewal.
 */
export const isSkey = (value: unknown): value is string => typeof value === 'string' && value.length <= 1024 && /^[\x21-\x7e]+$/.test(value);

interface StoredSession<U> extends Session<U> {
  v: typeof VERSION;
}

/** Reads the stored session. Anything unreadable or malformed is "no session", never an exception. */
export function readSession<U>(w: WxLike, key: string): Session<U> | null {
  let record: Partial<StoredSession<U>> | undefined;
  try {
    record = w.getStorageSync(key);
  } catch {
    return null;
  }
  return record &&
    record.v === VERSION &&
    isSkey(record.skey) &&
    typeof record.expiresAt === 'number' &&
    record.expiresAt === record.expiresAt &&
    record.user !== undefined
    ? { skey: record.skey, expiresAt: record.expiresAt, user: record.user }
    : null;
}

/**
 * Persists the session. A write that throws (storage quota) is tolerated: the session still
 * lives in memory, it just won't survive a restart.
 */
export function writeSession<U>(w: WxLike, key: string, session: Session<U> | null): void {
  try {
    if (session) w.setStorageSync(key, { v: VERSION, ...session });
    else w.removeStorageSync(key);
  } catch {
    // Deliberately ignored: memory is the source of truth while the app runs.
  }
}
