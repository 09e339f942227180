/**
 * What the HTTP layer refuses before any route runs, over real sockets: a Host that names another
 * site (the request a DNS-rebinding page sends), and request targets that are not a path.
 */
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { logSink, testConfig, until } from './helpers';

let app: FastifyInstance;
let port: number;
const log = logSink();

beforeAll(async () => {
  const config = testConfig({ loginRateLimit: 3 }, { PUBLIC_URL: 'https://api.example.com', ALLOWED_HOSTS: 'devbox.lan, .example.org' });
  app = await buildApp({ config, log: log.stream });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});
afterAll(() => app.close());

/** `text` written as is on a fresh connection; everything the server answered, up to its close. */
const raw = (text: string) =>
  new Promise<string>((resolve, reject) => {
    // Not end(): node closes a connection its client half-closed without waiting for the answer.
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });

/** One request with this Host (and `Connection: close`), as a line of text, and its answer. */
function send(method: string, path: string, host: string, { headers = '', body }: { headers?: string; body?: string } = {}): Promise<string> {
  const length = body === undefined ? '' : `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
  return raw(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${headers}${length}Connection: close\r\n\r\n${body ?? ''}`);
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(answer)?.[1] ?? 0);
const envelopeOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string; message: string } };

/** A login with DevTools' tourist-mode code, which the simulated WeChat takes as the development user every time. */
const MOCK_LOGIN = JSON.stringify({ code: 'the code is a mock one' });

describe('the names the server answers to (ALLOWED_HOSTS)', () => {
  const REBINDING = ['attacker.example', `attacker.example:${'PORT'}`, '127.0.0.1.nip.example', 'localhost.attacker.example', 'api.example.com.attacker.example', 'notexample.org', 'devbox.lan.example'];

  it('answers 421 in the envelope on every route the app has, the simulator and /dev included, to a Host naming another site', async () => {
    await app.ready();
    const routes = [...app.printRoutes({ commonPrefix: false }).matchAll(/(\/\S*) \(([A-Z, ]+)\)/g)].map((m) => ({ path: m[1].replace(/:[a-z]+/g, 'x'), methods: m[2].split(', ') }));
    expect(routes.map((r) => r.path)).toEqual(expect.arrayContaining(['/auth/login', '/api/profile', '/api/avatar', '/avatars/x', '/dev/codes', '/sns/jscode2session', '/healthz']));
    const refused: string[] = [];
    for (const { path, methods } of [...routes, { path: '/no/such/route', methods: ['GET'] }]) {
      for (const method of methods.filter((m) => m !== 'HEAD')) {
        for (const host of REBINDING.map((h) => h.replace('PORT', String(port)))) {
          const answer = await send(method, path, host, method === 'GET' ? {} : { body: '{}' });
          if (statusOf(answer) === 421 && envelopeOf(answer).error.code === 'BAD_REQUEST') refused.push(`${method} ${path}`);
          else throw new Error(`${method} ${path} with Host ${host} answered ${answer.slice(0, 200)}`);
        }
      }
    }
    expect(refused.length).toBeGreaterThanOrEqual(15 * REBINDING.length);
    const answer = await send('GET', '/healthz', 'attacker.example');
    expect(envelopeOf(answer).error.message).toBe('this server does not answer to the name in Host: if clients reach it by that name, add it to ALLOWED_HOSTS');
  });

  it('keeps a rebinding page from logging in as the development user and using up the login limit DevTools shares', async () => {
    // The limit is 3 logins a minute per client address, and the page and DevTools share 127.0.0.1.
    for (let i = 0; i < 5; i++) expect(statusOf(await send('POST', '/auth/login', `rebind.attacker.example:${port}`, { body: MOCK_LOGIN }))).toBe(421);
    const devtools = await send('POST', '/auth/login', `127.0.0.1:${port}`, { body: MOCK_LOGIN });
    expect(statusOf(devtools)).toBe(200);
    expect(JSON.parse(devtools.slice(devtools.indexOf('\r\n\r\n') + 4))).toMatchObject({ skey: expect.any(String) });
  });

  it('serves every name it answers to, whatever the port, case or trailing dot: loopback names, IP addresses, PUBLIC_URL’s host and ALLOWED_HOSTS', async () => {
    const allowed = [
      `127.0.0.1:${port}`, 'localhost', `LocalHost:${port}`, 'localhost.', 'app.localhost', `[::1]:${port}`,
      // Any address: a page the browser loaded from an address is that address's own, so no rebinding.
      '192.0.2.7', '203.0.113.9:8080', '[2001:db8::1]',
      'api.example.com', 'API.Example.COM:443', 'devbox.lan:3000', 'example.org', 'a.b.example.org',
    ];
    const answers = await Promise.all(allowed.map(async (host) => [host, statusOf(await send('GET', '/healthz', host))] as const));
    expect(answers).toEqual(allowed.map((host) => [host, 200]));
  });

  it('answers a Host that is no host name at all with 400 in the envelope', async () => {
    for (const host of ['[::1', '[::1]x', 'a:b:c', 'localhost:123456', '[zz]', ':3000']) {
      const answer = await send('GET', '/healthz', host);
      expect({ host, status: statusOf(answer), error: envelopeOf(answer).error }).toEqual({
        host,
        status: 400,
        error: { code: 'BAD_REQUEST', message: 'the Host header is not a host name or address' },
      });
    }
  });
});

