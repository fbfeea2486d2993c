/**
 * Whether an INSERT lost a race to another INSERT of the same key. Usually a unique violation; on
 * MariaDB (InnoDB) also a deadlock when the key's row was deleted and not yet purged: each INSERT
 * takes a shared lock on the deleted row's remains to check for a duplicate, then waits for the
 * other's to write over it, and InnoDB rolls one of them back (1213 `ER_LOCK_DEADLOCK`, the whole
 * transaction) while the other goes in. Either way the key is the other's now, and the caller's
 * answer to a collision (read the winner's row, or run its transaction again) is the right one.
 * Only for a single INSERT or a transaction that is run again whole: a deadlock elsewhere in a
 * longer transaction is not a collision.
 */
import { DatabaseError, UniqueConstraintError } from 'sequelize';

const ER_LOCK_DEADLOCK = 1213;

export function isInsertCollision(error: unknown): boolean {
  if (error instanceof UniqueConstraintError) return true;
  if (!(error instanceof DatabaseError)) return false;
  const driver = (error.original ?? error.parent ?? {}) as { errno?: unknown; code?: unknown };
  return driver.errno === ER_LOCK_DEADLOCK || driver.code === 'ER_LOCK_DEADLOCK';
}
