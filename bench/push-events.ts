/**
 * How long WeChat waits for its answers when many account events arrive at once: 500 pushes
 * (sealed and signed as WeChat does) sent concurrently to a listening server, timed until the last
 * `success`, then until the last event is acted on; on the memory store and on the embedded SQLite
 * (each record synced before its answer, by the group commit), beside the floor of as many concurrent GET
 * /healthz on the same server. The target: all answered within 1 s.
 *   npx tsx bench/push-events.ts [count]
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApp } from '../server/app';
import { loadConfig, SIMULATED_APPID } from '../server/config';
import { openCheckedDatabase } from '../server/stores/from-config';
import { createMemoryStores } from '../server/stores/memory';
import { createSqlStores } from '../server/stores/sql';
import type { Stores } from '../server/stores/types';
import { aesKeyFrom } from '../server/wechat/push-crypto';
import { accountEventPush } from '../server/wechat/push-sender';

const TOKEN = 'benchToken123';
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const count = Number(process.argv[2] ?? 500);

async function run(name: string, stores: Stores): Promise<void> {
  const config = { ...loadConfig({ WX_MODE: 'simulated', UPLOAD_DIR: mkdtempSync(path.join(os.tmpdir(), 'bench-push-')), WX_PUSH_TOKEN: TOKEN, WX_PUSH_AES_KEY: AES_KEY, MAX_CONNECTIONS_PER_CLIENT: '0' }) };
  const app = await buildApp({ config, stores, log: false });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  for (let i = 0; i < count; i++) {
    const openid = `o-bench-${i}`;
    const { user } = await stores.users.findOrCreate({ openid }, () => ({ id: `u${i}`, openid, nickname: 'n', avatarUrl: '', createdAt: Date.now() }));
    await stores.users.bindPhone(user.id, { countryCode: '86', number: String(13800000000 + i) });
  }
  const sender = { token: TOKEN, aesKey: aesKeyFrom(AES_KEY), appId: SIMULATED_APPID };
  const pushes = Array.from({ length: count }, (_, i) => accountEventPush(sender, { event: 'user_authorization_revoke', openid: `o-bench-${i}`, revoked: ['phone'] }, { format: 'json', mode: 'safe', nowMs: Date.now() }));
  // The floor on this host at this moment: as many concurrent requests that do nothing (GET /healthz).
  const floorStarted = performance.now();
  await Promise.all(pushes.map(async () => (await fetch(`${base}/healthz`)).text()));
  const floor = performance.now() - floorStarted;
  const started = performance.now();
  const answers = await Promise.all(pushes.map(async (push) => (await fetch(`${base}${push.url}`, { method: 'POST', headers: push.headers, body: push.body! })).text()));
  const answered = performance.now() - started;
  // Each recorded event is acted on; one answered otherwise (a 408 when the host is too slow) was not recorded.
  const ok = answers.filter((answer) => answer === 'success').length;
  while ((await stores.pushEvents.counts()).done < ok) await new Promise((resolve) => setTimeout(resolve, 10));
  const acted = performance.now() - started;
  console.log(`${name}: ${count} concurrent pushes, ${ok} answered success, the last after ${Math.round(answered)} ms; all acted on after ${Math.round(acted)} ms; ${count} concurrent GET /healthz took ${Math.round(floor)} ms (load ${os.loadavg()[0]!.toFixed(1)})`);
  await app.close();
}

async function main(): Promise<void> {
  await run('memory', createMemoryStores({ now: Date.now, sessionIdleMs: 3600_000 }));
  const url = `sqlite:${path.join(mkdtempSync(path.join(os.tmpdir(), 'bench-push-db-')), 'db.sqlite')}`;
  const config = loadConfig({ WX_MODE: 'simulated', DATABASE_URL: url, DATABASE_MIGRATE: 'auto' });
  const opened = await openCheckedDatabase(config, config.database!, () => undefined);
  await run('SQLite', createSqlStores({ ...opened, now: Date.now, sessionIdleMs: 3600_000, sealKey: Buffer.alloc(32, 1), appId: SIMULATED_APPID, commandTimeoutMs: 2000 }));
}

void main();