describe('request targets', () => {
  it('refuses an absolute-form target with 400 in the envelope, even with a loopback Host, and logs nothing it named', async () => {
    for (const [method, target] of [
      ['POST', 'http://evil.example/dev/codes'],
      ['POST', `http://127.0.0.1:${port}/dev/codes`],
      ['GET', 'https://evil.example/healthz'],
    ]) {
      const answer = await send(method, target, `127.0.0.1:${port}`, method === 'POST' ? { body: '{}' } : {});
      expect({ target, status: statusOf(answer), error: envelopeOf(answer).error }).toEqual({
        target,
        status: 400,
        error: { code: 'BAD_REQUEST', message: 'the request target must be a path such as /auth/login, not a full URL, an authority or *' },
      });
    }
    await log.written();
    expect(log.text()).not.toMatch(/evil\.example/);
    const paths = log.text().split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { path?: string }).path).filter((path) => path !== undefined);
    expect(paths.filter((path) => !path.startsWith('/'))).toEqual([]);
  });

  it('refuses CONNECT (an authority-form target) and asterisk-form targets with 400 in the envelope, but for OPTIONS *', async () => {
    const tunnel = await raw(`CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n`);
    expect({ status: statusOf(tunnel), error: envelopeOf(tunnel).error }).toEqual({ status: 400, error: { code: 'BAD_REQUEST', message: 'CONNECT is not supported: this is not a proxy' } });
    const star = await send('GET', '*', '127.0.0.1');
    expect({ status: statusOf(star), code: envelopeOf(star).error.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
    // OPTIONS * asks about the server as a whole: it is no route, and no attack either.
    const options = await send('OPTIONS', '*', '127.0.0.1');
    expect({ status: statusOf(options), code: envelopeOf(options).error.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('pipelining', () => {
  it('serves a client that pipelines 16 requests at a time and reads the answers, in order and on one connection, batch after batch', async () => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await new Promise((resolve) => socket.once('connect', resolve));
    const answers = () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) [^]*?\r\n\r\n(\{[^}]*\}\}?)/g)].map((m) => `${m[1]} ${m[2]}`);
    try {
      for (let batch = 1; batch <= 3; batch++) {
        // Each request asks for something else, so that the order of the answers shows.
        socket.write(Array.from({ length: 16 }, (_, i) => `GET /no/such/route/${batch}/${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join(''));
        await until(() => answers().length === 16 * batch, `batch ${batch} to be answered`);
      }
      expect(answers()).toEqual(
        [1, 2, 3].flatMap((batch) => Array.from({ length: 16 }, (_, i) => `404 {"error":{"code":"NOT_FOUND","message":"no route for GET /no/such/route/${batch}/${i}"}}`)),
      );
      expect(socket.destroyed).toBe(false);
    } finally {
      socket.destroy();
    }
  });
});
