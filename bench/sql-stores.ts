/**
 * `node bench/run-sql-stores.js` (KINDS=memory,sqlite,sqlite-normal,postgres,mariadb to choose): what the stores
 * cost in one process, without HTTP: an authenticated lookup (sessions.touch), a user read
 * (users.get, what a request costs when sessions are in Redis), and a login of a known user (the
 * rate-limit hit, findOrCreate, sessions.create) one after another and 50 at once; CPU µs and wall
 * time per operation, and the round trips each makes on PostgreSQL and MariaDB (BEGIN and COMMIT
 * included). For finding where the time goes; the figures to quote are `npm run bench`'s.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Module from 'node:module';
import { createMemoryStores } from '../server/stores/memory';
import { createSqlStores } from '../server/stores/sql';
import type { Stores } from '../server/stores/types';
import { startMariadb, startPostgres, type DatabaseServer } from '../tools/databases';
import { openMigrated } from '../tools/open-migrated';
import { loginSession } from './records';
import { sqliteFile } from './sqlite-disk';

const requireHere = Module.createRequire(__filename);
let roundTrips = 0;
/** Counts what the drivers send: every query, BEGIN and COMMIT included. */
function countRoundTrips(): void {
  for (const [module, name] of [
    ['pg', 'Client'],
    ['mysql2', 'Connection'],
  ] as const) {
    const { prototype } = (requireHere(module) as Record<string, { prototype: { query: (...args: unknown[]) => unknown } }>)[name];
    const query = prototype.query;
    prototype.query = function (this: unknown, ...args: unknown[]) {
      roundTrips++;
      return query.apply(this, args);
    };
  }
}

const IDLE = 7 * 24 * 3600 * 1000;
const N = Number(process.env.N ?? 2000);

async function storesFor(kind: string, servers: Partial<Record<'postgres' | 'mariadb', DatabaseServer>>): Promise<{ stores: Stores; dispose(): Promise<void> }> {
  const common = { now: Date.now, sessionIdleMs: IDLE };
  if (kind === 'memory') return { stores: createMemoryStores(common), dispose: async () => undefined };
  const place = kind.startsWith('sqlite') ? sqliteFile() : null;
  const url = place ? place.url : await servers[kind as 'postgres' | 'mariadb']!.createDatabase(`bench${Date.now()}`);
  const opened = await openMigrated(url, { sqliteSynchronous: kind === 'sqlite-normal' ? 'normal' : 'full' });
  const stores = createSqlStores({ ...opened, ...common, sealKey: randomBytes(32), appId: 'wxbench', commandTimeoutMs: 10_000 });
  return { stores, dispose: async () => (await stores.close(), place?.dispose()) };
}

async function timed(label: string, n: number, work: (i: number) => Promise<unknown>, inFlight = 1): Promise<void> {
  const cpu = process.cpuUsage();
  const trips = roundTrips;
  const started = process.hrtime.bigint();
  let failures = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await Promise.resolve(next++)
        .then(work)
        .catch((error: unknown) => {
          if (failures++ === 0) console.log(`  first failure: ${error instanceof Error ? `${error.message}; cause: ${String((error as { cause?: unknown }).cause)}` : String(error)}`);
        });
    }),
  );
  const wall = Number(process.hrtime.bigint() - started) / 1e3;
  const used = process.cpuUsage(cpu);
  console.log(
    `  ${label.padEnd(34)} ${((used.user + used.system) / n).toFixed(1).padStart(7)} µs CPU  ${(wall / n).toFixed(1).padStart(8)} µs wall  ${Math.round((n * 1e6) / wall)
      .toString()
      .padStart(6)}/s  ${((roundTrips - trips) / n).toFixed(1)} round trips${failures ? `  ${failures} FAILED` : ''}`,
  );
}

async function main(): Promise<void> {
  const kinds = process.env.KINDS ? process.env.KINDS.split(',') : ['memory', 'sqlite', 'sqlite-normal', 'postgres', 'mariadb'];
  countRoundTrips();
  const servers: Partial<Record<'postgres' | 'mariadb', DatabaseServer>> = {};
  try {
    if (kinds.includes('postgres')) servers.postgres = await startPostgres();
    if (kinds.includes('mariadb')) servers.mariadb = await startMariadb();
    for (const kind of kinds) {
      console.log(kind);
      const { stores, dispose } = await storesFor(kind, servers);
      try {
        const at = Date.now();
        const fresh = () => ({ id: randomUUID(), openid: 'o-bench', nickname: '爱丽丝🐱', avatarUrl: '', createdAt: at });
        const { user } = await stores.users.findOrCreate({ openid: 'o-bench' }, fresh);
        const first = loginSession(user.id, at, IDLE);
        await stores.sessions.create(first);
        const { skeyHash } = first;
        const login = async () => {
          const limited = await stores.limits.take('login:127.0.0.1', 1_000_000, 1000);
          if (!limited.allowed) throw new Error('limited');
          const found = await stores.users.findOrCreate({ openid: 'o-bench' }, fresh);
          await stores.sessions.create(loginSession(found.user.id, Date.now(), IDLE));
        };
        await timed('warm-up', 200, () => stores.sessions.touch(skeyHash) as Promise<unknown>);
        await timed('sessions.touch (authenticated)', N, async () => {
          if (!(await stores.sessions.touch(skeyHash))) throw new Error('no session');
        });
        await timed('users.get (by primary key)', N, () => stores.users.get(user.id));
        await timed('  its rate-limit hit', Math.min(N, 500), () => stores.limits.take('login:10.0.0.1', 1_000_000, 1000));
        await timed('  its findOrCreate (a known user)', Math.min(N, 500), () => stores.users.findOrCreate({ openid: 'o-bench' }, fresh));
        await timed('  its sessions.create (at the cap)', Math.min(N, 500), () => stores.sessions.create(loginSession(user.id, Date.now(), IDLE)));
        await timed('login, one at a time', Math.min(N, 500), login);
        await timed('login, 50 in flight', Math.min(N, 1000), login, 50);
        const firsts = Math.min(N, 300);
        await timed('first login of a new user', firsts, async (i) => {
          const openid = `o-first-${kind}-${i}-${at}`;
          await stores.users.findOrCreate({ openid }, () => ({ ...fresh(), openid }));
        });
      } finally {
        await dispose();
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
