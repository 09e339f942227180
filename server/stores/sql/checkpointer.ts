/**
 * Checkpoints of the embedded database's WAL, off the event loop. SQLite copies the WAL back into
 * the database file by itself, in the commit that takes the WAL past 1,000 pages: on the one
 * connection, with two syncs, while every other request waits (better-sqlite3 is synchronous).
 * That was about half of what a login's commits cost. Here a worker thread with a connection of
 * its own runs the checkpoints (PASSIVE: writers never wait for it, and SQLite restarts the WAL
 * once a checkpoint has caught up). The serving connection keeps an automatic checkpoint only as
 * a backstop, at BACKSTOP_PAGES: should the worker fall behind or die, the WAL stays bounded.
 *
 * The worker starts on the first request, after CHECKPOINT_EVERY writes: a database that is
 * written little (a test, the operator's command) never starts one.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Writes (statements that changed rows) between checkpoint requests. */
export const CHECKPOINT_EVERY = 256;
/** The serving connection's own automatic checkpoint, in pages: 64 MB of WAL. */
export const BACKSTOP_PAGES = 16_384;

/** The worker: one connection, a PASSIVE checkpoint per request, its result sent back. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { timeout: 0 });
// This connection only checkpoints when asked.
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ busy: result.busy, log: result.log, checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  }
});
`;

export interface CheckpointResult {
  /** Whether another checkpoint held the lock (nothing was done). */
  busy: number;
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

/** A checkpoint that failed, of a worker that died or was closed: answered as one that found the lock taken. */
const NOT_DONE: CheckpointResult = { busy: 1, log: -1, checkpointed: -1 };

export class Checkpointer {
  private worker: Worker | null = null;
  private writes = 0;
  private requested = false;
  private closed = false;
  private readonly listeners: ((result: CheckpointResult) => void)[] = [];
  /** Checkpoints the worker has finished, for tests and the benchmark. */
  done = 0;

  constructor(private readonly file: string) {}

  /** A statement changed rows: every CHECKPOINT_EVERY of them, a checkpoint is asked for (one at a time). */
  wrote(): void {
    if (++this.writes < CHECKPOINT_EVERY || this.requested || this.closed) return;
    this.writes = 0;
    this.request();
  }

  /** Asks for a checkpoint now; resolves with its result (for tests), or as busy once closed. */
  checkpoint(): Promise<CheckpointResult> {
    if (this.closed) return Promise.resolve(NOT_DONE);
    return new Promise((resolve) => {
      this.listeners.push(resolve);
      if (!this.requested) this.request();
    });
  }

  close(): void {
    this.closed = true;
    this.worker?.postMessage('close');
    this.worker = null;
  }

  private request(): void {
    this.requested = true;
    this.start().postMessage('checkpoint');
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER, { eval: true, workerData: { driver: createRequire(__filename).resolve('better-sqlite3'), file: this.file } });
    // Never what keeps the process alive; a worker that dies leaves the backstop to the serving connection.
    worker.unref();
    const answered = (result: CheckpointResult) => {
      this.requested = false;
      for (const listener of this.listeners.splice(0)) listener(result);
    };
    worker.on('message', (result: CheckpointResult | { error: string }) => {
      if ('error' in result) return answered(NOT_DONE);
      this.done++;
      answered(result);
    });
    // A worker that died (or was closed) answers what was asked of it, and the next request starts another.
    const gone = () => {
      if (this.worker === worker) this.worker = null;
      answered(NOT_DONE);
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    this.worker = worker;
    return worker;
  }
}
