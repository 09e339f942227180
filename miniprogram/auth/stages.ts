import { AuthError } from './errors';
import { clear, type Timer } from './transport';

/**
 * One call's cancellation and clock. The call goes through stages (waiting for a session, in line
 * for a slot, in flight, backing off); an abort or the clock running out stops it: the stage it is
 * in is left at once (after its undo), none starts after, and the call rejects with that error.
 */
export interface Stages {
  /** Enters a stage unless the call was stopped; a stop leaves it at once, after `undo`. */
  stage<R>(start: () => Promise<R>, undo?: () => void): Promise<R>;
  /**
   * Stops the call with `error`, once. After the call is over it changes nothing: its last stage's
   * undo finds nothing left to undo (a slot given back, a finished task), and the call has settled.
   */
  stop(error: AuthError): void;
  /**
   * Runs the clock on what is left of this attempt's time, and says how much that is (ms); running
   * out stops the call with TIMEOUT, "`detail` within `limit` ms".
   */
  startClock(detail: string): number;
  /**
   * Stops the clock, keeping what is left of the attempt's time; or, with `reset`, at the end of an
   * attempt (or of the call), giving the next attempt all of `limit` again.
   */
  pauseClock(reset?: boolean): void;
}

/** Stages for the call `where`, of at most `limit` ms per attempt; `reject` rejects the call when it is stopped. */
export function createStages(where: string, limit: number, reject: (error: AuthError) => void): Stages {
  let stopped: AuthError | undefined;
  let leaveStage = () => {};
  let left = limit;
  let startedAt = 0;
  let timer: Timer;

  const stop = (error: AuthError) => {
    if (stopped) return;
    stopped = error;
    clear(timer);
    leaveStage();
    reject(error);
  };
  return {
    stage: (start, undo) =>
      stopped
        ? Promise.reject(stopped)
        : new Promise((resolve, rejectStage) => {
            leaveStage = () => {
              if (undo) undo();
              rejectStage(stopped);
            };
            start().then(resolve, rejectStage);
          }),
    stop,
    startClock(detail) {
      startedAt = Date.now();
      timer = setTimeout(() => stop(new AuthError('TIMEOUT', where, `${detail} within ${limit} ms`)), left);
      return left;
    },
    pauseClock(reset) {
      clear(timer);
      left = reset ? limit : Math.max(1, left - (Date.now() - startedAt));
    },
  };
}
