/**
 * What both walks of `npm run demo` share: the server's address (HOST and PORT as for the server
 * it walks against), one numbered line per step, and the first check that something answers there.
 */

// A server on every interface (0.0.0.0, ::) answers on loopback too; an IPv6 address goes in brackets.
const host = (process.env.HOST ?? '').replace(/^\[|\]$/g, '');
const reachable = host === '' || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
export const base = `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${process.env.PORT || 3000}`;

/** A step failed: its line is printed already. */
export class StepFailed extends Error {
  constructor(readonly reason: unknown) {
    super(reason instanceof Error ? reason.message : String(reason));
    this.name = 'StepFailed';
  }
}

let stepNo = 0;
/** Runs one step and prints `✔ n. title: what it found`, or `✘ n. title: why` and throws StepFailed. */
export async function step<T>(title: string, run: () => Promise<T>, describe: (value: T) => string): Promise<T> {
  stepNo++;
  try {
    const value = await run();
    process.stdout.write(`✔ ${stepNo}. ${title}: ${describe(value)}\n`);
    return value;
  } catch (error) {
    process.stdout.write(`✘ ${stepNo}. ${title}: ${error instanceof Error ? error.message : String(error)}\n`);
    throw new StepFailed(error);
  }
}

/** The start of a secret, enough to tell two apart in the output. */
export const short = (secret: string) => `${secret.slice(0, 6)}…`;

/** Step 1 of every walk: a server answers at `base`, and refuses a request without a session. `start` says how to start one. */
export function serverAnswers(start: string): Promise<number> {
  return step(
    `server at ${base}`,
    async () => {
      const response = await fetch(`${base}/auth/session`).catch(() => {
        throw new Error(`nothing answers at ${base}; start it with ${start}, with the same HOST and PORT`);
      });
      if (response.status !== 401) throw new Error(`expected 401 without a session, got ${response.status}`);
      return response.status;
    },
    () => 'answers, and refuses a request without a session (401)',
  );
}
