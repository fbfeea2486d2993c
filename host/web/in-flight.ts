/**
 * The requests the host is still answering, and the host's own runs off the request path (its
 * timers' session purge and registry sync: `background`), so that a shutdown can wait for them
 * before it closes the database (`ReferenceHost.close`), within the same bound.
 *
 * A request counts from its arrival until its handler answers (`res.end()`, which every answer
 * goes through: JSON, pages, redirects, error pages), also when its client has gone meanwhile:
 * the handler still reads and writes the database (a login finishing its password check and
 * writing the login history). A response that was already streaming when its client left (a
 * download) counts as done: what is left is only sending. While the host drains, every answer
 * carries `Connection: close`, so a kept-alive connection takes no further request.
 */
import type { RequestHandler } from 'express';

export class InFlightRequests {
  private count = 0;
  private runs = 0;
  private draining = false;
  private idle: (() => void)[] = [];

  /** The first middleware of the app. */
  readonly track: RequestHandler = (_req, res, next) => {
    this.count += 1;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      this.count -= 1;
      this.wake();
    };
    const end = res.end.bind(res) as (...args: unknown[]) => typeof res;
    res.end = ((...args: unknown[]) => {
      if (this.draining && !res.headersSent) res.setHeader('Connection', 'close');
      finish();
      return end(...args);
    }) as typeof res.end;
    res.once('close', () => {
      if (res.headersSent) finish();
    });
    next();
  };

  /** Requests in flight. */
  get size(): number {
    return this.count;
  }

  /** Background runs not settled yet. */
  get running(): number {
    return this.runs;
  }

  /** Counts `run` (a timer's work) until it settles; answers it unchanged (the caller handles its failure). */
  background<T>(run: Promise<T>): Promise<T> {
    this.runs += 1;
    const settle = () => {
      this.runs -= 1;
      this.wake();
    };
    run.then(settle, settle);
    return run;
  }

  private wake(): void {
    if (this.count === 0 && this.runs === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /**
   * From now on answers close their connections; resolves once no request is in flight and no
   * background run is under way, or after `boundMs` (true: all finished).
   */
  async drain(boundMs: number): Promise<boolean> {
    this.draining = true;
    if (this.count === 0 && this.runs === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((resolve) => this.idle.push(() => resolve(true))),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), boundMs);
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }
}
