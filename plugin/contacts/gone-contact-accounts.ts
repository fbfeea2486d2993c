/**
 * Portal accounts whose contact left the CRM while nobody heard it go at activation: a contact
 * deleted while the plugin was inactive (deactivated, or uninstalled with its data kept), or by a
 * host process that ran without it, or whose deletion's listener failed. Each such account is
 * removed as a deletion removes it (`removePortalAccount`: its sessions, links, reminder records
 * and login history too), so that it holds no login, no locked entry on the Check Business Portal
 * login page and no personal data for a contact nobody can see any more.
 *
 * What it costs a start: nothing it waits for — the sweep runs beside the host once activation
 * has returned, and deactivation stops it after its batch. The accounts are walked by their
 * `contact_id` index a batch at a time (keyset, never an offset; SQLite reads the covering index)
 * and each batch's contacts are looked up by id, one host query per batch — primary-key reads,
 * never a scan of the CRM's contacts. A CRM of 50,000 contacts and 5,000 portal users pays ten
 * such pairs of statements. Nothing tells the plugin which contacts went while it was not
 * listening (another process may have deleted them), so each activation looks; until the sweep
 * reaches it such an account cannot sign in anyway (`AccountEligibility` asks for the contact,
 * and the refusal reads as a wrong password's). A failure is logged: the next activation looks again.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { PortalAccountStore } from '../auth/portal-account-store.js';
import { PortalSessions } from '../auth/portal-sessions.js';
import { HostDatabase, HostLogger, HostRecords } from '../host-contract/index.js';
import { BackgroundWork, DeactivationDeadline } from '../lifecycle/background-work.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { toNumber } from '../lifecycle/sql-values.js';
import { removePortalAccount } from './account-removal.js';

/** Accounts read, and contacts looked up, per statement (well under SQLite's 999 bound parameters). */
export const GONE_CONTACTS_BATCH = 500;

@injectable()
export class GoneContactAccounts implements LifecycleContribution {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(DeactivationDeadline) private readonly deadline: DeactivationDeadline,
  ) {}

  /** The sweep of this activation, off the start's path (the host serves meanwhile). */
  private readonly running = new BackgroundWork();
  private stopping = false;

  async onActivate(): Promise<void> {
    this.stopping = false;
    void this.running.run(() => this.sweep());
  }

  /**
   * Stops the sweep after its current batch and waits for it: nothing of it runs past deactivation
   * (unless a batch hangs past the deactivation's `DeactivationDeadline`).
   */
  async onDeactivate(): Promise<void> {
    this.stopping = true;
    if (!(await this.running.stop(this.deadline.leftMs()))) this.logger.warn('Business Portal: deactivated while the sweep for accounts of contacts no longer in the CRM was still running');
  }

  private async sweep(): Promise<void> {
    try {
      const removed = await this.removeAll();
      if (removed > 0) this.logger.info('Business Portal: portal accounts of contacts no longer in the CRM removed', { removed });
    } catch (error) {
      this.logger.warn('Business Portal: looking for portal accounts of contacts no longer in the CRM failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Removes every account whose contact is gone; answers how many. */
  async removeAll(): Promise<number> {
    let removed = 0;
    let after = 0;
    while (!this.stopping) {
      const rows = await this.database.sequelize.query<{ contact_id: unknown }>(
        'SELECT contact_id FROM bp_portal_accounts WHERE contact_id > :after ORDER BY contact_id LIMIT :batch',
        { type: QueryTypes.SELECT, replacements: { after, batch: GONE_CONTACTS_BATCH } },
      );
      if (rows.length === 0) return removed;
      const ids = rows.map((row) => toNumber(row.contact_id));
      after = ids[ids.length - 1]!;
      const present = await this.records.query('Contacts', { where: { field: 'id', op: 'in', value: ids }, fields: [], limit: ids.length });
      const found = new Set(present.rows.map((contact) => contact.id));
      for (const contactId of ids) {
        if (found.has(contactId) || this.stopping) continue;
        const { removed: gone } = await removePortalAccount(this.database, this.accounts, this.sessions, contactId);
        if (gone) {
          removed += 1;
          this.logger.info('Business Portal: the portal account of a contact no longer in the CRM removed', { contactId });
        }
      }
      if (rows.length < GONE_CONTACTS_BATCH) return removed;
    }
    return removed;
  }
}
