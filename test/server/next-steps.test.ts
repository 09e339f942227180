import type { AddressInfo } from 'node:net';
import type os from 'node:os';
import { API_BASE_URLS } from '../../miniprogram/config';
import { nextSteps } from '../../server/next-steps';

const bound = (address: string, port: number): AddressInfo => ({ address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' });
const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal, netmask: '', mac: '', cidr: null }) as os.NetworkInterfaceInfo;
/** A machine with loopback and one LAN address. */
const INTERFACES = { lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)], eth0: [iface('192.168.1.20', 'IPv4'), iface('fe80::1', 'IPv6')] };

const lines = (text: string) => text.trim().split('\n');

describe('the next steps npm start prints', () => {
  it('says the app reaches this server when config.ts’s develop address is where it listens, and the demo needs nothing more', () => {
    expect(lines(nextSteps(bound('127.0.0.1', 3000), 'http://127.0.0.1:3000', INTERFACES))).toEqual([
      'Next: open this folder in WeChat DevTools; the app talks to http://127.0.0.1:3000 (develop in miniprogram/config.ts), which is this server.',
      'No DevTools? Run `npm run demo` in another terminal to walk through the login flow.',
    ]);
  });

  it('reads the develop address from miniprogram/config.ts itself', () => {
    expect(nextSteps(bound('127.0.0.1', 3107), undefined, INTERFACES)).toBe(nextSteps(bound('127.0.0.1', 3107), API_BASE_URLS.develop, INTERFACES));
    expect(nextSteps(bound('127.0.0.1', 3107), undefined, INTERFACES)).toContain(`(it says ${API_BASE_URLS.develop},`);
  });

  it('on another port, says what to set develop to, and passes the port to the demo', () => {
    expect(lines(nextSteps(bound('127.0.0.1', 3107), 'http://127.0.0.1:3000', INTERFACES))).toEqual([
      'Next: set develop in miniprogram/config.ts to http://127.0.0.1:3107 (it says http://127.0.0.1:3000, where this server does not answer), then open this folder in WeChat DevTools.',
      'No DevTools? Run `PORT=3107 npm run demo` in another terminal to walk through the login flow.',
    ]);
  });

  it('on ::1, gives the IPv6 loopback address it is bound to, never 127.0.0.1, to the app and the demo', () => {
    const text = nextSteps(bound('::1', 3107), 'http://127.0.0.1:3000', INTERFACES);
    expect(text).toContain('set develop in miniprogram/config.ts to http://[::1]:3107 ');
    expect(text).toContain('Run `HOST=::1 PORT=3107 npm run demo`');
    expect(lines(nextSteps(bound('::1', 3000), 'http://127.0.0.1:3000', INTERFACES))[0]).toMatch(/^Next: set develop in miniprogram\/config\.ts to http:\/\/\[::1\]:3000 /);
    expect(lines(nextSteps(bound('::1', 3000), 'http://[::1]:3000', INTERFACES))[0]).toMatch(/which is this server\.$/);
  });

  it('on every interface, accepts a develop address of this machine’s LAN (a phone’s setup) or loopback, and nothing else', () => {
    for (const develop of ['http://192.168.1.20:3000', 'http://127.0.0.1:3000', 'http://localhost:3000']) {
      expect(lines(nextSteps(bound('0.0.0.0', 3000), develop, INTERFACES))[0]).toBe(`Next: open this folder in WeChat DevTools; the app talks to ${develop} (develop in miniprogram/config.ts), which is this server.`);
    }
    expect(lines(nextSteps(bound('0.0.0.0', 3000), 'http://[::1]:3000', INTERFACES))[0]).toMatch(/^Next: set develop .* to http:\/\/127\.0\.0\.1:3000 /);
    expect(lines(nextSteps(bound('::', 3000), 'http://[::1]:3000', INTERFACES))[0]).toMatch(/which is this server\.$/);
    expect(lines(nextSteps(bound('0.0.0.0', 3000), 'http://192.168.1.99:3000', INTERFACES))[0]).toMatch(/^Next: set develop .* \(it says http:\/\/192\.168\.1\.99:3000, where this server does not answer\)/);
    expect(lines(nextSteps(bound('127.0.0.1', 3000), 'http://192.168.1.20:3000', INTERFACES))[0]).toMatch(/^Next: set develop .* to http:\/\/127\.0\.0\.1:3000 /);
    expect(lines(nextSteps(bound('0.0.0.0', 3000), 'https://127.0.0.1:3000', INTERFACES))[0]).toMatch(/^Next: set develop/);
  });
});
