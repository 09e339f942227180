/**
 * Where a server's CPU goes per request: a V8 CPU profile (`node --cpu-prof`) of a server under
 * load, its self time grouped by what ran it (our source files through the bundle's source map,
 * each package in node_modules, Node's HTTP stack, native code, the garbage collector).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { SourceMap } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { compileServer, startPeer, startServer, type Proc } from './harness';
import { BENCH_SERVER_ENV, CONNECTIONS, cpuMicros, login } from './server';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** µs on the monotonic clock, which process.hrtime reads in every process on this machine. */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Now on the clock the profile's timestamps use, µs. */
export const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1000n);

/** The one .cpuprofile a process wrote into `dir` (node names it itself). */
export function readProfile(dir: string): CpuProfile {
  const files = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
  if (files.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${files.length}`);
  return JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8')) as CpuProfile;
}

/** Node's own JavaScript, by the part of it that ran. */
function nodeCategory(url: string): string {
  const name = url.slice('node:'.length);
  if (/^(internal\/modules|internal\/bootstrap|internal\/main|internal\/process\/pre_execution|vm)/.test(name)) return 'startup (module loading)';
  if (/^(_http|http|internal\/http|net|internal\/net|internal\/stream_base|stream|internal\/streams|events|internal\/url|internal\/timers|timers|internal\/async_hooks)/.test(name)) return 'node: http, net, streams, events, timers';
  if (/crypto/.test(name)) return 'node: crypto (JS side)';
  if (/^(internal\/process\/task_queues|internal\/process\/promises)/.test(name)) return 'node: microtasks and promises';
  if (/^(fs|internal\/fs)/.test(name)) return 'node: fs (log writes)';
  return 'node: other';
}

/** Native functions (empty url) by what they are. */
function nativeCategory(name: string): string {
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return 'V8 and native, outside JS (program)';
  if (name === '(idle)') return 'idle';
  if (name.startsWith('RegExp: ')) return 'regular expressions';
  if (/^(hash|digest|update|timingSafeEqual|randomBytes|randomFillSync|Hash|createHash)$/i.test(name)) return 'native: crypto';
  if (/^(writev|writeUtf8String|writeLatin1String|writeBuffer|writeAsciiString|writeString|shutdown|close|onStreamRead|readStop|readStart)$/.test(name)) return 'native: socket and file writes';
  if (/^(execute|consume|unconsume|getCurrentBuffer|finish|initialize)$/.test(name)) return 'native: HTTP parser';
  if (/^(now|hrtime|hrtimeBigInt)$/.test(name)) return 'native: clocks';
  if (/^(utf8Write|utf8Slice|latin1Slice|asciiSlice|base64Slice|base64urlSlice|byteLengthUtf8|compare|copy|fill)$/.test(name)) return 'native: buffers and strings';
  if (name === '') return 'V8 builtins (JSON, strings, arrays)';
  return 'native: other';
}

/**
 * Maps a call frame to its category. `bundle` is the compiled file whose frames are ours:
 * they are looked up in its source map and named by their source file (server/session.ts).
 */
function categorizer(bundle: string | null): (frame: CallFrame) => string {
  let map: SourceMap | null = null;
  if (bundle) {
    try {
      map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
    } catch (error) {
      process.stderr.write(`warning: cannot load the source map ${bundle}.map (${error instanceof Error ? error.message : String(error)}): our frames are counted as "ours: (unmapped)"\n`);
    }
  }
  const cache = new Map<string, string>();
  return (frame) => {
    const key = `${frame.url}:${frame.lineNumber}:${frame.columnNumber}:${frame.functionName}`;
    let category = cache.get(key);
    if (category !== undefined) return category;
    const { url, functionName } = frame;
    if (url === '') category = nativeCategory(functionName);
    else if (url.startsWith('node:')) category = nodeCategory(url);
    else if (url.includes('/node_modules/')) {
      const rest = url.slice(url.lastIndexOf('/node_modules/') + '/node_modules/'.length);
      const parts = rest.split('/');
      category = `package: ${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
    } else if (bundle && url.endsWith(path.basename(bundle))) {
      const entry = map?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string } | undefined;
      const source = entry?.originalSource;
      category = source ? `ours: ${source.slice(source.lastIndexOf('/server/') + 1 || source.lastIndexOf('/bench/') + 1)}` : 'ours: (unmapped)';
    } else {
      category = `script: ${path.basename(url)}`;
    }
    cache.set(key, category);
    return category;
  };
}

export interface Attribution {
  /** µs of self time per request, by category; idle and start-up left out. */
  perRequest: Map<string, number>;
  /** The sum of perRequest. */
  totalUs: number;
}

/**
 * Self time per category of the samples taken within `window` (µs, monotonicMicros: the load,
 * not the start-up or the warm-up), divided by the `requests` served in that window.
 */
