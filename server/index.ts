/** `npm run server`: validate the environment, build the app, listen, print what to do next. */
import type { AddressInfo } from 'node:net';
import { buildApp } from './app';
import { ConfigError, loadConfig, type Config } from './config';
import { describeLocation } from './database';
import { demoAccountLines, ensureDemoAccount } from './demo-account';
import { isLoopbackHostname, urlHost } from './net';
import { nextSteps } from './next-steps';
import { closeWithin } from './shutdown';

/** The address the socket is bound to, as a URL, and who can reach it. */
function describeBinding(address: AddressInfo): string {
  const reach =
    address.address === '0.0.0.0' ? 'every IPv4 interface' : address.address === '::' ? 'every interface' : isLoopbackHostname(address.address) ? 'this machine only' : 'this interface';
  return `http://${urlHost(address.address)}:${address.port} (${reach})`;
}

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const config = loadConfig();
  const app = await buildApp({ config });
  await app.ready();
  // Fastify logs "Server listening at" once per address (every interface, for 0.0.0.0); the one
  // start-up line below says where, in which mode and with which store.
  const level = app.log.level;
  app.log.level = 'warn';
  try {
    await app.listen({ host: config.host, port: config.port });
  } finally {
    app.log.level = level;
  }
  const bound = app.server.address() as AddressInfo;

  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  const wechat = config.wechat.mode === 'real' ? `real WeChat (appid ${config.wechat.appId})` : 'simulated WeChat';
  const database = config.database ? describeLocation(config.database) : null;
  const store = config.redisUrl ? `users in ${database ?? 'memory'}, sessions in Redis` : database ? `${database} store` : 'memory store (nothing kept)';
  app.log.info({ address: bound.address, port: bound.port, mode: config.wechat.mode, store }, `listening on ${describeBinding(bound)} in ${ms} ms: ${wechat}, ${store}`);
  if (config.wechat.mode === 'simulated') {
    // pino writes asynchronously: let the start-up line out before the plain-text next steps.
    await new Promise<void>((resolve) => (app.log as unknown as { flush(done: () => void): void }).flush(() => resolve()));
    announceSimulator(config, bound, app.log.warn.bind(app.log));
    if (config.accountMode === 'bind') process.stdout.write(demoAccountLines(await ensureDemoAccount(app.wxLogin.stores)));
  }

  let stopping = false;
  const stop = (signal: string) => {
    // A second Ctrl+C does not wait.
    if (stopping) process.exit(1);
    stopping = true;
    app.log.info(`${signal}: closing (at most ${config.shutdownTimeoutMs} ms)`);
    // Should closing itself hang (a store that never answers), the process still ends.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 2000).unref();
    closeWithin(app, config.shutdownTimeoutMs).then(
      (cut) => process.exit(cut > 0 ? 1 : 0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/** What a developer does next, and a warning when the simulator listens beyond this machine. */
function announceSimulator(config: Config, bound: AddressInfo, warn: (message: string) => void): void {
  if (!isLoopbackHostname(bound.address)) {
    warn(
      `simulated WeChat on ${config.host}: anyone who reaches this address can log in as the development users; ` +
        'the simulator and /dev/* still answer only this machine',
    );
  }
  process.stdout.write(nextSteps(bound));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`server failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
