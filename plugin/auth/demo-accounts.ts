/**
 * Demo portal users (only the reference host's demo calls this; real installs never do): each
 * given contact becomes a portal user on the Default profile (a later run keeps the profile an
 * admin gave it since), supported from today to one year later, with a known password that needs
 * no change at first login. Idempotent: a second run changes nothing (the password is rehashed
 * only when the stored one no longer matches). When a
 * rerun puts the known password back, the account's sessions end, as after any password reset.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { HostDatabase, HostRecords, HostRegional } from '../host-contract/index.js';
import { toNumber } from '../lifecycle/sql-values.js';
import { PasswordHasher } from './password-hasher.js';
import { PortalSessions } from './portal-sessions.js';
import { PortalAccountStore, normalizeEmail } from './portal-account-store.js';
import { addYears, todayIn, withinSupport } from './support-period.js';

export const DemoAccountSeeder = Symbol.for('business-portal.auth.DemoAccountSeeder');
export interface DemoAccountSeeder {
  seed(customers: readonly { readonly contactId: number; readonly password: string }[]): Promise<void>;
}

@injectable()
export class PortalDemoAccountSeeder implements DemoAccountSeeder {
  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostRegional) private readonly regional: HostRegional,
    @inject(PortalAccountStore) private readonly accounts: PortalAccountStore,
    @inject(PasswordHasher) private readonly hasher: PasswordHasher,
    @inject(PortalSessions) private readonly sessions: PortalSessions,
  ) {}

  async seed(customers: readonly { readonly contactId: number; readonly password: string }[]): Promise<void> {
    const profileId = await this.defaultProfileId();
    const today = todayIn(this.regional.timeZone());
    for (const { contactId, password } of customers) {
      const contact = await this.records.get('Contacts', contactId);
      if (!contact) throw new Error(`Demo portal user: contact ${contactId} does not exist`);
      const email = typeof contact.values.email === 'string' ? normalizeEmail(contact.values.email) : '';
      if (email === '') throw new Error(`Demo portal user: contact ${contactId} has no email`);
      const language = typeof contact.values.language === 'string' && contact.values.language !== '' ? contact.values.language : null;

      // Hash outside the transaction: scrypt takes tens of milliseconds and SQLite has one writer.
      const existing = await this.accounts.findByContactId(contactId);
      const storedHash = existing ? await this.accounts.passwordHash(contactId) : null;
      const newHash = storedHash && (await this.hasher.verify(password, storedHash)) ? null : await this.hasher.hash(password);

      await this.database.sequelize.transaction(async (transaction) => {
        if (!existing) {
          await this.accounts.create(
            {
              contactId,
              email,
              portalEnabled: true,
              profileId,
              supportStartDate: today,
              supportEndDate: addYears(today, 1),
              language,
              passwordHash: newHash,
              mustChangePassword: false,
            },
            { transaction },
          );
          return;
        }
        // Keep a support period that still covers today, and a profile an admin chose, so that reruns leave the account as it is.
        const kept = existing.profileId ?? profileId;
        const covered = existing.supportStartDate !== null && withinSupport(today, existing.supportStartDate, existing.supportEndDate);
        const unchanged =
          covered &&
          newHash === null &&
          existing.email === email &&
          existing.portalEnabled &&
          existing.profileId === kept &&
          existing.language === language &&
          !existing.mustChangePassword;
        if (unchanged) return;
        await this.accounts.update(
          contactId,
          {
            email,
            portalEnabled: true,
            profileId: kept,
            language,
            mustChangePassword: false,
            ...(covered ? {} : { supportStartDate: today, supportEndDate: addYears(today, 1) }),
          },
          { transaction },
        );
        if (newHash) await this.accounts.setPassword(contactId, newHash, { mustChange: false, transaction });
        // A new password ends the sessions, and so does a renewal of a support period that had
        // ended: those sessions ended with it, whether or not a request came to end them.
        if (newHash || !covered) await this.sessions.endAllFor(contactId, { transaction });
      });
    }
  }

  private async defaultProfileId(): Promise<number> {
    const rows = await this.database.sequelize.query<{ id: unknown }>('SELECT id FROM bp_profiles WHERE is_default = :yes ORDER BY id ASC', {
      type: QueryTypes.SELECT,
      replacements: { yes: true },
    });
    if (!rows[0]) throw new Error('Demo portal users: the Default profile is missing (install the plugin first)');
    return toNumber(rows[0].id);
  }
}
