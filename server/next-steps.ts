/**
 * What `npm start` tells a developer once the simulated WeChat is up: whether the mini-program
 * (its `develop` address in miniprogram/config.ts) will reach this server, and if not, what to put
 * there; and how to run `npm run demo` against it. Every address is one the server really answers.
 */
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { API_BASE_URLS } from '../miniprogram/config';
import { originOnThisMachine, urlHost } from './net';

type Interfaces = ReturnType<typeof os.networkInterfaces>;

/** The host names (as in a URL) at which a server bound to `address` answers. */
function hostsAnswering(address: string, interfaces: Interfaces): Set<string> {
  const wildcard = address === '0.0.0.0' || address === '::';
  if (!wildcard) return new Set([urlHost(address)]);
  // :: takes IPv4 too (node listens dual-stack); 0.0.0.0 only IPv4.
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  return new Set(all.filter((i) => address === '::' || i.family === 'IPv4').map((i) => urlHost(i.address)));
}

/** Whether `url` reaches the server bound at `bound`. */
function reaches(url: string, bound: AddressInfo, interfaces: Interfaces): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const port = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (parsed.protocol !== 'http:' || port !== bound.port) return false;
  const hosts = hostsAnswering(bound.address, interfaces);
  // DevTools tries both loopbacks for localhost.
  return hosts.has(parsed.hostname) || (parsed.hostname === 'localhost' && (hosts.has('127.0.0.1') || hosts.has('[::1]')));
}

/** The `npm run demo` command line for this server (the demo takes HOST and PORT as the server does, 3000 by default). */
function demoCommand(origin: URL): string {
  const host = origin.hostname === '127.0.0.1' ? '' : `HOST=${origin.hostname.replace(/^\[|\]$/g, '')} `;
  const port = origin.port === '3000' ? '' : `PORT=${origin.port} `;
  return `${host}${port}npm run demo`;
}

/** The text printed after the start-up line. */
export function nextSteps(bound: AddressInfo, developUrl: string = API_BASE_URLS.develop, interfaces: Interfaces = os.networkInterfaces()): string {
  const here = originOnThisMachine(bound);
  const app = reaches(developUrl, bound, interfaces)
    ? `Next: open this folder in WeChat DevTools; the app talks to ${developUrl} (develop in miniprogram/config.ts), which is this server.`
    : `Next: set develop in miniprogram/config.ts to ${here} (it says ${developUrl}, where this server does not answer), then open this folder in WeChat DevTools.`;
  return `\n${app}\nNo DevTools? Run \`${demoCommand(new URL(here))}\` in another terminal to walk through the login flow.\n\n`;
}
