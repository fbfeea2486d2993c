/**
 * Work that must follow a transaction's outcome: record events and the removal of a deleted
 * document's file once it has committed (`afterCommit`), the removal of a file written for it
 * when it has not (`unlessCommitted`). Sequelize 6's own `transaction.afterCommit` hooks are not
 * enough: they run in `commit()`'s `finally`, so also when the COMMIT itself fails (the write never
 * landed), and a savepoint's run when the savepoint is released, before the outer transaction
 * commits or rolls back; and Sequelize has no hook for a rollback. Here the transaction's `commit`
 * and `rollback` are wrapped once: the `afterCommit` queue runs only after the COMMIT succeeded, in
 * the order it was queued; the `unlessCommitted` queue when it rolls back or its COMMIT fails. A
 * savepoint hands both queues to its parent when it is released; rolled back, it drops the first
 * and runs the second.
 */
import type { Transaction } from 'sequelize';

type Work = () => Promise<void>;

interface Queues {
  readonly committed: Work[];
  readonly undone: Work[];
}

const queues = new WeakMap<Transaction, Queues>();

/** Runs `work` once `transaction` (or, for a savepoint, the transaction it belongs to) has committed; never otherwise. A throw fails `commit()`. */
export function afterCommit(transaction: Transaction, work: Work): void {
  queuesOf(transaction).committed.push(work);
}

/** Runs `work` when `transaction` rolls back or its COMMIT fails (for a savepoint, also when the transaction it belongs to does); a throw is ignored. */
export function unlessCommitted(transaction: Transaction, work: Work): void {
  queuesOf(transaction).undone.push(work);
}

async function undo(works: readonly Work[]): Promise<void> {
  for (const work of works) await work().catch(() => undefined);
}

function queuesOf(transaction: Transaction): Queues {
  const known = queues.get(transaction);
  if (known) return known;
  const own: Queues = { committed: [], undone: [] };
  queues.set(transaction, own);
  const state = transaction as Transaction & { readonly parent?: Transaction; readonly finished?: string };
  const commit = transaction.commit.bind(transaction);
  const rollback = transaction.rollback.bind(transaction);
  transaction.commit = async () => {
    // Committing a finished transaction is refused before any statement: its outcome stands.
    if (state.finished) return commit();
    queues.delete(transaction);
    try {
      await commit();
    } catch (error) {
      await undo(own.undone);
      throw error;
    }
    if (state.parent) {
      const parent = queuesOf(state.parent);
      parent.committed.push(...own.committed);
      parent.undone.push(...own.undone);
      return;
    }
    for (const next of own.committed) await next();
  };
  transaction.rollback = async () => {
    if (state.finished) return rollback();
    queues.delete(transaction);
    try {
      await rollback();
    } finally {
      await undo(own.undone);
    }
  };
  return own;
}
