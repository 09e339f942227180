/**
 * What an account must have before business routes serve it (see authenticateComplete in
 * session.ts), and how its phone number is shown.
 */
import type { PhoneNumber, UserRecord } from './stores/types';

/** The account rules that the configuration sets. */
export interface AccountPolicy {
  /** Business routes answer 403 PHONE_REQUIRED until the user has bound a phone number. */
  requirePhone: boolean;
}

/**
 * The number as the client may see it: the first three and last four digits of a mainland
 * number (`138****8000`); shorter numbers keep two at each end, and numbers from elsewhere
 * carry their country code (`+852 51****67`).
 */
export function maskPhone({ countryCode, number }: PhoneNumber): string {
  const [head, tail] = number.length >= 11 ? [3, 4] : number.length >= 6 ? [2, 2] : [1, 1];
  const masked = number.slice(0, head) + '*'.repeat(number.length - head - tail) + number.slice(number.length - tail);
  return countryCode === '86' ? masked : `+${countryCode} ${masked}`;
}

/** The number in full, as the user's own data export shows it: `+86 13800138000`. */
export function fullPhone({ countryCode, number }: PhoneNumber): string {
  return `+${countryCode} ${number}`;
}

/** Whether this user must bind a phone before business routes serve them. */
export function needsPhone(user: UserRecord, policy: AccountPolicy): boolean {
  return policy.requirePhone && !user.phone;
}
