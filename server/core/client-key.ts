import { isIPv4 } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The key a client is counted under by the rate limiters and the connection cap: an IPv4
 * address as is (IPv4-mapped IPv6 as IPv4), an IPv6 address by its /64, the block a single
 * subscriber is normally given, so that rotating through one's own addresses buys nothing.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  // A dotted quad without leading zeros is already what parsing would give back (and cheaper).
  if (isIPv4(address)) return address;
  if (!ipaddr.isValid(address)) return address;
  const parsed = ipaddr.process(address);
  if (parsed.kind() === 'ipv4') return parsed.toString();
  const parts = (parsed as ipaddr.IPv6).parts;
  return `${parts.slice(0, 4).map((part) => part.toString(16)).join(':')}::/64`;
}
