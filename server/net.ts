/** Client addresses: who is local, which peers are trusted proxies, and the key a client is counted under. */
import type { AddressInfo } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import ipaddr from 'ipaddr.js';
import type { TrustProxy } from './config';

/**
 * TRUST_PROXY as the function fastify (proxy-addr) asks about each hop: hop 0 is the TCP peer,
 * hop 1 the right-most X-Forwarded-For entry, and so on. The client is the first untrusted one.
 */
export function proxyTrust(trust: TrustProxy): (address: string, hop: number) => boolean {
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return proxyAddr.compile(trust);
}

/** `localhost`, 127.0.0.0/8 or ::1 (brackets allowed), as a HOST value or a Host header's name. */
export function isLoopbackHostname(hostname: string): boolean {
  const name = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (name.toLowerCase() === 'localhost') return true;
  return isLoopbackAddress(name);
}

/** Whether a socket address is this machine's loopback (IPv4-mapped IPv6 included). */
export function isLoopbackAddress(address: string | undefined): boolean {
  // What the kernel reports for loopback peers almost always; parsing is for everything else.
  if (address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1') return true;
  if (address === undefined || !ipaddr.isValid(address)) return false;
  return ipaddr.process(address).range() === 'loopback';
}

/** The name part of a Host header (`127.0.0.1:3000` → `127.0.0.1`, `[::1]:3000` → `[::1]`); null when malformed. */
export function hostnameOf(hostHeader: string | undefined): string | null {
  if (hostHeader === undefined) return null;
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::\d{1,5})?$/.exec(hostHeader);
  return match ? match[1] : null;
}

// Counted the same way by the login core: its module is the one place it is decided.
export { clientKey } from './core/client-key';

/** A listening socket's address as it goes in a URL (IPv6 in brackets). */
export function urlHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * The origin other programs on this machine reach a listening server at: its own address, or
 * loopback when it listens on every interface (0.0.0.0 → 127.0.0.1, :: → [::1]).
 */
export function originOnThisMachine({ address, port }: AddressInfo): string {
  const host = address === '0.0.0.0' ? '127.0.0.1' : address === '::' ? '::1' : address;
  return `http://${urlHost(host)}:${port}`;
}
