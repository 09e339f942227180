/**
 * The server as `npm run server` runs it (simulated WeChat, the same configuration from the
 * environment), except that its WeChat client calls the simulator in this process instead of over
 * HTTP. The benchmark's logins against it are what a login costs the server itself; beside the
 * same logins against the real entry, they show what the simulated mode's HTTP hop adds.
 */
import { buildApp } from '../server/app';
import { loadConfig } from '../server/config';
import { callSimulator, createSimulator } from '../server/wechat/simulator';

async function main(): Promise<void> {
  const config = loadConfig();
  if (config.wechat.mode !== 'simulated') throw new Error('the in-process benchmark server needs WX_MODE=simulated');
  const simulator = createSimulator({ appId: config.wechat.appId, secret: config.wechat.secret, now: Date.now });
  const app = await buildApp({ config, simulator, wechatTransport: callSimulator(simulator) });
  await app.listen({ host: config.host, port: config.port });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
