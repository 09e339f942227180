/**
 * `npm run bench` (through bench/run.js, which builds the package and this bundle first): prints
 * the tables and writes them to bench/RESULTS.md, and the figures to bench/results.json. Every
 * speed figure is a median of several runs and stands beside a baseline measured in the same run.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAuth as createAuthFromSource } from '../miniprogram/auth';
import { CONCURRENT, LATENCY_MS, clientOverhead, loginBehaviour, type LoginFigures, type OverheadFigures } from './client';
import { ROOT, hasRedis, startRedis } from './harness';
import { profileMemoryPath, type ProfiledRun } from './profile';
import { sqliteBytesPerRecord, sqliteWritesPerLogin, type LoginWriteFigures, type SqliteDiskFigures, type WrittenByLogin } from './sqlite-disk';
import { mariadbAvailable, postgresAvailable, startMariadb, startPostgres, type DatabaseServer } from '../tools/databases';
import {
  CONNECTIONS,
  VARIANTS,
  loginGroup,
  measure,
  memoryPerSession,
  profileGroup,
  ratio,
  redisGroup,
  redisMemoryPerSession,
  sqlGroup,
  summarize,
  type Measured,
  type Ratio,
  type RedisMemoryFigures,
  type Sample,
  type VariantId,
} from './server';

const PACKAGE_BYTES = Number(process.env.BENCH_PACKAGE_BYTES);
const PACKAGE_BUDGET = Number(process.env.BENCH_PACKAGE_BUDGET);
const PACKAGE_ENTRY = process.env.BENCH_PACKAGE_ENTRY;

/**
 * Each variant in this many processes, each process measured in this many rounds of this many
 * seconds. BENCH_QUICK=1 makes it 1 × 1 × 1, to try the benchmark itself out (not for figures).
 */
const QUICK = process.env.BENCH_QUICK === '1';
const PROCESSES = QUICK ? 1 : 2;
const ROUNDS = QUICK ? 1 : 3;
const SECONDS = QUICK ? 1 : 3;
const RUNS = { processes: PROCESSES, rounds: ROUNDS, seconds: SECONDS };
/** The variants that are this server (the others are peers). */
const OURS: VariantId[] = ['memoryWarn', 'memoryInfo', 'redisWarn', 'loginHttp', 'loginInProcess', 'loginRedis', 'sqliteWarn', 'postgresRedisWarn', 'loginSqlite', 'loginPostgres', 'loginMariadb'];

