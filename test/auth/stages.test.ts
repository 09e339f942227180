/** One call's cancellation and clock (miniprogram/auth/stages.ts), on jest's fake clock. */
import { AuthError } from '../../miniprogram/auth';
import { createStages } from '../../miniprogram/auth/stages';

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

const WHERE = 'GET https://api.test/api/me';

/** Stages of a 1000 ms call, and every rejection of the call. */
function call(limit = 1000) {
  const rejected: AuthError[] = [];
  return { stages: createStages(WHERE, limit, (e) => rejected.push(e)), rejected };
}
const cancelled = () => new AuthError('CANCELLED', WHERE, 'aborted');
/** A stage that never ends by itself. */
const forever = () => new Promise<never>(() => {});

describe('stages', () => {
  test('a stage settles as what it started settles, while the call is not stopped', async () => {
    const { stages, rejected } = call();
    await expect(stages.stage(() => Promise.resolve('answer'))).resolves.toBe('answer');
    await expect(stages.stage(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(rejected).toEqual([]);
  });

  test('a stop leaves the stage at once: its undo runs once, the stage and the call reject with the stop’s error', async () => {
    const { stages, rejected } = call();
    const undo = jest.fn();
    const waiting = stages.stage(forever, undo);
    const error = cancelled();

    stages.stop(error);

    await expect(waiting).rejects.toBe(error);
    expect(undo).toHaveBeenCalledTimes(1);
    expect(rejected).toEqual([error]);
  });

  test('after a stop no stage starts: it rejects with the stop’s error without calling start', async () => {
    const { stages } = call();
    const error = cancelled();
    stages.stop(error);
    const start = jest.fn(() => Promise.resolve('never'));

    await expect(stages.stage(start)).rejects.toBe(error);
    expect(start).not.toHaveBeenCalled();
  });

  test('only the first stop counts: a later one (the timeout after an abort) neither rejects again nor runs the undo again', async () => {
    const { stages, rejected } = call();
    const undo = jest.fn();
    const waiting = stages.stage(forever, undo).catch(() => undefined);
    stages.startClock('no answer');
    const first = cancelled();

    stages.stop(first);
    jest.advanceTimersByTime(5000);
    stages.stop(cancelled());
    await waiting;

    expect(rejected).toEqual([first]);
    expect(undo).toHaveBeenCalledTimes(1);
  });
});

describe('the clock', () => {
  test('stops the call with TIMEOUT, naming what it waited for and the limit, when the attempt’s time runs out', async () => {
    const { stages, rejected } = call();
    const waiting = stages.stage(forever);

    expect(stages.startClock('no answer')).toBe(1000);
    jest.advanceTimersByTime(999);
    expect(rejected).toEqual([]);
    jest.advanceTimersByTime(1);

    await expect(waiting).rejects.toMatchObject({ code: 'TIMEOUT', message: `${WHERE}: no answer within 1000 ms` });
    expect(rejected).toHaveLength(1);
  });

  test('a paused clock keeps what is left: the wait for a session and the answer share one attempt’s time', () => {
    const { stages, rejected } = call();
    stages.startClock('no session');
    jest.advanceTimersByTime(700);
    stages.pauseClock();
    // Time in line for a slot does not count.
    jest.advanceTimersByTime(10_000);
    expect(rejected).toEqual([]);

    expect(stages.startClock('no answer')).toBe(300);
    jest.advanceTimersByTime(300);
    expect(rejected.map((e) => e.message)).toEqual([`${WHERE}: no answer within 1000 ms`]);
  });

  test('never leaves an attempt less than 1 ms, so that a clock started late still runs', () => {
    const { stages } = call();
    stages.startClock('no session');
    jest.advanceTimersByTime(1000);
    stages.pauseClock();
    expect(stages.startClock('no answer')).toBe(1);
  });

  test('pauseClock(true) ends the attempt: the running clock is cancelled and the next attempt has the whole limit', () => {
    const { stages, rejected } = call();
    stages.startClock('no answer');
    jest.advanceTimersByTime(900);

    stages.pauseClock(true);
    jest.advanceTimersByTime(5000);

    expect(rejected).toEqual([]);
    expect(stages.startClock('no answer')).toBe(1000);
  });
});
