/**
 * Private PostgreSQL and MariaDB servers for tests and benchmarks: each in its own temporary
 * folder, on a free port of 127.0.0.1, started from Debian's packages (postgresql 15,
 * mariadb-server). PostgreSQL's initdb refuses to run as root, so as root it runs as the
 * `postgres` user. MariaDB starts with --no-defaults: its default charset is then latin1, as on
 * many hosted servers, so that an application that does not declare utf8mb4 loses its emoji here.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port';

const PG_BIN = '/usr/lib/postgresql/15/bin';

export const postgresAvailable = existsSync(path.join(PG_BIN, 'initdb'));
export const mariadbAvailable = spawnSync('mariadbd', ['--version']).status === 0;

export interface DatabaseServer {
  /** DATABASE_URL of its empty database `wxlogin`. */
  url: string;
  /** Stops the server (immediately, as a crash would), keeping its data and port for start(). */
  stop(): Promise<void>;
  /** Starts it again on the same port, with the same data. */
  start(): Promise<void>;
  /** SIGSTOP: the server keeps its connections but answers nothing. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
  /** A fresh empty database on this server, as a DATABASE_URL. */
  createDatabase(name: string): Promise<string>;
}

const asRoot = process.getuid?.() === 0;

/** Waits until `ready` says so, polling; throws `what` with the log's tail after `ms`. */
async function waitUntil(what: string, ready: () => boolean, log: () => string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${ms} ms: ${log().slice(-1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A private PostgreSQL 15 with trust authentication for its own superuser `postgres`. */
export async function startPostgres(): Promise<DatabaseServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-pg-'));
  const data = path.join(dir, 'data');
  const port = await freePort();
  // initdb refuses root: as root, PostgreSQL's programs run as the postgres user.
  const asPostgres = (binary: string, args: string[]) => [...(asRoot ? ['runuser', '-u', 'postgres', '--'] : []), path.join(PG_BIN, binary), ...args];
  if (asRoot) {
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
    chmodSync(dir, 0o700);
  }
  const [initdb, ...initdbArgs] = asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  execFileSync(initdb, initdbArgs, { stdio: 'pipe' });
  const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=on'];
  const psql = (sql: string) => execFileSync('/usr/bin/psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql], { stdio: 'pipe' });
  return privateServer({
    dir,
    name: 'PostgreSQL',
    command: asPostgres('postgres', args),
    readyLine: 'database system is ready to accept connections',
    // SIGQUIT is PostgreSQL's immediate stop, which also ends its backends.
    crashSignal: 'SIGQUIT',
    createDatabase: async (name) => {
      psql(`create database "${name}"`);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
  });
}

/** A private MariaDB with a passwordless root, its default charset the compiled-in latin1. */
export async function startMariadb(): Promise<DatabaseServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-mariadb-'));
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'sock');
  const port = await freePort();
  execFileSync('mariadb-install-db', ['--no-defaults', `--user=${os.userInfo().username}`, `--datadir=${data}`, '--auth-root-authentication-method=normal', '--skip-test-db'], { stdio: 'pipe' });
  const client = (sql: string) => execFileSync('mariadb', ['--no-defaults', '-uroot', `--socket=${socket}`, '-e', sql], { stdio: 'pipe' });
  return privateServer({
    dir,
    name: 'MariaDB',
    command: [
      'mariadbd',
      '--no-defaults',
      `--user=${os.userInfo().username}`,
      `--datadir=${data}`,
      `--port=${port}`,
      `--socket=${socket}`,
      '--bind-address=127.0.0.1',
      `--pid-file=${path.join(dir, 'pid')}`,
      '--character-set-server=latin1',
      '--collation-server=latin1_swedish_ci',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=32M',
    ],
    readyLine: 'ready for connections',
    crashSignal: 'SIGKILL',
    createDatabase: async (name) => {
      // No charset given: the database takes the server's latin1, as an unprepared hosted database would.
      client(`create database \`${name}\``);
      return `mysql://root@127.0.0.1:${port}/${name}`;
    },
  });
}

interface ServerRecipe {
  /** Its temporary folder, removed by dispose(). */
  dir: string;
  name: string;
  /** The server's command line, run in the foreground; restarted as it is by start(). */
  command: string[];
  /** What the server writes once it accepts connections. */
  readyLine: string;
  /** How stop() ends it: at once, as a crash would. */
  crashSignal: NodeJS.Signals;
  createDatabase(name: string): Promise<string>;
}

/** Starts the server of `recipe`, waits until it is ready and creates its database `wxlogin`. */
async function privateServer(recipe: ServerRecipe): Promise<DatabaseServer> {
  let server: ChildProcess | undefined;
  const start = async () => {
    if (server && server.exitCode === null && server.signalCode === null) return;
    const [command, ...args] = recipe.command;
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    server = child;
    await waitUntil(recipe.name, () => log.includes(recipe.readyLine) || child.exitCode !== null, () => log);
    if (child.exitCode !== null) throw new Error(`${recipe.name} exited: ${log.slice(-1500)}`);
  };
  await start();
  const url = await recipe.createDatabase('wxlogin');
  const stop = () => stopProcess(server, recipe.crashSignal);
  return {
    url,
    stop,
    start,
    pause: () => signalTree(server, 'SIGSTOP'),
    resume: () => signalTree(server, 'SIGCONT'),
    dispose: async () => {
      await stop();
      rmSync(recipe.dir, { recursive: true, force: true });
    },
    createDatabase: recipe.createDatabase,
  };
}

/** The server process itself: runuser may run it as its child rather than exec it. */
function serverPid(child: ChildProcess | undefined): number | undefined {
  if (!child?.pid || child.exitCode !== null) return undefined;
  try {
    if (readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() !== 'runuser') return child.pid;
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return children[0] ?? child.pid;
  } catch {
    return child.pid;
  }
}

/** The process and all its descendants (PostgreSQL serves each connection from a process of its own). */
function descendants(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    return [pid, ...children.flatMap(descendants)];
  } catch {
    return [pid];
  }
}

function signalTree(child: ChildProcess | undefined, signal: NodeJS.Signals): void {
  const pid = serverPid(child);
  if (pid === undefined) return;
  // runuser stops itself when its child stops (job control), and must be woken up as well.
  const wrapper = signal === 'SIGCONT' && child!.pid !== pid ? [child!.pid!] : [];
  for (const each of signal === 'SIGSTOP' || signal === 'SIGCONT' ? [...descendants(pid), ...wrapper] : [pid]) {
    try {
      process.kill(each, signal);
    } catch {
      // Already gone.
    }
  }
  if (signal === 'SIGSTOP') untilStopped(descendants(pid));
}

/**
 * Returns once every thread of `pids` has stopped (state T in /proc): SIGSTOP takes effect thread
 * by thread, and on a busy machine a query sent right after it could still be answered.
 */
function untilStopped(pids: number[]): void {
  const deadline = Date.now() + 5000;
  const tick = new Int32Array(new SharedArrayBuffer(4));
  const running = (pid: number) => {
    try {
      return readdirSync(`/proc/${pid}/task`).some((task) => !/^[tT]$/.test(readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8').split(') ')[1]?.[0] ?? 'T'));
    } catch {
      return false; // Gone, or no /proc to read.
    }
  };
  while (pids.some(running) && Date.now() < deadline) Atomics.wait(tick, 0, 0, 1);
}

/**
 * Stops the server as a crash would, with no clean shutdown (`signal`, the recipe's crashSignal),
 * and waits until the server process is gone, so that a restart finds its port and data free.
 */
async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const pid = serverPid(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalTree(child, 'SIGCONT');
  signalTree(child, signal);
  await exited;
  const deadline = Date.now() + 10_000;
  while (pid !== undefined && alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
