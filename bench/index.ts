/**
 * `npm run bench` (through bench/run.js, which builds the package and this bundle first): prints
 * the table and writes it to bench/RESULTS.md. Every speed figure is a median of several runs and
 * stands beside a baseline measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuth as createAuthFromSource } from '../miniprogram/auth';
import { CONCURRENT, LATENCY_MS, clientOverhead, loginBehaviour, type LoginFigures, type OverheadFigures } from './client';
import { ROOT, hasRedis, startRedis } from './harness';
import { CONNECTIONS, memoryPerSession, serverThroughput, type ServerFigures } from './server';

const PACKAGE_BYTES = Number(process.env.BENCH_PACKAGE_BYTES);
const PACKAGE_BUDGET = Number(process.env.BENCH_PACKAGE_BUDGET);
const PACKAGE_ENTRY = process.env.BENCH_PACKAGE_ENTRY;

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};
const table = (head: string[], rows: (string | number)[][]) => {
  out(`| ${head.join(' | ')} |`);
  out(`|${head.map(() => '---').join('|')}|`);
  for (const row of rows) out(`| ${row.join(' | ')} |`);
  out();
};
const fixed = (n: number, digits = 1) => n.toFixed(digits);
const pct = (n: number) => `${Math.round(n * 100)}%`;
const verdict = (ok: boolean) => (ok ? 'holds' : '**misses**');

interface Target {
  what: string;
  target: string;
  measured: string;
  ok: boolean | null;
}
const targets: Target[] = [];

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const cpu = os.cpus();
  out('# Benchmark results');
  out();
  out(
    `\`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${git(['rev-parse', '--short', 'HEAD'])}` +
      `${git(['status', '--porcelain']) ? ' (with uncommitted changes)' : ''}: Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
      `load average ${os.loadavg()[0].toFixed(2)} at start. Figures are medians of several runs; speeds are given beside a baseline measured in the same run, ` +
      'and the ratio is the figure to compare across machines.',
  );
  out();

  // First, while the heap holds nothing else of ours.
  const memory = await memoryPerSession();

  out('## Client login behaviour');
  out();
  out(
    `The auth service and wafer2-client-sdk 2.1.0 on the same fake \`wx\` (test/support/fake-wx.ts) and the same simulated developer server, ` +
      `every request answered after ${LATENCY_MS} ms. wafer2 is driven as its README says (\`request({ login: true })\`) and also with ` +
      '`login: false`, where it relies on its stored session and its retry after a 401.',
  );
  out();
  const login = await loginBehaviour();
  const byScenario = new Map<string, LoginFigures[]>();
  for (const row of login) byScenario.set(row.scenario, [...(byScenario.get(row.scenario) ?? []), row]);
  table(
    ['scenario', 'client', 'wx.login', 'login requests', 'wx.request in all', 'peak in flight', 'calls ok / failed'],
    login.map((r) => [r.scenario, r.client === 'ours' ? '**ours**' : r.client, r.wxLogin, r.loginRequests, r.wxRequests, r.peakInFlight, `${r.ok} / ${r.failed}`]),
  );
  const ours = (scenario: string) => login.find((r) => r.client === 'ours' && r.scenario.startsWith(scenario))!;
  const cold = ours('cold');
  const expired = ours('stored session expired');
  const warm = ours('warm');
  targets.push(
    {
      what: `cold start, ${CONCURRENT} concurrent requests`,
      target: `1 wx.login, 1 login request, ${CONCURRENT + 1} wx.request, ≤ 10 in flight`,
      measured: `${cold.wxLogin}, ${cold.loginRequests}, ${cold.wxRequests}, ${cold.peakInFlight}`,
      ok: cold.wxLogin === 1 && cold.loginRequests === 1 && cold.wxRequests === CONCURRENT + 1 && cold.peakInFlight <= 10 && cold.failed === 0,
    },
    {
      what: `stored session expired on the server, ${CONCURRENT} concurrent`,
      target: '1 wx.login, 1 login request, ≤ 10 in flight',
      measured: `${expired.wxLogin}, ${expired.loginRequests}, ${expired.wxRequests} wx.request, ${expired.peakInFlight}`,
      ok: expired.wxLogin === 1 && expired.loginRequests === 1 && expired.peakInFlight <= 10 && expired.failed === 0,
    },
    {
      what: 'warm start, 1 request',
      target: '1 network call',
      measured: `${warm.wxRequests} wx.request, ${warm.wxLogin} wx.login`,
      ok: warm.wxRequests === 1 && warm.wxLogin === 0,
    },
  );

  out('## Client overhead');
  out();
  out(
    'CPU time (user + system) per request, 5,000 requests in batches of 10 on a valid session, against raw `wx.request` calls ' +
      'with the same header on the same fake; median of 7 interleaved runs. The fake itself is most of the raw figure. ' +
      'The source is compiled by esbuild for Node; the package is the file users install (packages/auth/miniprogram_dist/index.js, as npm run build:auth makes it).',
  );
  out();
  const overhead: [string, OverheadFigures][] = [['auth service source', await clientOverhead(createAuthFromSource)]];
  if (PACKAGE_ENTRY) {
    const shipped = require(PACKAGE_ENTRY) as { createAuth: typeof createAuthFromSource }; // eslint-disable-line @typescript-eslint/no-require-imports -- built by bench/run.js
    overhead.push(['shipped package', await clientOverhead(shipped.createAuth)]);
  }
  table(
    ['code measured', 'raw wx.request µs', 'request() µs', 'overhead µs', 'ratio'],
    overhead.map(([what, o]) => [what, fixed(o.rawUs), fixed(o.oursUs), fixed(o.overheadUs), `${fixed(o.ratio, 2)}×`]),
  );
  for (const [what, o] of overhead) {
    targets.push({ what: `client overhead per request (${what})`, target: '< 20 µs', measured: `${fixed(o.overheadUs)} µs (${fixed(o.ratio, 2)}× raw)`, ok: o.overheadUs < 20 });
  }

  out('## Package size');
  out();
  if (PACKAGE_BYTES) {
    out(`packages/auth, minified + gzipped: **${PACKAGE_BYTES} bytes** (budget ${PACKAGE_BUDGET}).`);
    targets.push({ what: 'auth package, minified + gzipped', target: `≤ ${PACKAGE_BUDGET} bytes`, measured: `${PACKAGE_BYTES} bytes`, ok: PACKAGE_BYTES <= PACKAGE_BUDGET });
  } else {
    out('Not measured: run through `npm run bench`, which builds the package first.');
  }
  out();

  out('## Server');
  out();
  out(
    `autocannon (in the benchmark's process) against the real server (compiled and run by node, as \`npm run server\` starts it; simulated WeChat; ` +
      `LOG_LEVEL=warn, so no line per request; login limiter raised because every connection comes from 127.0.0.1), ${CONNECTIONS} connections, ` +
      'beside a bare node:http server answering a body of the same size, alternating, 3 runs of 3 s each after a 1 s warm-up, medians. ' +
      'A Fastify with nothing registered answering the same body shows what the framework alone costs. Load generator and server share the machine.',
  );
  out();
  const server: ServerFigures[] = [...(await serverThroughput('memory', {}, { withFastify: true }))];
  let redisNote = '';
  if (hasRedis()) {
    const redis = await startRedis();
    try {
      server.push(...(await serverThroughput('redis', { REDIS_URL: redis.url })));
    } finally {
      await redis.dispose();
    }
  } else {
    redisNote = 'Redis store: skipped, `redis-server` is not on PATH (apt-get install redis-server).';
  }
  table(
    ['store', 'request', 'ours req/s', 'ours p99 ms', 'node:http req/s', 'node:http p99 ms', 'ours / node:http', 'bare Fastify req/s (share of node:http)', 'non-2xx + errors'],
    server.map((s) => [
      s.store,
      s.what,
      Math.round(s.ours.rps),
      s.ours.p99,
      Math.round(s.bare.rps),
      s.bare.p99,
      pct(s.ratio),
      s.fastify ? `${Math.round(s.fastify.rps)} (${pct(s.fastify.rps / s.bare.rps)})` : '',
      s.failures,
    ]),
  );
  if (redisNote) {
    out(redisNote);
    out();
  }
  const profile = server.find((s) => s.store === 'memory' && s.what.startsWith('GET /api/profile'))!;
  const memLogin = server.find((s) => s.store === 'memory' && s.what.startsWith('POST /auth/login'))!;
  targets.push(
    { what: 'GET /api/profile, memory store: share of node:http req/s', target: '≥ 60%', measured: `${pct(profile.ratio)} (${Math.round(profile.ours.rps)} vs ${Math.round(profile.bare.rps)})`, ok: profile.ratio >= 0.6 },
    { what: 'GET /api/profile, memory store: p99', target: '< 20 ms', measured: `${profile.ours.p99} ms (node:http ${profile.bare.p99} ms)`, ok: profile.ours.p99 < 20 },
    { what: 'logins per second, memory store', target: '(reported)', measured: `${Math.round(memLogin.ours.rps)}/s, p99 ${memLogin.ours.p99} ms`, ok: null },
  );
  for (const s of server.filter((x) => x.store === 'redis')) {
    targets.push({ what: `${s.what.split(',')[0]}, Redis store`, target: '(reported)', measured: `${Math.round(s.ours.rps)}/s, p99 ${s.ours.p99} ms, ${pct(s.ratio)} of node:http`, ok: null });
  }
  targets.push({ what: 'server runs without a non-2xx answer or socket error', target: '0', measured: String(server.reduce((n, s) => n + s.failures, 0)), ok: server.every((s) => s.failures === 0) });

  out('## Memory per stored session');
  out();
  out(
    `Heap growth over ${memory.sessions.toLocaleString('en')} sessions created in the memory store as logins create them ` +
      `(sha256 skey hash, WeChat session_key, times; user ids made beforehand, since they belong to the users)` +
      `${memory.gc ? ', measured after forced garbage collections' : ', without --expose-gc: rough'}: **${Math.round(memory.bytesPerSession)} bytes** per session.`,
  );
  out();
  targets.push({ what: 'memory per stored session (memory store)', target: '< 1 KB', measured: `${Math.round(memory.bytesPerSession)} bytes`, ok: memory.bytesPerSession < 1024 });

  out('## Targets');
  out();
  table(
    ['what', 'target', 'measured', ''],
    targets.map((t) => [t.what, t.target, t.measured, t.ok === null ? '' : verdict(t.ok)]),
  );
  out(`Whole run: ${Math.round((Date.now() - started) / 1000)} s.`);

  writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), `${lines.join('\n')}\n`);
  console.log(`\nwritten to bench/RESULTS.md`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
