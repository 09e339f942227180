/**
 * Slow and stalled clients over real sockets on loopback: silent connections, headers trickled a
 * line at a time, bodies trickled a byte at a time, multipart uploads that stop halfway, more
 * connections than one client may hold, and clients that send requests but never read the answers. Each attack comes from its own loopback address
 * (127.0.0.x), the way separate clients would. The server cuts every one of them at its timeout,
 * answers 408 in the envelope where it still can, and meanwhile serves an ordinary client on
 * 127.0.0.1 without a single failure. Bounded: a few hundred sockets, a few seconds, loopback only.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import type { LoginResponse } from '../../typings/api';
import { testConfig, until } from '../server/helpers';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
const PER_CLIENT = 40;
/**
 * How late past its timeout a cut may come: node checks open requests every headersTimeout/4
 * (here 250 ms), and a loaded machine runs timers late. Loose on purpose: without the timeouts
 * nothing would cut these connections at all, and the 408s say which cut them.
 */
const LATE_MS = 5000;

interface Held {
  name: string;
  opened: number;
  /** When the server closed it; undefined while open. */
  closedAfter?: number;
  /** Everything the server wrote. */
  answer: string;
  socket: Socket;
}

let app: FastifyInstance;
let port: number;
let skey: string;
let uploadDir: string;
const held: Held[] = [];

