/**
 * WeChat's account events, handled durably and once. A verified push is recorded under its dedupe
 * key (stores.pushEvents) before WeChat gets its `success`; the work runs after the answer, by
 * whichever worker claims the event (one atomic update in the store, so one worker on one
 * instance). What was recorded and not finished (a crash, a failure, a shutdown) is due again and
 * taken by the sweep, which runs at start and periodically; done events keep their key without
 * the openid until the redelivery window has passed, then are deleted.
 */
import type { PushHandler } from '../routes/wechat-events';
import type { ClaimedPushEvent, Clock, PushEventOutcome, PushEventStore } from '../stores/types';
import { DEDUPE_MIN_RETENTION_MS, type PushEvent } from '../wechat/push';

/** Where the processor reports; a pino or fastify logger fits. */
export interface PushEventLog {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface PushEventProcessorOptions {
  store: PushEventStore;
  /** Acts on one claimed event (push-events/actions.ts); throws to have it tried again later. */
  act: (event: ClaimedPushEvent) => Promise<PushEventOutcome>;
  now: Clock;
  log: PushEventLog;
  /** How long a claim lasts: a worker that died holding one (kill -9) delays its event this long. Default 5 minutes. */
  leaseMs?: number;
  /** How often recorded events nobody holds are looked for. Default 30 s. */
  sweepIntervalMs?: number;
  /** Events acted on at once in this process. Default 4. */
  concurrency?: number;
  /** Failed attempts before an event is given up (logged at error, outcome `failed`). Default 20 (about two hours of retries). */
  maxAttempts?: number;
  /** How long a done event's key is kept to recognise redeliveries. Default DEDUPE_MIN_RETENTION_MS. */
  retentionMs?: number;
}

export interface PushEventProcessor {
  /** The route's handler: records an account event (awaited before WeChat's answer), then schedules its work. */
  handle: PushHandler;
  /** Sweeps now (work left by a crash) and then every sweepIntervalMs. */
  start(): void;
  /** Takes no new work; resolves once the work under way has finished. What was not started stays recorded, for the next start. */
  stop(): Promise<void>;
  /** One sweep: purges old done events, schedules those due. */
  sweep(): Promise<void>;
  /** Resolves when no work is queued or running (tests and the development route wait on it). */
  idle(): Promise<void>;
}

const SWEEP_BATCH = 200;

/** A failed event's next try: 1 s, 2 s, 4 s, … up to 10 minutes (the sweep's interval rounds it up). */
const retryDelay = (attempts: number) => Math.min(1000 * 2 ** Math.min(attempts - 1, 20), 10 * 60 * 1000);

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

export function createPushEventProcessor({
  store,
  act,
  now,
  log,
  leaseMs = 5 * 60 * 1000,
  sweepIntervalMs = 30_000,
  concurrency = 4,
  maxAttempts = 20,
  retentionMs = DEDUPE_MIN_RETENTION_MS,
}: PushEventProcessorOptions): PushEventProcessor {
  const queue: string[] = [];
  const queued = new Set<string>();
  const running = new Set<Promise<void>>();
  let idleWaiters: (() => void)[] = [];
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let sweeping: Promise<void> | null = null;
  /** Recorded events whose scheduling waits for the answer to go out. */
  let arriving = 0;

  const settleIdle = () => {
    if (queue.length > 0 || running.size > 0 || arriving > 0 || sweeping) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  /** Claims one event and acts on it; whatever fails leaves it recorded and due again. */
  async function work(dedupeKey: string): Promise<void> {
    let event: ClaimedPushEvent | null;
    try {
      event = await store.claim(dedupeKey, leaseMs);
    } catch (error) {
      log.warn({ dedupeKey, err: errorText(error) }, 'claiming a WeChat account event failed; the sweep tries again');
      return;
    }
    // Done already, or another worker (here or on another instance) holds it.
    if (!event) return;
    let outcome: PushEventOutcome;
    try {
      outcome = await act(event);
    } catch (error) {
      if (event.attempts < maxAttempts) {
        const retryAt = now() + retryDelay(event.attempts);
        log.warn({ dedupeKey, kind: event.kind, attempts: event.attempts, retryAt, err: errorText(error) }, 'acting on a WeChat account event failed; it is tried again later');
        await store.release(dedupeKey, event.claim, retryAt).catch(() => undefined);
        return;
      }
      log.error({ dedupeKey, kind: event.kind, attempts: event.attempts, err: errorText(error) }, 'acting on a WeChat account event failed every time; it is given up: do by hand what it asked');
      outcome = 'failed';
    }
    try {
      if (!(await store.finish(dedupeKey, event.claim, outcome))) {
        log.warn({ dedupeKey, kind: event.kind }, 'a WeChat account event was finished after its claim ran out; another worker may act on it again');
        return;
      }
    } catch (error) {
      // Its claim runs out and the event is acted on again: every action is one that can be repeated.
      log.warn({ dedupeKey, kind: event.kind, err: errorText(error) }, 'recording a WeChat account event as done failed; it is acted on again once its claim runs out');
      return;
    }
    log.info({ dedupeKey, kind: event.kind, outcome, attempts: event.attempts }, 'wechat account event handled');
  }

  function pump(): void {
    while (!stopped && running.size < concurrency && queue.length > 0) {
      const dedupeKey = queue.shift()!;
      queued.delete(dedupeKey);
      const job: Promise<void> = work(dedupeKey).finally(() => {
        running.delete(job);
        pump();
        settleIdle();
      });
      running.add(job);
    }
  }

  function schedule(dedupeKey: string): void {
    if (stopped || queued.has(dedupeKey)) return;
    queued.add(dedupeKey);
    queue.push(dedupeKey);
    pump();
  }

  async function sweepOnce(): Promise<void> {
    try {
      await store.purge(now() - retentionMs);
      const keys = await store.due(SWEEP_BATCH);
      for (const key of keys) schedule(key);
      // A long backlog (after a crash under load): the next batch once this one is through.
      if (keys.length === SWEEP_BATCH) void processor.idle().then(() => processor.sweep());
    } catch (error) {
      log.warn({ err: errorText(error) }, 'looking for WeChat account events to act on failed; the next sweep tries again');
    }
  }

  const processor: PushEventProcessor = {
    async handle(event: PushEvent) {
      if (event.kind === 'other') return;
      const revoked = event.kind === 'user_authorization_revoke' ? event.revoked : [];
      // Awaited: a failure here is a 500 to WeChat, which delivers the event again.
      await store.record({ dedupeKey: event.dedupeKey, kind: event.kind, openid: event.openid, revoked, receivedAt: now() });
      // A redelivery of an event not yet done is scheduled too: the claim decides who acts.
      // After the answer: the route sends `success` as soon as this returns.
      arriving++;
      setImmediate(() => {
        arriving--;
        schedule(event.dedupeKey);
        settleIdle();
      });
    },

    start() {
      if (stopped || timer) return;
      timer = setInterval(() => void processor.sweep(), sweepIntervalMs);
      timer.unref();
      void processor.sweep();
    },

    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = null;
      queue.length = 0;
      queued.clear();
      await sweeping;
      await Promise.all([...running]);
      settleIdle();
    },

    sweep() {
      if (stopped) return Promise.resolve();
      sweeping ??= sweepOnce().finally(() => {
        sweeping = null;
        settleIdle();
      });
      return sweeping;
    },

    idle() {
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },
  };
  return processor;
}
