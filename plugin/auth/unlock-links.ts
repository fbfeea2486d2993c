/**
 * Single-use unlock links (`bp_unlock_links`) for locked portal accounts: the token has 256
 * random bits, only its SHA-256 is stored, it is valid for `UNLOCK_LINK_TTL_MINUTES`, and it dies
 * when it is used, when the lock ends any other way (an admin's unlock, another link), when the
 * contact's email changes (it went to the old address: `ContactRecordListeners`), or when it
 * expires. Redeeming marks the link used and unlocks the account in one transaction, with
 * conditional updates, so two clicks racing each other unlock once.
 *
 * A link unlocks only the lock it was made for: one made at or after the account's `locked_at`.
 * The lock mail makes its link in the background, after the lock: an unlock that overtakes it
 * revokes the links there are, and the link made after that must not unlock a later lock.
 */
import { createHash, randomBytes } from 'node:crypto';
import { inject, injectable } from 'inversify';
import { QueryTypes, type Transaction } from 'sequelize';
import { HostDatabase } from '../host-contract/index.js';
import { toNumber } from '../lifecycle/sql-values.js';
import type { AccountLockListener } from './account-lock-listener.js';
import { Lockout } from './lockout.js';
import { ACCOUNTS_TABLE } from './portal-account-store.js';

export const UNLOCK_LINKS_TABLE = 'bp_unlock_links';
export const UNLOCK_LINK_TTL_MINUTES = 60;

/** 32 random bytes in base64url: 43 characters. Anything else is refused before any query. */
const tokenShape = /^[A-Za-z0-9_-]{43}$/;