beforeAll(async () => {
  const config = testConfig({ headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxConnectionsPerClient: PER_CLIENT, maxConnections: 1000, loginRateLimit: 1000, avatarUploadLimit: 1000 });
  uploadDir = config.uploadDir;
  app = await buildApp({ config, log: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
  // The stalled uploads' user, not the development user that the ordinary client below logs in as
  // 20 times: the 11th of those would end this session (10 live sessions per user).
  const { code } = (await (await fetch(`http://127.0.0.1:${port}/dev/codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"uploader"}' })).json()) as { code: string };
  skey = ((await (await fetch(`http://127.0.0.1:${port}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })).json()) as LoginResponse).skey;
});
afterAll(async () => {
  for (const h of held) h.socket.destroy();
  await app.close();
});

/** A connection from `from` (a loopback address) to `to` that `behave` drives; the server's bytes and the moment it closed are recorded. */
function hold(name: string, from: string, behave: (socket: Socket) => void, to = port): Promise<Held> {
  return new Promise((resolve) => {
    const entry: Held = { name, opened: Date.now(), answer: '', socket: connect({ host: '127.0.0.1', port: to, localAddress: from }) };
    entry.socket.on('connect', () => {
      entry.opened = Date.now();
      behave(entry.socket);
      resolve(entry);
    });
    entry.socket.on('data', (chunk: Buffer) => (entry.answer += chunk.toString()));
    entry.socket.on('close', () => (entry.closedAfter = Date.now() - entry.opened));
    entry.socket.on('error', () => undefined);
    held.push(entry);
  });
}

/** Writes `text` one piece every 200 ms until the server closes the socket. */
function trickle(socket: Socket, pieces: () => string): void {
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(pieces());
  }, 200);
  socket.on('close', () => clearInterval(timer));
}

async function allClosed(entries: Held[], withinMs: number): Promise<void> {
  await Promise.all(entries.map((e) => (e.closedAfter !== undefined ? undefined : new Promise((resolve) => e.socket.once('close', resolve)))));
  expect(entries.filter((e) => e.closedAfter! > withinMs).map((e) => `${e.name} held ${e.closedAfter} ms`)).toEqual([]);
}

const status = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: { code: string } };

test('stalled clients are cut at their timeouts, answered 408 in the envelope where possible, while an ordinary client is served throughout', async () => {
  const silent = await Promise.all(Array.from({ length: 30 }, (_, i) => hold(`silent ${i}`, '127.0.0.2', () => undefined)));
  const trickledHeaders = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      hold(`headers ${i}`, '127.0.0.3', (s) => {
        s.write('GET /api/profile HTTP/1.1\r\nHost: 127.0.0.1\r\n');
        trickle(s, () => 'X-Slow: a\r\n');
      }),
    ),
  );
  const trickledBodies = await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      hold(`body ${i}`, '127.0.0.4', (s) => {
        s.write('POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"code":"');
        trickle(s, () => 'a');
      }),
    ),
  );
  const boundary = 'stalledboundary';
  const stalledUploads = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      hold(`upload ${i}`, '127.0.0.5', (s) => {
        s.write(
          `POST /api/avatar HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${skey}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 500000\r\n\r\n` +
            `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n`,
        );
      }),
    ),
  );
  const attackers = [...silent, ...trickledHeaders, ...trickledBodies, ...stalledUploads];

  // Meanwhile an ordinary client: every request answered, the first ones while the attackers are
  // still connected (counted per answer: how long all 40 take depends on the machine's load).
  const base = `http://127.0.0.1:${port}`;
  const statuses: number[] = [];
  let answeredUnderAttack = 0;
  const underAttack = () => void (attackers.some((a) => a.closedAfter === undefined) && answeredUnderAttack++);
  for (let i = 0; i < 20; i++) {
    const { code } = (await (await fetch(`${base}/dev/codes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).json()) as { code: string };
    const login = await fetch(`${base}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    underAttack();
    statuses.push(login.status);
    const { skey: mine } = (await login.json()) as LoginResponse;
    statuses.push((await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${mine}` } })).status);
    underAttack();
  }
  expect(statuses).toEqual(Array(40).fill(200));
  expect(answeredUnderAttack).toBeGreaterThan(0);

  await allClosed([...silent, ...trickledHeaders], HEADERS_TIMEOUT_MS + LATE_MS);
  await allClosed([...trickledBodies, ...stalledUploads], REQUEST_TIMEOUT_MS + LATE_MS);
  // Never before the timeout: a slow but honest client gets its full time.
  expect(trickledHeaders.every((a) => a.closedAfter! >= HEADERS_TIMEOUT_MS - 50)).toBe(true);
  expect(trickledBodies.every((a) => a.closedAfter! >= REQUEST_TIMEOUT_MS - 50)).toBe(true);

  for (const a of [...trickledHeaders, ...trickledBodies, ...stalledUploads]) {
    expect({ name: a.name, status: status(a.answer), code: bodyOf(a.answer).error.code }).toEqual({ name: a.name, status: 408, code: 'BAD_REQUEST' });
  }
  console.log(
    `slow clients: longest hold ${Math.max(...[...silent, ...trickledHeaders].map((a) => a.closedAfter!))} ms for headers (timeout ${HEADERS_TIMEOUT_MS}), ` +
      `${Math.max(...[...trickledBodies, ...stalledUploads].map((a) => a.closedAfter!))} ms for bodies (timeout ${REQUEST_TIMEOUT_MS})`,
  );

  // And the server is none the worse.
  expect((await fetch(`${base}/api/profile`, { headers: { authorization: `Bearer ${skey}` } })).status).toBe(200);
}, 30_000);

test(`one client gets at most ${PER_CLIENT} connections; the rest are closed at once, and other clients are not affected`, async () => {
  // Its own server, with the default 10 s headers timeout: the connections kept must still be open
  // when the test looks, however slowly a loaded machine gets there.
  const config = testConfig({ maxConnectionsPerClient: PER_CLIENT, maxConnections: 1000 });
  const roomy = await buildApp({ config, log: false });
  await roomy.listen({ host: '127.0.0.1', port: 0 });
  const roomyPort = (roomy.server.address() as AddressInfo).port;
  let hog: Held[] = [];
  try {
    hog = await Promise.all(Array.from({ length: PER_CLIENT + 20 }, (_, i) => hold(`hog ${i}`, '127.0.0.6', () => undefined, roomyPort)));
    await until(() => hog.filter((h) => h.closedAfter !== undefined).length >= 20, 'the server to refuse the connections past the cap');
    const refused = hog.filter((h) => h.closedAfter !== undefined);
    expect(refused).toHaveLength(20);
    // Closed without a word: a cut at the headers timeout would have answered 408.
    expect(refused.every((h) => h.answer === '')).toBe(true);
    expect(refused.every((h) => h.closedAfter! < config.headersTimeoutMs)).toBe(true);
    expect(hog.filter((h) => h.closedAfter === undefined)).toHaveLength(PER_CLIENT);

    // Another client (127.0.0.1) connects and is served while the hog holds its quota.
    expect((await fetch(`http://127.0.0.1:${roomyPort}/healthz`)).status).toBe(200);
  } finally {
    for (const h of hog) h.socket.destroy();
    await roomy.close();
  }
}, 20_000);

test('past MAX_CONNECTIONS, new connections are closed at once; once the holders are cut at their timeout, new clients are served again', async () => {
  const small = await buildApp({ config: testConfig({ headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS, maxConnections: 10, maxConnectionsPerClient: 0 }), log: false });
  await small.listen({ host: '127.0.0.1', port: 0 });
  const smallPort = (small.server.address() as AddressInfo).port;
  const open = (from: string) =>
    new Promise<{ socket: Socket; closed: Promise<number>; answer: () => string }>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: smallPort, localAddress: from });
      const start = Date.now();
      let answer = '';
      const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now() - start)));
      socket.on('error', () => undefined);
      // Read whatever the server writes (a 408), so that its close is seen.
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      socket.on('connect', () => resolve({ socket, closed, answer: () => answer }));
    });
  try {
    const holders = await Promise.all(Array.from({ length: 10 }, () => open('127.0.0.7')));
    // The server counts them before the next one arrives.
    const counted = () => new Promise<number>((resolve, reject) => small.server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
    await until(async () => (await counted()) === 10, 'the server to count the 10 holders');
    const extra = await open('127.0.0.8');
    await extra.closed;
    // Closed without a word: a cut at the headers timeout would have answered 408.
    expect(extra.answer()).toBe('');
    const held = await Promise.all(holders.map((h) => h.closed));
    expect(holders.map((h) => status(h.answer()))).toEqual(Array(10).fill(408));
    expect(Math.max(...held)).toBeLessThanOrEqual(HEADERS_TIMEOUT_MS + LATE_MS);
    expect((await fetch(`http://127.0.0.1:${smallPort}/healthz`)).status).toBe(200);
  } finally {
    await small.close();
  }
}, 20_000);

