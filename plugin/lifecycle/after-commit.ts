/**
 * Work that must follow a transaction's commit (a mail telling of what the transaction wrote).
 * Sequelize 6's own `transaction.afterCommit` hooks are not enough: they run in `commit()`'s
 * `finally`, so also when the COMMIT itself fails (nothing was written), and a savepoint's run when
 * the savepoint is released, before the outer transaction commits or rolls back. Here the
 * transaction's `commit` is wrapped once: its queue runs only after the COMMIT succeeded, in the
 * order it was queued; a savepoint hands its queue to its parent when it is released, and a
 * rolled-back one drops it. (The host may wrap the same transaction for its own work: each wrapper
 * calls the one before it, so both see the COMMIT's outcome.)
 */
import type { Transaction } from 'sequelize';

type Work = () => Promise<void>;

const queues = new WeakMap<Transaction, Work[]>();

/** Runs `work` once `transaction` (or, for a savepoint, the transaction it belongs to) has committed; never otherwise. */
export function afterCommit(transaction: Transaction, work: Work): void {
  const queued = queues.get(transaction);
  if (queued) {
    queued.push(work);
    return;
  }
  const queue = [work];
  queues.set(transaction, queue);
  const commit = transaction.commit.bind(transaction);
  transaction.commit = async () => {
    await commit();
    queues.delete(transaction);
    const parent = (transaction as Transaction & { readonly parent?: Transaction }).parent;
    if (parent) {
      for (const next of queue) afterCommit(parent, next);
      return;
    }
    for (const next of queue) await next();
  };
}
