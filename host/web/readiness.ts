/**
 * The reference host's readiness for a load balancer (`GET /readyz`): whether the database answers
 * a trivial query within a second. `/healthz` says the process is up; this says it can serve.
 *
 * One probe query at a time, whatever the number of callers: a caller shares the query under way,
 * and waits for it at most a second of its own. A server that hangs keeps that one query waiting
 * (up to the host's database wait), never one more per probe: a load balancer polling every
 * second from several nodes would otherwise pile queries up on a server already in trouble.
 */
import { QueryTypes, type Sequelize } from 'sequelize';

/** How long a caller waits for the database's answer before it is told the database is unavailable. */
export const READINESS_WAIT_MS = 1_000;

export class DatabaseReadiness {
  private probe: Promise<boolean> | null = null;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly waitMs = READINESS_WAIT_MS,
  ) {}

  /** Whether the database answered the probe under way (or a new one) within `waitMs`. Never throws. */
  async ready(): Promise<boolean> {
    if (!this.probe) {
      const probe = this.sequelize.query('SELECT 1 AS ready', { type: QueryTypes.SELECT }).then(
        () => true,
        () => false,
      );
      this.probe = probe;
      void probe.then(() => {
        if (this.probe === probe) this.probe = null;
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((answer) => {
      timer = setTimeout(() => answer(false), this.waitMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.probe, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
