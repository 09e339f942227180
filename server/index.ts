/** `npm run server`: validate the environment, build the app, listen, print what to do next. */
import { buildApp } from './app';
import { ConfigError, loadConfig } from './config';

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const config = loadConfig();
  const app = await buildApp({ config });
  const address = await app.listen({ host: config.host, port: config.port });

  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  const wechat = config.wechat.mode === 'real' ? `real WeChat (appid ${config.wechat.appId})` : 'simulated WeChat';
  const store = config.redisUrl ? 'Redis' : 'memory';
  app.log.info(`listening on ${address} in ${ms} ms: ${wechat}, ${store} store`);
  if (config.wechat.mode === 'simulated') {
    process.stdout.write(
      `\nNext: open this folder in WeChat DevTools; the app talks to ${address}.\n` +
        `No DevTools? Run \`npm run demo\` in another terminal to walk through the login flow.\n\n`,
    );
  }

  const stop = (signal: string) => {
    app.log.info(`${signal}: closing`);
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
