/**
 * Where password hashes are computed: worker threads of their own, one per core, each at a lower
 * CPU priority than the rest of the host (nice 10 on Linux).
 *
 * A scrypt hash is ~50 ms of pure CPU. Run on libuv's thread pool at normal priority, a storm of
 * logins takes the cores from the event loop (and, on SQLite, the pool's threads from the
 * queries): the pages of customers already signed in wait behind hashes. Here, when the machine is
 * busy, the scheduler runs the event loop and the database first; the hashes get a smaller share
 * (not none: nice 19 left logins waiting for seconds under load) and all of any idle core. Where
 * thread priorities cannot be set (no `/proc/thread-self`), the workers still bound how many
 * hashes run at once and keep them off the pool the database uses.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** How many hashes run at once: one per core (further ones wait their turn). */
export const HASH_CONCURRENCY = Math.max(1, availableParallelism());
/**
 * A worker idle this long stops. Each holds an isolate and whatever its malloc arena kept of
 * scrypt's 16 MiB blocks (the reference host's RSS grew by about 8 MB with its first login): a
 * host with no logins for a while gives it back; the next login starts a worker again (some tens
 * of milliseconds).
 */
export const hashWorkerSettings = { idleMs: 30_000 };

export interface ScryptJob {
  readonly password: Buffer;
  readonly salt: Buffer;
  readonly length: number;
  readonly options: { readonly N: number; readonly r: number; readonly p: number; readonly maxmem: number };
}

/** CommonJS, evaluated as the worker's body: no loader, no TypeScript, nothing of the plugin's. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
const { readlinkSync } = require('node:fs');
const { setPriority } = require('node:os');
try {
  // On Linux the nice value belongs to the thread: /proc/thread-self names this one.
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, 10);
} catch {}
parentPort.on('message', (job) => {
  try {
    const key = scryptSync(job.password, job.salt, job.length, job.options);
    parentPort.postMessage({ key });
  } catch (error) {
    parentPort.postMessage({ error: error && error.message ? error.message : String(error) });
  }
});
`;

interface Pending {
  readonly job: ScryptJob;
  resolve(key: Buffer): void;
  reject(error: Error): void;
}

class HashWorker {
  private readonly worker: Worker;
  private current: Pending | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private retired = false;

  /** `done(this, lost)`: the worker is free again, or (`lost`) stopped and must be dropped. */
  constructor(private readonly done: (worker: HashWorker, lost: boolean) => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.unref();
    this.worker.on('message', (message: { key?: Uint8Array; error?: string }) => {
      const done = this.current;
      this.current = null;
      this.worker.unref();
      if (done) {
        if (message.key) done.resolve(Buffer.from(message.key));
        else done.reject(new Error(`scrypt failed: ${message.error ?? 'unknown error'}`));
      }
      this.done(this, false);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the hash worker stopped (exit code ${code})`)));
  }

  get busy(): boolean {
    return this.current !== null;
  }

  /** Stops the worker once it has been idle for `ms` (unless it gets work before). */
  retireWhenIdle(ms: number, retire: (worker: HashWorker) => void): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.retired = true;
      retire(this);
      void this.worker.terminate();
    }, ms);
    this.idleTimer.unref();
  }

  run(pending: Pending): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.current = pending;
    // Keeps the process alive while a hash is due (a command-line run awaits it); idle, it does not.
    this.worker.ref();
    this.worker.postMessage(pending.job);
  }

  private fail(error: Error): void {
    if (this.retired) return;
    const pending = this.current;
    this.current = null;
    pending?.reject(error);
    this.done(this, true);
  }
}

class HashPool {
  private workers: HashWorker[] = [];
  private readonly queue: Pending[] = [];

  derive(job: ScryptJob): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.workers.find((w) => !w.busy);
      if (!worker && this.workers.length < HASH_CONCURRENCY) {
        worker = new HashWorker((freed, lost) => {
          if (lost) this.workers = this.workers.filter((w) => w !== freed);
          this.dispatch();
        });
        this.workers.push(worker);
      }
      if (!worker) return;
      worker.run(this.queue.shift()!);
    }
    for (const worker of this.workers) {
      if (!worker.busy) worker.retireWhenIdle(hashWorkerSettings.idleMs, (retired) => (this.workers = this.workers.filter((w) => w !== retired)));
    }
  }

  /** Workers alive now (for tests). */
  get size(): number {
    return this.workers.length;
  }
}

const pool = new HashPool();

/** scrypt on the lower-priority hash workers; jobs beyond HASH_CONCURRENCY wait their turn. */
export function scryptOnHashWorker(job: ScryptJob): Promise<Buffer> {
  return pool.derive(job);
}

/** How many hash workers are alive (idle ones included). */
export function hashWorkersAlive(): number {
  return pool.size;
}
