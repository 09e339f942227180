/**
 * The processor's own rules, on the memory store with a fake clock and an `act` the tests
 * control: a failure is retried later (by the sweep), an event failing every time is given up and
 * logged, a store that cannot record fails the push (WeChat delivers it again), and stopping waits
 * for the work under way while leaving the rest recorded.
 */
import { createPushEventProcessor, type PushEventLog } from '../../../server/push-events/processor';
import { createMemoryPushEventStore } from '../../../server/stores/push-events';
import type { ClaimedPushEvent, PushEventOutcome, PushEventStore } from '../../../server/stores/types';
import type { AccountEvent } from '../../../server/wechat/push';
import { fakeClock } from '../helpers';

function recordingLog(): PushEventLog & { lines: { level: string; message: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, message, fields });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

let n = 0;
const revoke = (): AccountEvent => ({
  kind: 'user_authorization_revoke',
  toUserName: 'gh_0123456789ab',
  fromUserName: 'oaKk346BaWE-eIn4oSRWbaM9vR7s',
  createTime: 1767225600,
  msgType: 'event',
  dedupeKey: `event:${++n}`,
  openid: 'oUser00000000000000000000001',
  appId: 'wx00000000simulated',
  revoked: ['phone'],
  unknownRevokeInfo: [],
  revokeInfo: '8',
  plugin: null,
});

describe('push-event processor', () => {
  test('acts on a handled event after the handler has returned, once', async () => {
    const clock = fakeClock();
    const store = createMemoryPushEventStore(clock.now);
    const acted: ClaimedPushEvent[] = [];
    const processor = createPushEventProcessor({ store, act: async (event) => (acted.push(event), 'acted'), now: clock.now, log: recordingLog() });
    const event = revoke();
    await processor.handle(event);
    // Recorded, and not yet acted on: that comes after the answer.
    expect(acted).toHaveLength(0);
    expect(await store.counts()).toEqual({ pending: 1, done: 0 });
    await processor.handle(event);
    await processor.idle();
    expect(acted.map((e) => e.dedupeKey)).toEqual([event.dedupeKey]);
    expect(await store.counts()).toEqual({ pending: 0, done: 1 });
  });

  test('tries a failed event again after its delay, through the sweep, and counts the attempts', async () => {
    const clock = fakeClock();
    const store = createMemoryPushEventStore(clock.now);
    const log = recordingLog();
    let failures = 2;
    const attempts: number[] = [];
    const act = async (event: ClaimedPushEvent): Promise<PushEventOutcome> => {
      attempts.push(event.attempts);
      if (failures-- > 0) throw new Error('the database went away');
      return 'acted';
    };
    const processor = createPushEventProcessor({ store, act, now: clock.now, log });
    await processor.handle(revoke());
    await processor.idle();
    expect(attempts).toEqual([1]);
    // Not due before its delay (1 s after the first failure).
    await processor.sweep();
    await processor.idle();
    expect(attempts).toEqual([1]);
    clock.advance(1000);
    await processor.sweep();
    await processor.idle();
    clock.advance(2000);
    await processor.sweep();
    await processor.idle();
    expect(attempts).toEqual([1, 2, 3]);
    expect(await store.counts()).toEqual({ pending: 0, done: 1 });
    expect(log.lines.filter((line) => line.level === 'warn').map((line) => line.message)).toEqual([
      'acting on a WeChat account event failed; it is tried again later',
      'acting on a WeChat account event failed; it is tried again later',
    ]);
  });

  test('gives up an event that fails every time after maxAttempts, at error level, as failed', async () => {
    const clock = fakeClock();
    const store = createMemoryPushEventStore(clock.now);
    const log = recordingLog();
    let calls = 0;
    const processor = createPushEventProcessor({ store, act: async () => (calls++, Promise.reject(new Error('a bug'))), now: clock.now, log, maxAttempts: 3 });
    await processor.handle(revoke());
    await processor.idle();
    // Retries 1 s and 2 s later; then nothing is due any more (within the 10 minutes a done key is kept).
    for (const delay of [1000, 2000, 4000, 60_000]) {
      clock.advance(delay);
      await processor.sweep();
      await processor.idle();
    }
    expect(calls).toBe(3);
    expect(await store.counts()).toEqual({ pending: 0, done: 1 });
    expect(log.lines.filter((line) => line.level === 'error')).toHaveLength(1);
    expect(log.lines.find((line) => line.message === 'wechat account event handled')?.fields.outcome).toBe('failed');
  });

  test('fails the push when the event cannot be recorded, so that WeChat delivers it again', async () => {
    const clock = fakeClock();
    const store = createMemoryPushEventStore(clock.now);
    const broken: PushEventStore = { ...store, record: () => Promise.reject(new Error('storage is unavailable')) };
    const processor = createPushEventProcessor({ store: broken, act: async () => 'acted', now: clock.now, log: recordingLog() });
    await expect(processor.handle(revoke())).rejects.toThrow('storage is unavailable');
  });

  test('stopping waits for the event being acted on, and leaves the queued ones recorded for the next start', async () => {
    const clock = fakeClock();
    const store = createMemoryPushEventStore(clock.now);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const started: string[] = [];
    const act = async (event: ClaimedPushEvent): Promise<PushEventOutcome> => {
      started.push(event.dedupeKey);
      await gate;
      return 'acted';
    };
    const processor = createPushEventProcessor({ store, act, now: clock.now, log: recordingLog(), concurrency: 1 });
    for (let i = 0; i < 3; i++) await processor.handle(revoke());
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toHaveLength(1);
    let stopped = false;
    const stopping = processor.stop().then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(started).toHaveLength(1);
    expect(await store.counts()).toEqual({ pending: 2, done: 1 });

    // The next process takes them up at start.
    const next = createPushEventProcessor({ store, act: async () => 'acted', now: clock.now, log: recordingLog() });
    next.start();
    await next.idle();
    expect(await store.counts()).toEqual({ pending: 0, done: 3 });
    await next.stop();
  });
});
