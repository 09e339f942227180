/**
 * Start-up and shutdown of the compiled server, as a deployment runs it: it refuses to start
 * without a mode, says where it is bound, and on a real SIGTERM stops accepting, closes idle
 * keep-alive connections at once, answers what is in flight (503 in the envelope for requests
 * that arrive on an open connection meanwhile) and exits within SHUTDOWN_TIMEOUT_SECONDS even
 * with a client that never finishes its request. Loopback only; every process is stopped.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { compileServer, freePort, ROOT, startServer, waitFor, type Proc } from '../../bench/harness';

const DEADLINE_S = 3;

/** A raw connection whose bytes and close are recorded. */
function rawConnection(port: number): Promise<{ socket: Socket; text: () => string; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<number>((done) => socket.on('close', () => done(Date.now())));
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', () => undefined);
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

const exitOf = (proc: Proc) => new Promise<{ code: number | null; at: number }>((resolve) => proc.child.once('exit', (code) => resolve({ code, at: Date.now() })));
const portOf = (proc: Proc) => Number(new URL(proc.url).port);
const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('the compiled server', () => {
  it('refuses to start without WX_MODE or credentials, and says what to set', () => {
    const result = spawnSync(process.execPath, [compileServer()], {
      cwd: ROOT,
      env: { ...process.env, WX_MODE: '', WX_APPID: '', WX_SECRET: '', NODE_ENV: '', PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/WX_MODE is not set: set WX_MODE=simulated .* or WX_MODE=real with WX_APPID and WX_SECRET/);
    expect(result.stdout).not.toMatch(/listening/);
  });

  it('refuses the simulator under NODE_ENV=production', () => {
    const result = spawnSync(process.execPath, [compileServer()], { cwd: ROOT, env: { ...process.env, WX_MODE: 'simulated', NODE_ENV: 'production', PORT: '0' }, encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/NODE_ENV=production needs real WeChat/);
  });

  it('refuses real WeChat without PUBLIC_URL, naming it, before listening', () => {
    const result = spawnSync(process.execPath, [compileServer()], {
      cwd: ROOT,
      env: { ...process.env, WX_MODE: 'real', WX_APPID: 'wx0123456789abcdef', WX_SECRET: '0123456789abcdef0123456789abcdef', PUBLIC_URL: '', NODE_ENV: '', HOST: '0.0.0.0', PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PUBLIC_URL is not set: real WeChat needs the origin clients reach this server at/);
    expect(result.stdout).not.toMatch(/listening/);
  });

  it('refuses to start with an UPLOAD_DIR other users may write to, saying which chmod fixes it, before listening', () => {
    const uploadDir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-shared-'));
    chmodSync(uploadDir, 0o777);
    const result = spawnSync(process.execPath, [compileServer()], {
      cwd: ROOT,
      env: { ...process.env, WX_MODE: 'simulated', WX_APPID: '', WX_SECRET: '', NODE_ENV: '', PORT: '0', UPLOAD_DIR: uploadDir },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`invalid configuration:\n  - UPLOAD_DIR ${uploadDir} is writable by group or others (mode 0777): chmod 700 ${uploadDir}\n`);
    expect(result.stdout).toBe('');
  });

  it('refuses to start when Redis cannot be reached, saying where (host and port, not the password) and why, on one line', async () => {
    const redisPort = await freePort();
    const result = spawnSync(process.execPath, [compileServer()], {
      cwd: ROOT,
      env: { ...process.env, WX_MODE: 'simulated', WX_APPID: '', WX_SECRET: '', NODE_ENV: '', PORT: '0', LOG_LEVEL: 'info', REDIS_URL: `redis://:hunter22@127.0.0.1:${redisPort}` },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`server failed to start: cannot connect to Redis at REDIS_URL (127.0.0.1:${redisPort}): connect ECONNREFUSED 127.0.0.1:${redisPort}\n`);
    expect(result.stdout).toBe('');
  });

  it('prints one start-up line with the address it is really bound to and its mode, then next steps with true addresses', async () => {
    const server = await startServer({ LOG_LEVEL: 'info' });
    const port = portOf(server);
    try {
      await waitFor('next steps', async () => server.output().includes('No DevTools?'));
      const output = server.output();
      expect(output.match(/listening/gi)).toHaveLength(1);
      expect(output).toMatch(new RegExp(`listening on http://127\\.0\\.0\\.1:${port} \\(this machine only\\) in \\d+ ms: simulated WeChat, memory store`));
      // A free port is never config.ts's 3000: the app must be pointed at this one, and so must the demo.
      expect(output).toContain(`Next: set develop in miniprogram/config.ts to http://127.0.0.1:${port} (it says http://127.0.0.1:3000, where this server does not answer)`);
      expect(output).toContain(`Run \`PORT=${port} npm run demo\``);
      expect(output.indexOf('listening on')).toBeLessThan(output.indexOf('Next:'));
    } finally {
      await server.stop();
    }
  });
});

describe('SIGTERM to the compiled server', () => {
  it(`closes idle keep-alive connections at once, answers the request in flight, refuses new work, and exits within ${DEADLINE_S} s despite a stalled client`, async () => {
    const server = await startServer({ LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_SECONDS: String(DEADLINE_S) });
    const port = portOf(server);
    const base = server.url;
    const exited = exitOf(server);
    try {
      // An idle keep-alive connection: one request answered, then nothing.
      const idle = await rawConnection(port);
      idle.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      while (!idle.text().includes('"ok"')) await new Promise((resolve) => idle.socket.once('data', resolve));
      // A stalled client: half a request line, then silence (cut only by the deadline: the headers timeout is 10 s).
      const stalled = await rawConnection(port);
      stalled.socket.write('GET /api/prof');
      // A client halfway through its headers, which it finishes during the shutdown.
      const late = await rawConnection(port);
      late.socket.write('GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      // A request in flight: a login held 1.5 s by the simulated WeChat.
      const { code } = (await (await post(base, '/dev/codes', {})).json()) as { code: string };
      await post(base, '/dev/faults', { delayMs: 1500 });
      const inFlight = post(base, '/auth/login', { code }, { connection: 'keep-alive' });
      // The login is in the server, waiting on WeChat, once the simulator has taken the slow fault.
      // Each probe queues one instant fault, so the queue holds exactly the probes once it is taken.
      for (let probes = 1; ; probes++) {
        const { pending } = (await (await post(base, '/dev/faults', { delayMs: 0 })).json()) as { pending: number };
        if (pending === probes) break;
      }

      const sigterm = Date.now();
      server.child.kill('SIGTERM');

      const idleClosed = await idle.closed;
      late.socket.write('\r\n');
      const answer = await inFlight;
      const answeredAt = Date.now();
      expect(answer.status).toBe(200);
      expect(answer.headers.get('connection')).toBe('close');
      expect(idleClosed).toBeLessThan(answeredAt);

      await late.closed;
      expect(late.text()).toMatch(/^HTTP\/1\.1 503 /);
      expect(JSON.parse(late.text().split('\r\n\r\n')[1])).toEqual({ error: { code: 'INTERNAL', message: 'the server is shutting down, try again' } });

      await expect(fetch(`${base}/healthz`)).rejects.toThrow();

      const { code: exitCode, at } = await exited;
      const stalledClosed = await stalled.closed;
      const took = at - sigterm;
      console.log(`SIGTERM: idle keep-alive closed after ${idleClosed - sigterm} ms, in-flight answered after ${answeredAt - sigterm} ms, exit after ${took} ms (deadline ${DEADLINE_S * 1000} ms, one stalled client)`);
      expect(took).toBeGreaterThanOrEqual(DEADLINE_S * 1000 - 100);
      // Loose, as a loaded machine runs timers late; still well before the 10 s headers timeout
      // that would otherwise be the first thing to cut the stalled client.
      expect(took).toBeLessThan(2 * DEADLINE_S * 1000);
      expect(stalledClosed).toBeLessThanOrEqual(at);
      // Cut connections make an unclean exit, and the log says so.
      expect(exitCode).toBe(1);
      expect(server.output()).toMatch(/shutdown deadline of 3000 ms reached: cutting the connections still open/);
    } finally {
      await server.stop();
    }
  }, 20_000);

  it('exits 0 at once when nothing is open', async () => {
    const server = await startServer({ LOG_LEVEL: 'info' });
    try {
      const exited = exitOf(server);
      await fetch(`${server.url}/healthz`);
      const sigterm = Date.now();
      server.child.kill('SIGTERM');
      const { code, at } = await exited;
      console.log(`SIGTERM with one idle keep-alive connection: exit after ${at - sigterm} ms`);
      // Held to the 10 s default deadline, the idle connection fetch kept open would be cut, and
      // the exit be 1: a 0 before then shows it did not hold the shutdown up.
      expect(code).toBe(0);
      expect(at - sigterm).toBeLessThan(10_000);
    } finally {
      await server.stop();
    }
  }, 30_000);
});

/** Whether something accepts connections on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('an npm start', () => {
  it('stops the server and frees the port when the npm process itself gets SIGTERM (as an IDE’s stop button sends it)', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, WX_MODE: '', PORT: String(port), LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const npmExit = new Promise<number | null>((resolve) => npm.once('exit', resolve));
    // The server writes to the pipe npm handed down: it closes once the server's last line is out.
    let outputEnded = false;
    npm.stdout.once('close', () => (outputEnded = true));
    /** The server's own pid, from its log lines, to clean up should the test fail. */
    const serverPid = () => Number(/"pid":(\d+)/.exec(output)?.[1]);
    try {
      await waitFor('npm start', async () => /listening on/.test(output) || npm.exitCode !== null, 30_000);
      expect(await listening(port)).toBe(true);
      npm.kill('SIGTERM');
      await npmExit;
      await waitFor('the port to be freed', async () => !(await listening(port)), 10_000);
      // The port is freed before the server's closing line has necessarily reached this process.
      await waitFor('the server to end its output', async () => outputEnded, 10_000);
      expect(output).toMatch(/SIGTERM: closing/);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      if (serverPid() > 0 && (await listening(port))) process.kill(serverPid(), 'SIGKILL');
    }
  }, 60_000);

  it('runs the simulated WeChat without being told, and stops on SIGINT', async () => {
    const port = String(await freePort());
    const child = spawn(process.execPath, ['scripts/start-simulated.js'], { cwd: ROOT, env: { ...process.env, WX_MODE: '', PORT: port, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor('npm start', async () => /listening on/.test(output) || child.exitCode !== null, 20_000);
      expect(output).toMatch(/simulated WeChat/);
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      child.kill('SIGINT');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 30_000);
});
