import { execFile } from 'node:child_process';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app';
import { testConfig } from '../server/helpers';

const root = path.resolve(__dirname, '../..');
const runDemo = (port: number) =>
  new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), 'scripts/demo.ts'], { cwd: root, env: { ...process.env, HOST: '127.0.0.1', PORT: String(port) } }, (error, stdout) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
    );
  });

describe('npm run demo', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await buildApp({ config: testConfig(), log: false });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(() => app.close());

  it('walks the whole journey against a running server, one line per step, and exits 0', async () => {
    const { code, stdout } = await runDemo(port);
    const lines = stdout.trim().split('\n');
    expect(code).toBe(0);
    expect(lines.filter((line) => line.startsWith('✔'))).toHaveLength(13);
    expect(stdout).toMatch(/✔ 5\. list orders: \d+ orders/);
    expect(stdout).toMatch(/bind the phone .*: phone 138\*{4}\d{4} \(masked/);
    expect(stdout).toMatch(/healed by 1 transparent re-login/);
    expect(stdout).toMatch(/refused: 401 INVALID_CODE/);
    expect(lines[lines.length - 1]).toMatch(/^Done/);
  }, 30_000);

  it('shows orders refused with 403 PHONE_REQUIRED, then served after the bind, on a server with REQUIRE_PHONE=true', async () => {
    const gated = await buildApp({ config: testConfig({ requirePhone: true }), log: false });
    await gated.listen({ host: '127.0.0.1', port: 0 });
    try {
      const { code, stdout } = await runDemo((gated.server.address() as { port: number }).port);
      expect(code).toBe(0);
      expect(stdout).toMatch(/✔ 5\. list orders: refused: 403 PHONE_REQUIRED/);
      expect(stdout).toMatch(/✔ 8\. list orders again: \d+ orders/);
    } finally {
      await gated.close();
    }
  }, 30_000);

  it('exits non-zero with a clear line when no server answers', async () => {
    await app.close();
    const { code, stdout } = await runDemo(port);
    expect(code).not.toBe(0);
    expect(stdout).toMatch(/^✘ 1\. server at http:\/\/127\.0\.0\.1:\d+: nothing answers at .*; start it with `npm start` \(or `WX_MODE=simulated npm run server`\)/m);
  }, 30_000);
});