/**
 * A connection from `from` that never reads (its socket is paused before anything arrives), and
 * the server's end of it, told apart from other connections by the client's port.
 */
async function nonReader(from: string): Promise<{ client: Socket; server: Socket }> {
  const client = connect({ host: '127.0.0.1', port, localAddress: from });
  client.pause();
  client.on('error', () => undefined);
  const server = new Promise<Socket>((resolve) => {
    const mine = (socket: Socket) => {
      if (socket.remotePort !== client.localPort) return;
      app.server.off('connection', mine);
      resolve(socket);
    };
    app.server.on('connection', mine);
  });
  await new Promise((resolve) => client.once('connect', resolve));
  held.push({ name: `non-reader from ${from}`, opened: Date.now(), answer: '', socket: client });
  return { client, server: await server };
}

/** Everything the server wrote to `client`, read once it starts reading, up to the close. */
function readAll(client: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  client.on('data', (chunk: Buffer) => chunks.push(chunk));
  client.resume();
  return new Promise((resolve) => client.once('close', () => resolve(Buffer.concat(chunks))));
}

const statuses = (answers: string) => [...answers.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));

test('a client that pipelines requests and never reads has 16 served and the 17th refused 429, and its connection is closed at once; what else it sent is dropped, and read no further', async () => {
  const request = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
  let parsed = 0;
  const count = () => void parsed++;
  app.server.prependListener('request', count);
  try {
    const { client, server } = await nonReader('127.0.0.9');
    const sent = Date.now();
    client.write(request.repeat(10_000));
    await until(() => server.destroyed, 'the server to close the connection');
    const closedAfter = Date.now() - sent;

    const answers = (await readAll(client)).toString();
    expect(statuses(answers)).toEqual([...Array(16).fill(200), 429]);
    const refusal = answers.slice(answers.lastIndexOf('HTTP/1.1 '));
    expect(refusal).toMatch(/\r\nConnection: close\r\n/i);
    expect(bodyOf(refusal)).toEqual({ error: { code: 'RATE_LIMITED', message: 'at most 16 requests may wait for their answers on one connection: read the answers before sending more' } });
    // Node reads at most 64 KB at a time: what it had read when the 17th arrived, and nothing after.
    expect(parsed).toBeLessThanOrEqual(Math.ceil(65536 / request.length));
    console.log(`pipelining non-reader: ${parsed} of 10000 requests (${request.length} bytes each) parsed, 16 served, 1 refused; closed ${closedAfter} ms after the write`);
  } finally {
    app.server.off('request', count);
  }
  // The server is none the worse.
  expect((await fetch(`http://127.0.0.1:${port}/api/profile`, { headers: { authorization: `Bearer ${skey}` } })).status).toBe(200);
}, 20_000);

/** An avatar file of `bytes` random bytes, under a name the server could have given it. */
function plantAvatar(bytes: number): string {
  const name = `${randomBytes(16).toString('hex')}.png`;
  writeFileSync(path.join(uploadDir, name), randomBytes(bytes));
  return name;
}

/** Eight 2 MB answers: more than loopback's socket buffers hold, so the server's writes back up. */
const bigAnswers = (name: string) => `GET /avatars/${name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(8);

test('a connection whose answers have not drained for the request timeout is cut, not kept forever', async () => {
  const { client, server } = await nonReader('127.0.0.10');
  const sent = Date.now();
  client.write(bigAnswers(plantAvatar(2 * 1024 * 1024)));
  await until(() => server.destroyed, 'the server to cut the connection', REQUEST_TIMEOUT_MS + LATE_MS);
  const cutAfter = Date.now() - sent;
  // Not before the timeout: the answers stopped draining at once, so the cut measures the timeout itself.
  expect(cutAfter).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS);
  console.log(`non-reading client of 16 MB of answers cut after ${cutAfter} ms (request timeout ${REQUEST_TIMEOUT_MS})`);
}, 20_000);

test('a client that stops reading for less than the request timeout gets every answer, and keeps its connection', async () => {
  const size = 2 * 1024 * 1024;
  const { client, server } = await nonReader('127.0.0.11');
  client.write(bigAnswers(plantAvatar(size)));
  // Its answers have backed up on the server; it reads again well before the timeout.
  await until(() => server.writableLength > 0, 'the answers to back up');
  const chunks: Buffer[] = [];
  let received = 0;
  client.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    received += chunk.length;
  });
  client.resume();
  await until(() => received >= 8 * size, 'every answer to arrive', 10_000);
  expect(statuses(Buffer.concat(chunks).toString('latin1'))).toEqual(Array(8).fill(200));
  expect(server.destroyed).toBe(false);
}, 20_000);
