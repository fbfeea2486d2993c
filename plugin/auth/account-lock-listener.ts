/**
 * The hook by which other capabilities learn that a portal account was locked or unlocked (the
 * lock email with its unlock link, for one). Multi-bound: any number of listeners, none at all
 * included. `Lockout` calls them after the change is stored; exactly once per lock, from the one
 * request whose update set it.
 *
 * A listener must return quickly and must not fail the caller: a lock happens inside a refused
 * login, whose answer may not take longer than any other refusal (no timing oracle). Slow work
 * (sending mail) belongs in the background. Errors thrown anyway are logged and swallowed.
 */
import type { Transaction } from 'sequelize';

export interface LockedAccountRef {
  readonly contactId: number;
  readonly email: string;
}

export const AccountLockListener = Symbol.for('business-portal.auth.AccountLockListener');
export interface AccountLockListener {
  /** The account has just been locked after too many failures. */
  accountLocked?(account: LockedAccountRef): Promise<void>;
  /**
   * These accounts' locks have just been cleared (by an admin — a whole page of them at once —, by
   * an unlock link, or for new access details): once per unlock, with every contact it unlocked.
   * Called inside the unlocking transaction, so that related state changes with the unlock; a
   * listener answers in a constant number of statements, however many contacts there are.
   */
  accountsUnlocked?(contactIds: readonly number[], options: { readonly transaction?: Transaction }): Promise<void>;
}
