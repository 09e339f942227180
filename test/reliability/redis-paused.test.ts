/**
 * A hung Redis: the compiled server on a private redis-server that is paused with SIGSTOP (the
 * connection stays up, nothing answers), then resumed with SIGCONT. While paused, every request
 * that needs the store answers 503 STORE_UNAVAILABLE within the command timeout, /readyz says
 * 503 and /healthz 200; after SIGCONT it serves again without a restart. Skipped with a printed
 * reason without redis-server, unless REQUIRE_REDIS=1.
 */
import { startServer, type Proc } from '../../bench/harness';
import { DEVTOOLS_MOCK_CODE } from '../../server/wechat/simulator';
import { describeWithRedis } from '../server/helpers';

const COMMAND_TIMEOUT_MS = 1000;

describeWithRedis('Redis paused with SIGSTOP under the compiled server', (redis) => {
  let server: Proc | undefined;
  beforeAll(async () => {
    server = await startServer({ REDIS_URL: redis().url, REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS), LOG_LEVEL: 'warn' });
  }, 30_000);
  afterAll(async () => {
    redis().resume();
    await server?.stop();
  });

  const timed = async (path: string, init: RequestInit = {}) => {
    const started = Date.now();
    const response = await fetch(`${server!.url}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: await response.text(), ms: Date.now() - started };
  };
  const login = () => timed('/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: DEVTOOLS_MOCK_CODE }) });

  test('answers 503 STORE_UNAVAILABLE within the command timeout while paused, readiness fails, liveness holds; after SIGCONT it serves again', async () => {
    const { skey } = JSON.parse((await login()).body) as { skey: string };
    const profile = () => timed('/api/profile', { headers: { authorization: `Bearer ${skey}` } });
    expect((await profile()).status).toBe(200);
    expect((await timed('/readyz')).status).toBe(200);

    redis().pause();
    try {
      const answers = await Promise.all([profile(), login(), timed('/readyz'), profile()]);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(JSON.parse(answer.body)).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: expect.any(String) } });
      }
      const slowest = Math.max(...answers.map((a) => a.ms));
      console.log(`Redis paused: 503 STORE_UNAVAILABLE after at most ${slowest} ms (command timeout ${COMMAND_TIMEOUT_MS} ms)`);
      expect(slowest).toBeGreaterThanOrEqual(COMMAND_TIMEOUT_MS - 50);
      // Loose, as a loaded machine runs timers late: a paused Redis answers nothing, so without the
      // command timeout these would wait for the client's 10 s abort.
      expect(slowest).toBeLessThan(5 * COMMAND_TIMEOUT_MS);
      expect((await timed('/healthz')).status).toBe(200);
    } finally {
      redis().resume();
    }

    expect((await profile()).status).toBe(200);
    expect((await timed('/readyz')).status).toBe(200);
    expect((await login()).status).toBe(200);
    expect(server!.exited()).toBe(false);
    expect(server!.output()).not.toMatch(/"level":60/);
  }, 30_000);
});