export function attribute(profile: CpuProfile, window: { from: number; to: number }, requests: number, bundle: string | null = null): Attribution {
  const categoryOf = categorizer(bundle);
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  // The delta before a sample is the time that sample stands for (as Chrome DevTools counts it).
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at <= window.from || at > window.to) continue;
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const perRequest = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const category = categoryOf(byNode.get(id)!.callFrame);
    if (category === 'idle' || category.startsWith('startup')) continue;
    perRequest.set(category, (perRequest.get(category) ?? 0) + us / requests);
    totalUs += us / requests;
  }
  return { perRequest, totalUs };
}

/** Whether this machine can keep the server and the load generator on cores of their own. */
const canPin = (): boolean => os.cpus().length >= 2 && spawnSync('taskset', ['-V']).status === 0;

/** Pins every thread of `pid` to `cpus` (taskset's list syntax); false, with a warning on stderr, when taskset failed. */
function pin(pid: number, cpus: string): boolean {
  const result = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { encoding: 'utf8' });
  if (result.status === 0) return true;
  const why = result.error?.message ?? (result.stderr.trim() || `exit status ${result.status ?? result.signal}`);
  process.stderr.write(`warning: taskset could not pin process ${pid} to CPU ${cpus} (${why}): the profile is reported as not pinned\n`);
  return false;
}

export interface ProfiledRun {
  /** µs per request by category. */
  attribution: Attribution;
  /** The server's CPU time per request (user + system, all threads) in the profiled window, from /proc; profiling included. */
  cpuUs: number | null;
  rps: number;
  requests: number;
}

export interface Profiled {
  /** Whether the server and the load had a core each. */
  pinned: boolean;
  runs: Record<'fastify' | 'memoryWarn' | 'memoryInfo', ProfiledRun>;
}

/**
 * Profiles the memory store's authenticated read, at warn and at info, and bare Fastify answering
 * the same body: each process alone under load (on core 0, this process and its load generator on
 * core 1, where there are two cores), samples counted only in the measured window.
 */
export async function profileMemoryPath({ seconds = 4, warmupSeconds = 2 } = {}): Promise<Profiled> {
  const everyCpu = `0-${os.cpus().length - 1}`;
  const selfPinned = canPin() && pin(process.pid, '1');
  /** Whether every pin so far took: one that failed makes the whole profile unpinned. */
  let pinned = selfPinned;
  try {
    const one = async (start: (nodeArgs: string[]) => Promise<{ proc: Proc; options: autocannon.Options }>, bundle: string | null): Promise<ProfiledRun> => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'wx-login-profile-'));
      try {
        const { proc, options } = await start(['--cpu-prof', `--cpu-prof-dir=${dir}`]);
        let window: { from: number; to: number };
        let result: autocannon.Result;
        let cpu: number | null = null;
        try {
          if (pinned) pinned = pin(proc.child.pid!, '0');
          await autocannon({ connections: CONNECTIONS, ...options, duration: warmupSeconds });
          const cpuBefore = cpuMicros(proc.child.pid);
          const from = monotonicMicros();
          result = await autocannon({ connections: CONNECTIONS, ...options, duration: seconds });
          window = { from, to: monotonicMicros() };
          const cpuAfter = cpuMicros(proc.child.pid);
          if (cpuBefore !== null && cpuAfter !== null) cpu = (cpuAfter - cpuBefore) / result.requests.total;
        } finally {
          // SIGTERM: the process exits normally and node writes the profile.
          await proc.stop();
        }
        return { attribution: attribute(readProfile(dir), window, result.requests.total, bundle), cpuUs: cpu, rps: result.requests.average, requests: result.requests.total };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    const ours = async (nodeArgs: string[], env: Record<string, string>) => {
      const proc = await startServer({ ...BENCH_SERVER_ENV, ...env }, { nodeArgs, stdout: env.LOG_LEVEL === 'info' ? 'ignore' : 'pipe' });
      try {
        const { skey } = await login(proc.url);
        const body = await (await fetch(`${proc.url}/api/profile`, { headers: { authorization: `Bearer ${skey}` } })).text();
        return { proc, skey, body, options: { url: `${proc.url}/api/profile`, headers: { authorization: `Bearer ${skey}` } } };
      } catch (error) {
        await proc.stop();
        throw error;
      }
    };
    let body = '';
    let skey = '';
    const memoryWarn = await one(async (nodeArgs) => {
      const started = await ours(nodeArgs, {});
      ({ body, skey } = started);
      return started;
    }, compileServer());
    const memoryInfo = await one((nodeArgs) => ours(nodeArgs, { LOG_LEVEL: 'info' }), compileServer());
    const fastify = await one(async (nodeArgs) => {
      const proc = await startPeer('fastify', { BODIES: JSON.stringify({ '/api/profile': body }) }, { nodeArgs });
      return { proc, options: { url: `${proc.url}/api/profile`, headers: { authorization: `Bearer ${skey}` } } };
    }, null);
    return { pinned, runs: { fastify, memoryWarn, memoryInfo } };
  } finally {
    if (selfPinned) pin(process.pid, everyCpu);
  }
}
