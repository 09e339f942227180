import { limitConcurrency } from '../../server/concurrency';

/** A task that runs until released, recording how many ran at once. */
function gate() {
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases = new Map<number, () => void>();
  const task = (id: number, fail = false) => async () => {
    running++;
    peak = Math.max(peak, running);
    started.push(id);
    await new Promise<void>((resolve) => releases.set(id, resolve));
    running--;
    if (fail) throw new Error(`task ${id} failed`);
    return id;
  };
  return { task, started, release: (id: number) => releases.get(id)!(), peak: () => peak };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('limitConcurrency', () => {
  it('runs at most the limit at once, starts the waiting ones in the order they came, and hands each caller its own result or error', async () => {
    const limited = limitConcurrency(2);
    const { task, started, release, peak } = gate();
    const outcomes = [1, 2, 3, 4, 5].map((id) => limited(task(id, id === 2)).catch((error: Error) => error.message));
    await settle();
    expect(started).toEqual([1, 2]);
    release(2);
    await settle();
    expect(started).toEqual([1, 2, 3]);
    release(1);
    await settle();
    expect(started).toEqual([1, 2, 3, 4]);
    release(3);
    release(4);
    await settle();
    release(5);
    expect(await Promise.all(outcomes)).toEqual([1, 'task 2 failed', 3, 4, 5]);
    expect(peak()).toBe(2);
  });

  it('frees exactly the slots of finished tasks: after a queue has drained, again only the limit starts at once', async () => {
    const limited = limitConcurrency(2);
    const { task, started, release } = gate();
    const first = [limited(task(1)), limited(task(2)), limited(task(3))];
    await settle();
    [1, 2].forEach(release);
    await settle();
    release(3);
    await Promise.all(first);
    const next = [limited(task(4)), limited(task(5)), limited(task(6))];
    await settle();
    expect(started).toEqual([1, 2, 3, 4, 5]);
    [4, 5].forEach(release);
    await settle();
    release(6);
    expect(await Promise.all(next)).toEqual([4, 5, 6]);
  });
});