export function isUnlockTokenShaped(token: unknown): token is string {
  return typeof token === 'string' && tokenShape.test(token);
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export const UnlockLinks = Symbol.for('business-portal.auth.UnlockLinks');
export interface UnlockLinks {
  /** A new token for a locked contact (the only place the plain token exists). */
  issue(contactId: number, options?: { readonly transaction?: Transaction }): Promise<string>;
  /** The contact a token would unlock now (unused, unexpired, not revoked, account locked since before the link was made), or null. Changes nothing. */
  inspect(token: unknown): Promise<number | null>;
  /**
   * Claims a live link for redemption inside `transaction`: marks it used and answers its
   * contact, or null when no live link has this token, or its account is not under the lock the
   * link was made for (then nothing changed).
   */
  claim(token: unknown, transaction: Transaction): Promise<number | null>;
  /** Marks every live link of the contact dead (the lock ended another way). */
  revokeFor(contactId: number, options?: { readonly transaction?: Transaction }): Promise<number>;
}

/**
 * The links' SQL. Also a lock listener: however a lock ends, the links sent for it die. The
 * redemption, which needs the lockout too, is `LinkUnlocker` (kept apart: the lockout calls its
 * listeners, so a listener cannot depend on the lockout).
 */
@injectable()
export class SequelizeUnlockLinks implements UnlockLinks, AccountLockListener {
  constructor(@inject(HostDatabase) private readonly database: HostDatabase) {}

  async issue(contactId: number, options: { readonly transaction?: Transaction } = {}): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = new Date();
    await this.database.sequelize.query(
      `INSERT INTO ${UNLOCK_LINKS_TABLE} (contact_id, token_hash, created_at, expires_at, used_at, revoked_at)
       VALUES (:contactId, :hash, :now, :expires, NULL, NULL)`,
      {
        type: QueryTypes.INSERT,
        transaction: options.transaction,
        replacements: { contactId, hash: hashToken(token), now, expires: new Date(now.getTime() + UNLOCK_LINK_TTL_MINUTES * 60_000) },
      },
    );
    return token;
  }

  async inspect(token: unknown): Promise<number | null> {
    if (!isUnlockTokenShaped(token)) return null;
    const rows = await this.database.sequelize.query<{ contact_id: unknown }>(
      `SELECT l.contact_id FROM ${UNLOCK_LINKS_TABLE} l
         JOIN ${ACCOUNTS_TABLE} a ON a.contact_id = l.contact_id
        WHERE l.token_hash = :hash AND l.used_at IS NULL AND l.revoked_at IS NULL AND l.expires_at > :now
          AND a.locked_at IS NOT NULL AND a.locked_at <= l.created_at`,
      { type: QueryTypes.SELECT, replacements: { hash: hashToken(token), now: new Date() } },
    );
    return rows[0] ? toNumber(rows[0].contact_id) : null;
  }

  async claim(token: unknown, transaction: Transaction): Promise<number | null> {
    if (!isUnlockTokenShaped(token)) return null;
    const hash = hashToken(token);
    const claimed = toNumber(
      await this.database.sequelize.query(
        `UPDATE ${UNLOCK_LINKS_TABLE} SET used_at = :now
          WHERE token_hash = :hash AND used_at IS NULL AND revoked_at IS NULL AND expires_at > :now
            AND EXISTS (SELECT 1 FROM ${ACCOUNTS_TABLE} a
                         WHERE a.contact_id = ${UNLOCK_LINKS_TABLE}.contact_id AND a.locked_at IS NOT NULL AND a.locked_at <= ${UNLOCK_LINKS_TABLE}.created_at)`,
        { type: QueryTypes.BULKUPDATE, replacements: { hash, now: new Date() }, transaction },
      ),
    );
    if (claimed !== 1) return null;
    const rows = await this.database.sequelize.query<{ contact_id: unknown }>(`SELECT contact_id FROM ${UNLOCK_LINKS_TABLE} WHERE token_hash = :hash`, {
      type: QueryTypes.SELECT,
      replacements: { hash },
      transaction,
    });
    return rows[0] ? toNumber(rows[0].contact_id) : null;
  }

  async revokeFor(contactId: number, options: { readonly transaction?: Transaction } = {}): Promise<number> {
    return toNumber(
      await this.database.sequelize.query(
        `UPDATE ${UNLOCK_LINKS_TABLE} SET revoked_at = :now WHERE contact_id = :contactId AND used_at IS NULL AND revoked_at IS NULL`,
        { type: QueryTypes.BULKUPDATE, replacements: { contactId, now: new Date() }, transaction: options.transaction },
      ),
    );
  }

  /** However the locks ended, the links sent for them die with them: one statement for all. */
  async accountsUnlocked(contactIds: readonly number[], options: { readonly transaction?: Transaction }): Promise<void> {
    if (contactIds.length === 0) return;
    await this.database.sequelize.query(
      `UPDATE ${UNLOCK_LINKS_TABLE} SET revoked_at = :now WHERE contact_id IN (:contactIds) AND used_at IS NULL AND revoked_at IS NULL`,
      { type: QueryTypes.BULKUPDATE, replacements: { contactIds: [...contactIds], now: new Date() }, transaction: options.transaction },
    );
  }
}

export const LinkUnlocker = Symbol.for('business-portal.auth.LinkUnlocker');
export interface LinkUnlocker {
  /** Uses a link: true when it unlocked its account; false (and nothing changed) for any dead or unknown link. */
  redeem(token: unknown): Promise<boolean>;
}

@injectable()
export class TransactionalLinkUnlocker implements LinkUnlocker {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(UnlockLinks) private readonly links: UnlockLinks,
    @inject(Lockout) private readonly lockout: Lockout,
  ) {}

  async redeem(token: unknown): Promise<boolean> {
    if (!isUnlockTokenShaped(token)) return false;
    const rollback = new Error('unlock link not redeemable');
    try {
      return await this.database.sequelize.transaction(async (transaction) => {
        const contactId = await this.links.claim(token, transaction);
        if (contactId === null) return false;
        // The account is no longer locked: the claim is undone with the transaction.
        if (!(await this.lockout.unlockByLink(contactId, { transaction }))) throw rollback;
        return true;
      });
    } catch (error) {
      if (error === rollback) return false;
      throw error;
    }
  }
}