const lines: string[] = [];
const out = (line = '') => {
  lines.push(line);
  console.log(line);
};
const tableLines = (head: string[], rows: (string | number)[][]) => [
  `| ${head.join(' | ')} |`,
  `|${head.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${row.join(' | ')} |`),
  '',
];
const table = (head: string[], rows: (string | number)[][]) => tableLines(head, rows).forEach((line) => out(line));
const fixed = (n: number, digits = 1) => n.toFixed(digits);
const signed = (n: number) => `${n >= 0 ? '+' : '−'}${Math.abs(n).toFixed(2)}`;
/** A ratio as "0.74 (0.70–0.77)": the median of the side-by-side runs, then the lowest and highest. */
const spread = (r: Ratio) => `${fixed(r.median, 2)} (${fixed(r.min, 2)}–${fixed(r.max, 2)})`;
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
  const loadAtStart = os.loadavg();
  const cpu = os.cpus();
  // Read before this run rewrites RESULTS.md and results.json, which would count as changes.
  const uncommittedChanges = git(['status', '--porcelain']) !== '';
  out('# Benchmark results');
  out();
  out(
    `\`npm run bench\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${git(['rev-parse', '--short', 'HEAD'])}` +
      `${uncommittedChanges ? ' (with uncommitted changes)' : ''}: Node ${process.version}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
      `load average ${loadAtStart.map((l) => l.toFixed(2)).join(', ')} (1, 5, 15 min) at the start, from everything running on the machine. ` +
      'Figures are medians of several runs; speeds are given beside a baseline measured in the same run, and the ratio is the figure to compare across machines. ' +
      'The same figures, machine-readable: [results.json](results.json).',
  );
  out();
  // The targets table goes here once everything is measured.
  const targetsAt = lines.length;

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
    `autocannon (in this process) against the compiled server as \`npm run server\` runs it (simulated WeChat; login limiter raised, since every ` +
      `connection comes from 127.0.0.1), ${CONNECTIONS} connections, beside the peers it is compared with, all started afresh ` +
      `${PROCESSES} times (each variant in ${PROCESSES} processes); each process warmed up for 1 s, then ${ROUNDS} rounds of ${SECONDS} s, ` +
      'every round running every variant of its group once, in an order that rotates from round to round. Figures are medians over all rounds; ' +
      "a ratio is the median of the ratios of runs taken side by side (same processes, same round), with the lowest and highest beside it. " +
      'Server CPU is the process\'s user + system time (all threads, from /proc) per request answered: steadier than req/s on a shared machine, ' +
      'where the load generator and anything else running take turns on the same cores. At LOG_LEVEL=info the server writes a line per request to /dev/null.',
  );
  out();
  const measured: Measured[] = [await measure(profileGroup, RUNS)];
  const redis = hasRedis() ? await startRedis() : null;
  let redisMemory: RedisMemoryFigures | null = null;
  const databases: DatabaseServer[] = [];
  try {
    const postgres = postgresAvailable ? await startPostgres() : null;
    if (postgres) databases.push(postgres);
    const mariadb = mariadbAvailable ? await startMariadb() : null;
    if (mariadb) databases.push(mariadb);
    if (redis) measured.push(await measure(redisGroup(redis.url), RUNS));
    measured.push(await measure(sqlGroup(redis?.url ?? null, postgres ? await postgres.createDatabase('profile') : null), RUNS));
    measured.push(
      await measure(loginGroup(redis?.url ?? null, { postgres: postgres ? await postgres.createDatabase('logins') : null, mariadb: mariadb ? await mariadb.createDatabase('logins') : null }), RUNS),
    );
    if (redis) redisMemory = await redisMemoryPerSession(redis.url);
  } finally {
    await redis?.dispose();
    for (const database of databases) await database.dispose();
  }
  const sqliteDisk: SqliteDiskFigures = await sqliteBytesPerRecord();
  const loginWrites: LoginWriteFigures = await sqliteWritesPerLogin();
  const samples = Object.assign({}, ...measured.map((m) => m.samples)) as Partial<Record<VariantId, Sample[]>>;
  const summary = (id: VariantId) => (samples[id] ? summarize(samples[id]) : null);
  const ratioOf = (of: VariantId, to: VariantId) => (samples[of] && samples[to] ? ratio(samples[of], samples[to]) : null);
  const BASELINE: Partial<Record<VariantId, VariantId>> = {
    memoryWarn: 'nodeHttp',
    memoryInfo: 'nodeHttp',
    fastify: 'nodeHttp',
    tutorialExpress: 'nodeHttp',
    expressAdapter: 'tutorialExpress',
    redisWarn: 'redisFloor',
    loginHttp: 'loginInProcess',
    loginRedis: 'loginInProcess',
    sqliteWarn: 'nodeHttpSql',
    postgresRedisWarn: 'postgresRedisFloor',
    loginSqlite: 'loginHttp',
    loginPostgres: 'loginHttp',
    loginMariadb: 'loginHttp',
  };
  for (const group of measured) {
    out(`### ${group.group}: ${group.request}`);
    out();
    table(
      ['variant', 'req/s', 'p99 ms', 'server CPU µs per request', 'non-2xx + errors', 'req/s ÷ baseline: median (lowest–highest)'],
      (Object.keys(group.samples) as VariantId[]).map((id) => {
        const s = summary(id)!;
        const base = BASELINE[id];
        const r = base ? ratioOf(id, base) : null;
        return [
          OURS.includes(id) && id !== 'loginInProcess' ? `**${VARIANTS[id]}**` : VARIANTS[id],
          Math.round(s.rps),
          s.p99,
          s.cpuUs === null ? 'n/a' : fixed(s.cpuUs),
          s.failures,
          r ? `${spread(r)} of ${base === 'loginInProcess' ? 'in-process logins' : base === 'loginHttp' ? "the memory store's logins" : VARIANTS[base!].split(',')[0]}` : '',
        ];
      }),
    );
  }
  if (!redis) {
    out('Redis store: skipped, `redis-server` is not on PATH (apt-get install redis-server).');
    out();
  }

  out('## Where the CPU goes');
  out();
  const profiled = await profileMemoryPath();
  const { fastify: pf, memoryWarn: pw, memoryInfo: pi } = profiled.runs;
  out(
    `GET /api/profile on the memory store, profiled with \`node --cpu-prof\`: each server alone under load for 4 s after a 2 s warm-up` +
      `${profiled.pinned ? ' (the server on core 0, the load generator on core 1)' : ''}, its samples in that window grouped by what ran ` +
      '(our source files through the bundle\'s source map, each package, Node\'s HTTP stack, native code, the garbage collector) and divided by the ' +
      'requests answered. The profiler samples the main thread\'s wall time: a sample in a system call (writev) includes the kernel\'s work for it and ' +
      'any wait for the CPU; the process\'s CPU time from /proc is given beside it. Profiling slows every server, ours more than bare Fastify ' +
      '(compare with the unprofiled CPU figures above): read the table for where the time goes, not for the totals.',
  );
  out();
  const categories = [...new Set([...pf.attribution.perRequest.keys(), ...pw.attribution.perRequest.keys(), ...pi.attribution.perRequest.keys()])];
  const us = (run: ProfiledRun, category: string) => run.attribution.perRequest.get(category) ?? 0;
  const weight = (category: string) => Math.max(Math.abs(us(pw, category) - us(pf, category)), Math.abs(us(pi, category) - us(pw, category)), us(pw, category));
  const ranked = categories.sort((a, b) => weight(b) - weight(a));
  const shown = ranked.filter((c) => weight(c) >= 0.1).slice(0, 18);
  const rest = ranked.filter((c) => !shown.includes(c));
  const sumOf = (run: ProfiledRun, list: string[]) => list.reduce((n, c) => n + us(run, c), 0);
  const row = (label: string, f: number, w: number, i: number) => [label, fixed(f, 2), fixed(w, 2), fixed(i, 2), signed(w - f), signed(i - w)];
  table(
    ['µs per request', 'bare Fastify', 'ours, warn', 'ours, info', 'ours (warn) − Fastify', 'info − warn'],
    [
      ...shown.map((c) => row(c, us(pf, c), us(pw, c), us(pi, c))),
      row(`everything else (${rest.length} categories)`, sumOf(pf, rest), sumOf(pw, rest), sumOf(pi, rest)),
      row('**total sampled**', pf.attribution.totalUs, pw.attribution.totalUs, pi.attribution.totalUs),
      [
        'process CPU per request (/proc)',
        pf.cpuUs === null ? 'n/a' : fixed(pf.cpuUs, 2),
        pw.cpuUs === null ? 'n/a' : fixed(pw.cpuUs, 2),
        pi.cpuUs === null ? 'n/a' : fixed(pi.cpuUs, 2),
        pf.cpuUs !== null && pw.cpuUs !== null ? signed(pw.cpuUs - pf.cpuUs) : '',
        pw.cpuUs !== null && pi.cpuUs !== null ? signed(pi.cpuUs - pw.cpuUs) : '',
      ],
      ['req/s while profiled', Math.round(pf.rps), Math.round(pw.rps), Math.round(pi.rps), '', ''],
    ],
  );
  out(
    'What ours does per request beyond bare Fastify, all of it required: the sha256 of the skey (node: crypto), the session and user lookup ' +
      '(stores/memory.ts) and its checks (session.ts: the Authorization header\'s pattern, the constant-time compare of the stored hash), the ' +
      'response schema\'s serializer (the contract: no field outside it can leak), `cache-control: no-store` (node: http), and the response ' +
      'listeners Fastify sets up whenever a logger exists (the request line, error lines). At LOG_LEVEL=info, the request line (logging.ts) and ' +
      'its share of one write(2) per event-loop turn. Not there any more (issue 13): an onSend hook per answer, promises and microtask turns on the ' +
      'memory path, a request logger built per request, the scrubbing walk and pino\'s generic formatting of the request line, a write per line.',
  );
  out();

  out('## Memory per stored session');
  out();
  out(
    `Memory store: heap growth over ${memory.sessions.toLocaleString('en')} sessions created as logins create them ` +
      `(sha256 skey hash, WeChat session_key, times; user ids made beforehand, since they belong to the users)` +
      `${memory.gc ? ', measured after forced garbage collections' : ', without --expose-gc: rough'}: **${Math.round(memory.bytesPerSession)} bytes** per session.`,
  );
  out();
  if (redisMemory) {
    out(
      `Redis store: ${redisMemory.sessions.toLocaleString('en')} sessions written by the store as a login writes them (a hash per session: skey hash, user id, ` +
        `sealed session_key, three times; its TTL): \`MEMORY USAGE\` of a session's key **${redisMemory.memoryUsage} bytes** (median of 200); ` +
        `Redis's used_memory grew by ${Math.round(redisMemory.usedMemoryPerSession)} bytes per session, the key space's own bookkeeping included.`,
    );
    out();
  }

  out('## The embedded database on disk');
  out();
  out(
    `SQLite (the default, \`sqlite:data/wx-login.db\`): growth of the file, compacted (VACUUM, then the WAL checkpointed into it) before and after, ` +
      `over ${sqliteDisk.users.toLocaleString('en')} users written by the SQL stores as a first login writes them (a users row and an identities row each), ` +
      `then ${sqliteDisk.sessions.toLocaleString('en')} sessions (sha256 skey hash, user id, sealed session_key, times): ` +
      `**${Math.round(sqliteDisk.bytesPerUser)} bytes per user**, **${Math.round(sqliteDisk.bytesPerSession)} bytes per session**, indexes included.`,
  );
  out();
  const writes = (list: WrittenByLogin[]) => list.map((w) => `${w.rows} ${w.table} row${w.rows === 1 ? '' : 's'} (${w.btrees} b-tree${w.btrees === 1 ? '' : 's'}: the table${w.btrees > 1 ? ` and ${w.btrees - 1} ind${w.btrees === 2 ? 'ex' : 'exes'}` : ''})`).join(', ');
  const entries = (list: WrittenByLogin[]) => list.reduce((n, w) => n + w.rows * w.btrees, 0);
  out(
    `Rows one real login adds to the embedded database of a server without Redis, counted in its file: a first login, ${writes(loginWrites.first)}: ` +
      `${entries(loginWrites.first)} b-tree entries written; the same user's next login, ${writes(loginWrites.again)}: ${entries(loginWrites.again)} entries ` +
      '(its rate-limit row is updated in place).',
  );
  out();

  // The issue's figures, each a ratio measured in this run.
  const rps = (id: VariantId) => summary(id)?.rps ?? Number.NaN;
  const p99 = (id: VariantId) => summary(id)?.p99 ?? Number.NaN;
  const vsNodeHttp = ratioOf('memoryWarn', 'nodeHttp')!;
  const infoVsNodeHttp = ratioOf('memoryInfo', 'nodeHttp')!;
  const vsTutorial = ratioOf('memoryWarn', 'tutorialExpress')!;
  const adapterVsTutorial = ratioOf('expressAdapter', 'tutorialExpress')!;
  const loginsVsInProcess = ratioOf('loginHttp', 'loginInProcess')!;
  const redisVsFloor = ratioOf('redisWarn', 'redisFloor');
  const sqliteVsNodeHttp = ratioOf('sqliteWarn', 'nodeHttpSql')!;
  const postgresRedisVsFloor = ratioOf('postgresRedisWarn', 'postgresRedisFloor');
  const sqliteLoginsVsMemory = ratioOf('loginSqlite', 'loginHttp')!;
  const postgresLoginsVsMemory = ratioOf('loginPostgres', 'loginHttp');
  const mariadbLoginsVsMemory = ratioOf('loginMariadb', 'loginHttp');
  const shipped = overhead.find(([what]) => what === 'shipped package') ?? overhead[0];
  targets.unshift(
    ...(redisVsFloor
      ? [{ what: 'GET /api/profile, Redis store ÷ node:http with one Redis GET (req/s)', target: '≥ 0.6', measured: `${spread(redisVsFloor)} (${Math.round(rps('redisWarn'))} vs ${Math.round(rps('redisFloor'))})`, ok: redisVsFloor.median >= 0.6 }]
      : []),
    ...(postgresRedisVsFloor
      ? [
          {
            what: 'GET /api/profile, PostgreSQL + Redis ÷ node:http with one Redis GET and one primary-key SELECT on the same PostgreSQL (req/s)',
            target: '≥ 0.6',
            measured: `${spread(postgresRedisVsFloor)} (${Math.round(rps('postgresRedisWarn'))} vs ${Math.round(rps('postgresRedisFloor'))})`,
            ok: postgresRedisVsFloor.median >= 0.6,
          },
        ]
      : []),
    { what: 'GET /api/profile, embedded SQLite ÷ bare node:http', target: '≥ 0.6', measured: `${spread(sqliteVsNodeHttp)} (${Math.round(rps('sqliteWarn'))} vs ${Math.round(rps('nodeHttpSql'))})`, ok: sqliteVsNodeHttp.median >= 0.6 },
    { what: "logins/s, embedded SQLite ÷ the memory store's", target: '≥ 0.5', measured: `${spread(sqliteLoginsVsMemory)} (${Math.round(rps('loginSqlite'))} vs ${Math.round(rps('loginHttp'))}/s)`, ok: sqliteLoginsVsMemory.median >= 0.5 },
    ...(postgresLoginsVsMemory
      ? [{ what: "logins/s, PostgreSQL ÷ the memory store's", target: '≥ 0.5', measured: `${spread(postgresLoginsVsMemory)} (${Math.round(rps('loginPostgres'))} vs ${Math.round(rps('loginHttp'))}/s)`, ok: postgresLoginsVsMemory.median >= 0.5 }]
      : []),
    ...(mariadbLoginsVsMemory
      ? [{ what: "logins/s, MariaDB ÷ the memory store's", target: '(reported)', measured: `${spread(mariadbLoginsVsMemory)} (${Math.round(rps('loginMariadb'))} vs ${Math.round(rps('loginHttp'))}/s)`, ok: null }]
      : []),
    { what: 'GET /api/profile, memory store ÷ bare node:http, LOG_LEVEL=warn', target: '≥ 0.70', measured: `${spread(vsNodeHttp)} (${Math.round(rps('memoryWarn'))} vs ${Math.round(rps('nodeHttp'))})`, ok: vsNodeHttp.median >= 0.7 },
    { what: 'GET /api/profile, memory store ÷ bare node:http, LOG_LEVEL=info', target: '≥ 0.60', measured: `${spread(infoVsNodeHttp)} (${Math.round(rps('memoryInfo'))} vs ${Math.round(rps('nodeHttp'))})`, ok: infoVsNodeHttp.median >= 0.6 },
    { what: 'logins/s, simulated WeChat over HTTP ÷ in-process (memory store)', target: '≥ 0.5', measured: `${spread(loginsVsInProcess)} (${Math.round(rps('loginHttp'))} vs ${Math.round(rps('loginInProcess'))}/s)`, ok: loginsVsInProcess.median >= 0.5 },
    { what: "GET /api/profile, ours ÷ the tutorial's Express server", target: '(reported)', measured: `${fixed(vsTutorial.median, 2)}× (${fixed(vsTutorial.min, 2)}–${fixed(vsTutorial.max, 2)}); p99 ${p99('memoryWarn')} vs ${p99('tutorialExpress')} ms`, ok: null },
    {
      what: "GET /api/profile, the Express adapter ÷ the tutorial's Express server (what the login layer costs on Express)",
      target: '(reported)',
      measured: `${fixed(adapterVsTutorial.median, 2)}× (${fixed(adapterVsTutorial.min, 2)}–${fixed(adapterVsTutorial.max, 2)}); p99 ${p99('expressAdapter')} vs ${p99('tutorialExpress')} ms`,
      ok: null,
    },
    { what: 'p99, GET /api/profile, memory store, 50 connections', target: '< 10 ms', measured: `${p99('memoryWarn')} ms (info: ${p99('memoryInfo')} ms)`, ok: p99('memoryWarn') < 10 && p99('memoryInfo') < 10 },
    ...(redis ? [{ what: 'p99, GET /api/profile, Redis store, 50 connections', target: '< 10 ms', measured: `${p99('redisWarn')} ms`, ok: p99('redisWarn') < 10 }] : []),
    { what: 'p99, GET /api/profile, SQLite / PostgreSQL + Redis, 50 connections', target: '(reported)', measured: `${p99('sqliteWarn')} / ${summary('postgresRedisWarn') ? p99('postgresRedisWarn') : 'n/a'} ms`, ok: null },
    {
      what: 'every run of ours without a non-2xx answer or socket error',
      target: '0',
      measured: String(OURS.reduce((n, id) => n + (summary(id)?.failures ?? 0), 0)),
      ok: OURS.every((id) => (summary(id)?.failures ?? 0) === 0),
    },
  );
  targets.push(
    { what: 'memory per stored session (memory store)', target: '< 1 KB', measured: `${Math.round(memory.bytesPerSession)} bytes`, ok: memory.bytesPerSession < 1024 },
    ...(redisMemory ? [{ what: 'bytes per stored session, Redis (MEMORY USAGE)', target: '(reported)', measured: `${redisMemory.memoryUsage} bytes`, ok: null }] : []),
    { what: 'bytes on disk per user / per session, SQLite', target: '(reported)', measured: `${Math.round(sqliteDisk.bytesPerUser)} / ${Math.round(sqliteDisk.bytesPerSession)} bytes`, ok: null },
    { what: 'rows (b-tree entries) a first login writes, SQLite without Redis', target: '(reported)', measured: `${loginWrites.first.reduce((n, w) => n + w.rows, 0)} (${entries(loginWrites.first)})`, ok: null },
  );

  const missed = targets.filter((t) => t.ok === false);
  lines.splice(targetsAt, 0, '## Targets', '', ...tableLines(['what', 'target', 'measured', ''], targets.map((t) => [t.what, t.target, t.measured, t.ok === null ? '' : verdict(t.ok)])));
  if (missed.length > 0) {
    const beyond = [...categories].map((c) => [c, us(pw, c) - us(pf, c)] as const).sort((a, b) => b[1] - a[1]).slice(0, 6);
    lines.splice(
      targetsAt + targets.length + 5,
      0,
      `Missed: ${missed.map((t) => t.what).join('; ')}. Where the memory store's CPU goes beyond bare Fastify (see "Where the CPU goes"): ` +
        `${beyond.map(([c, d]) => `${c} ${signed(d)} µs`).join(', ')}.`,
      '',
    );
  }
  const finished = os.loadavg();
  out(`Load average at the end: ${finished.map((l) => l.toFixed(2)).join(', ')} (1, 5, 15 min). Whole run: ${Math.round((Date.now() - started) / 1000)} s.`);

  writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), `${lines.join('\n')}\n`);
  const figures = (r: Ratio | null) => (r ? Number(r.median.toFixed(3)) : null);
  const results = {
    date: new Date(started).toISOString(),
    commit: git(['rev-parse', 'HEAD']),
    uncommittedChanges,
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: { start: loadAtStart, end: finished },
    profileVsNodeHttp: figures(vsNodeHttp),
    redisProfileVsOneGetFloor: figures(redisVsFloor),
    profileVsTutorialExpress: figures(vsTutorial),
    expressAdapterVsTutorialExpress: figures(adapterVsTutorial),
    profileInfoVsNodeHttp: figures(infoVsNodeHttp),
    loginHttpVsInProcess: figures(loginsVsInProcess),
    sqliteProfileVsNodeHttp: figures(sqliteVsNodeHttp),
    postgresRedisProfileVsFloor: figures(postgresRedisVsFloor),
    sqliteLoginsVsMemory: figures(sqliteLoginsVsMemory),
    postgresLoginsVsMemory: figures(postgresLoginsVsMemory),
    mariadbLoginsVsMemory: figures(mariadbLoginsVsMemory),
    sqliteBytesPerUser: Math.round(sqliteDisk.bytesPerUser),
    sqliteBytesPerSession: Math.round(sqliteDisk.bytesPerSession),
    sqliteWritesPerLogin: loginWrites,
    redisBytesPerSession: redisMemory?.memoryUsage ?? null,
    packageGzipBytes: PACKAGE_BYTES || null,
    requestOverheadMicros: Number(shipped[1].overheadUs.toFixed(2)),
    spread: {
      profileVsNodeHttp: vsNodeHttp,
      redisProfileVsOneGetFloor: redisVsFloor,
      profileVsTutorialExpress: vsTutorial,
      expressAdapterVsTutorialExpress: adapterVsTutorial,
      profileInfoVsNodeHttp: infoVsNodeHttp,
      loginHttpVsInProcess: loginsVsInProcess,
      sqliteProfileVsNodeHttp: sqliteVsNodeHttp,
      postgresRedisProfileVsFloor: postgresRedisVsFloor,
      sqliteLoginsVsMemory: sqliteLoginsVsMemory,
      postgresLoginsVsMemory: postgresLoginsVsMemory,
      mariadbLoginsVsMemory: mariadbLoginsVsMemory,
    },
    method: { connections: CONNECTIONS, ...RUNS },
    variants: Object.fromEntries((Object.keys(samples) as VariantId[]).map((id) => [id, { what: VARIANTS[id], ...summary(id)! }])),
    cpuAttribution: {
      pinned: profiled.pinned,
      microsPerRequest: Object.fromEntries(
        Object.entries(profiled.runs).map(([id, run]) => [id, { processCpu: run.cpuUs, sampled: run.attribution.totalUs, byCategory: Object.fromEntries([...run.attribution.perRequest].map(([c, v]) => [c, Number(v.toFixed(3))])) }]),
      ),
    },
    memoryStoreBytesPerSession: Math.round(memory.bytesPerSession),
    redisUsedMemoryPerSession: redisMemory ? Math.round(redisMemory.usedMemoryPerSession) : null,
    targets: targets.map(({ what, target, measured, ok }) => ({ what, target, measured, holds: ok })),
  };
  writeFileSync(path.join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwritten to bench/RESULTS.md and bench/results.json`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
