/**
 * The names this server answers to (ALLOWED_HOSTS), against DNS rebinding: a web page whose own
 * name resolves to this server's address can send requests to it, but the browser names the
 * page's domain in Host. The rule, as in Vite and webpack-dev-server: an IP address (the browser
 * named the address itself, so the page is this server's own), `localhost` and its subdomains,
 * the host of PUBLIC_URL, HOST when it is a name, and the names listed, `.example.com` meaning
 * example.com and every name under it. The port is not part of it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { hostnameOf } from './net';

export interface AllowedHosts {
  /** Lower-case names without a trailing dot. */
  names: string[];
  /** Lower-case names whose every subdomain is allowed too (written `.example.com`). */
  domains: string[];
}

/** A DNS name (letters, digits, hyphens, underscores as in compose service names), with an optional leading dot. */
const NAME = /^\.?[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;

/** A name as it is compared: lower case, without the trailing dot of a fully qualified name. */
const normalise = (name: string) => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();

/**
 * ALLOWED_HOSTS (names separated by commas) added to the names always allowed: `localhost` and
 * `.localhost`, and the host names in `implied` (PUBLIC_URL's, HOST; addresses and unset values
 * are skipped). Every entry that is not a name is reported to `problems`.
 */
export function allowedHostsFrom(raw: string | undefined, implied: (string | null)[], problems: string[]): AllowedHosts {
  const rule: AllowedHosts = { names: ['localhost'], domains: ['localhost'] };
  for (const value of implied) {
    if (value === null) continue;
    const name = normalise(value);
    if (!isAddress(name) && NAME.test(name) && !name.startsWith('.')) rule.names.push(name);
  }
  if (raw === undefined) return rule;
  if (['all', '*', 'true'].includes(raw.trim().toLowerCase())) {
    problems.push(
      `ALLOWED_HOSTS=${raw.trim()} would answer any name, which is what a DNS-rebinding page needs: list the names clients use ` +
        '(api.example.com, or .example.com for a domain and every name under it); IP addresses are always allowed',
    );
    return rule;
  }
  for (const entry of raw.split(',').map((part) => part.trim()).filter(Boolean)) {
    const name = normalise(asciiName(entry));
    if (isAddress(name)) continue;
    if (!NAME.test(name)) {
      problems.push(`ALLOWED_HOSTS entries must be host names without a scheme, port or path, such as api.example.com or .example.com (got "${entry}")`);
    } else if (name.startsWith('.')) rule.domains.push(name.slice(1));
    else rule.names.push(name);
  }
  return rule;
}

/** A name in Unicode as browsers send it in Host, in punycode (例子.中国 → xn--fsqu00a.xn--fiqs8s); as given if it is no name. */
function asciiName(entry: string): string {
  if (/^[\x21-\x7e]*$/.test(entry)) return entry;
  const dot = entry.startsWith('.') ? '.' : '';
  const ascii = domainToASCII(entry.slice(dot.length));
  return ascii === '' ? entry : dot + ascii;
}

/** An IPv4 address, or IPv6 with or without brackets: always allowed, so never listed. */
function isAddress(name: string): boolean {
  return isIPv4(name) || isIPv6(name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name);
}

/**
 * The check of a request's Host header value: true when allowed, false when not, null when it is
 * not a host at all (malformed). Host values found allowed are remembered as sent (a few hundred at
 * most), so that a request normally costs one set lookup.
 */
export function allowedHostCheck({ names, domains }: AllowedHosts): (host: string) => boolean | null {
  const exact = new Set(names);
  const seen = new Set<string>();
  const allowed = (hostname: string): boolean => {
    if (hostname.startsWith('[')) return isIPv6(hostname.slice(1, -1));
    const name = normalise(hostname);
    if (isIPv4(name) || exact.has(name)) return true;
    return domains.some((domain) => name === domain || (name.endsWith(domain) && name[name.length - domain.length - 1] === '.'));
  };
  return (host) => {
    if (seen.has(host)) return true;
    const hostname = hostnameOf(host);
    if (hostname === null) return null;
    if (!allowed(hostname)) return false;
    if (seen.size < 256) seen.add(host);
    return true;
  };
}
