/**
 * `npm run load`: 100 connections for 10 s against the real server (memory store), each one
 * looping login → profile → orders → session → profile with the skey its login got. Passes only
 * with zero socket errors or timeouts, every answer a 200, and a server still running that
 * logged no error. Exits non-zero otherwise.
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { startServer } from './harness';
import { BENCH_SERVER_ENV } from './server';

const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 100);
const SECONDS = Number(process.env.LOAD_SECONDS ?? 10);

async function main(): Promise<number> {
  // Every connection logs in as the one development user, and another connection's logins land
  // between a login and its reads: at the default cap (10 live sessions per user) they would end
  // each other's sessions, as they should. The cap is raised above the logins that can come between.
  const server = await startServer({ ...BENCH_SERVER_ENV, MAX_SESSIONS_PER_USER: String(Math.min(1000, CONNECTIONS * 10)) });
  const unexpected = new Map<string, number>();
  const count = (what: string) => unexpected.set(what, (unexpected.get(what) ?? 0) + 1);

  const read = (path: string): autocannon.Request => ({
    method: 'GET',
    path,
    setupRequest: (request, context) => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${String(context.skey)}` } }),
    onResponse: (status) => {
      if (status !== 200) count(`GET ${path} → ${status}`);
    },
  });

  try {
    const result = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      timeout: 10,
      requests: [
        {
          method: 'POST',
          path: '/auth/login',
          headers: { 'content-type': 'application/json' },
          // A code in wx.login's format that the simulated WeChat has never seen logs in once, as its default user.
          setupRequest: (request) => ({ ...request, body: JSON.stringify({ code: randomBytes(16).toString('hex') }) }),
          onResponse: (status, body, context) => {
            if (status !== 200) {
              count(`POST /auth/login → ${status}`);
              context.skey = undefined;
              return;
            }
            context.skey = (JSON.parse(body) as { skey: string }).skey;
          },
        },
        read('/api/profile'),
        read('/api/orders'),
        read('/auth/session'),
        read('/api/profile'),
      ],
    });

    const total = result.requests.total;
    const logins = Math.round(total / 5);
    const serverErrors = server.output().split('\n').filter((line) => /"level":(50|60)/.test(line));
    const problems = [
      ...(result.errors > 0 ? [`${result.errors} socket errors`] : []),
      ...(result.timeouts > 0 ? [`${result.timeouts} timeouts`] : []),
      ...(result.non2xx > 0 ? [`${result.non2xx} non-2xx answers`] : []),
      ...[...unexpected].map(([what, n]) => `${n} × ${what}`),
      ...(server.exited() ? ['the server exited'] : []),
      ...(serverErrors.length > 0 ? [`${serverErrors.length} error lines in the server log, first: ${serverErrors[0].slice(0, 300)}`] : []),
      ...(total === 0 ? ['no request completed'] : []),
    ];

    console.log(
      `load: ${CONNECTIONS} connections for ${SECONDS} s, login + 4 authenticated reads per loop: ${total} requests ` +
        `(about ${logins} logins), ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms; ` +
        `statuses ${JSON.stringify(Object.fromEntries(Object.entries(result.statusCodeStats).map(([s, c]) => [s, c.count])))}`,
    );
    if (problems.length > 0) {
      console.error(`load: FAILED\n  - ${problems.join('\n  - ')}`);
      return 1;
    }
    console.log('load: passed (zero errors, zero unexpected statuses)');
    return 0;
  } finally {
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
