/**
 * Work the plugin runs off the request path — a timer's purge or sweep, a mail sent after the
 * request has answered — counted until it settles, so that a deactivation can wait for it: the
 * host closes the database right after deactivating the plugin (the reference host's `close()`),
 * and a run still under way would then meet a closed connection pool halfway through.
 *
 * The wait is bounded (`BACKGROUND_STOP_MS`): a run that hangs (a mail server that never answers)
 * must not keep a shutdown from ending. The bound is the reference host's grace for the requests
 * in flight (`shutdownGraceMs`, 10 s by default), so stuck runs cost a shutdown no more than a
 * stuck request does; the plugin cannot read the host's setting through the contract. It bounds
 * the whole deactivation, not each wait: each contribution waits for its own work, one after the
 * other, but all only until the one deadline the deactivation fixed as it began
 * (`DeactivationDeadline`), so several stuck runs (a lock mail, a ticket notification and a
 * recovery mail to a silent server) cost one bound, not one each.
 */

/** How long a deactivation waits in all for the background work under way before it goes on without it. */
export const BACKGROUND_STOP_MS = 10_000;

const ignore = (): void => undefined;

/**
 * The one deadline of a deactivation's waits, bound once in the plugin's container: the lifecycle
 * fixes it as a deactivation begins (`begin`) and lifts it when it has ended (`end`); each
 * contribution's `onDeactivate` waits for its work no longer than what is left of it (`leftMs`).
 */
export class DeactivationDeadline {
  private until: number | null = null;

  /** `boundMs`: how long a whole deactivation may wait for the background work (tests shorten it). */
  constructor(readonly boundMs: number = BACKGROUND_STOP_MS) {}

  /** From now, every wait of this deactivation ends within `boundMs`. */
  begin(): void {
    this.until = performance.now() + this.boundMs;
  }

  /** The deactivation has ended: a later wait gets the whole bound again. */
  end(): void {
    this.until = null;
  }

  /** How long a wait may still last: what is left of the deactivation's bound (0 once it has passed), or the whole bound outside one. */
  leftMs(): number {
    return this.until === null ? this.boundMs : Math.max(0, this.until - performance.now());
  }
}

export class BackgroundWork {
  private readonly pending = new Set<Promise<void>>();

  /** True while a run has not settled. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Starts `work` now and counts it until it settles; answers its own promise (the caller handles its failure). */
  run<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    const settled: Promise<void> = promise.then(ignore, ignore).finally(() => this.pending.delete(settled));
    this.pending.add(settled);
    return promise;
  }

  /** Resolves once every run started so far, and any started meanwhile, has settled (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** `settled()`, for at most `boundMs`: true when everything settled, false when it gave up waiting. */
  async stop(boundMs: number = BACKGROUND_STOP_MS): Promise<boolean> {
    if (this.pending.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.settled().then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), boundMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
