/**
 * Reminders of the end of support (SPEC §3): a portal user gets one email a month before the
 * support end date and one a week before. A sweep runs at activation and then every hour (an
 * `unref()`ed timer, stopped at deactivation) and sends what is due:
 *
 * - the week reminder from 7 days before the end date until the end date itself;
 * - the month reminder from one calendar month before until the week reminder is due (a sweep
 *   that missed the exact day still sends it; one that starts late sends only the nearer one).
 *
 * Each reminder is sent once even when several host processes sweep at the same moment: the
 * sweep first inserts its row in `bp_support_reminders`, whose unique key (contact, end date,
 * kind) lets only one insert win, and mails only when its own insert won. When the mail fails,
 * the row is removed so that the next sweep tries again. A reminder the host keeps to try again
 * is not sent once the support has ended (`discardAfter`: the next day's midnight in the CRM's
 * time zone).
 *
 * The mail says the end date as the contact's language writes a day ("8 December 2026",
 * "8 dicembre 2026"): it is a day in the CRM's time zone, so it is formatted as a calendar day,
 * never moved through a time zone.
 */
import { inject, injectable } from 'inversify';
import { QueryTypes } from 'sequelize';
import { isInsertCollision } from '../lifecycle/insert-collision.js';
import { startOfDayIn } from '../access/wall-clock.js';
import { ACCOUNTS_TABLE } from '../auth/portal-account-store.js';
import { toDateOnly, todayIn, type DateOnly } from '../auth/support-period.js';
import { HostDatabase, HostLogger, HostRegional, type LanguageCode } from '../host-contract/index.js';
import { BackgroundWork, DeactivationDeadline } from '../lifecycle/background-work.js';
import type { LifecycleContribution } from '../lifecycle/contributions.js';
import { toNumber } from '../lifecycle/sql-values.js';
import { PortalMailer } from '../notifications/portal-mailer.js';

export const REMINDERS_TABLE = 'bp_support_reminders';
export const REMINDER_SWEEP_INTERVAL_MS = 60 * 60 * 1000;
export const WEEK_REMINDER_DAYS = 7;

export type ReminderKind = 'month' | 'week';

export interface SweepResult {
  /** Reminders this sweep sent (not those another process or an earlier sweep sent). */
  readonly sent: readonly { readonly contactId: number; readonly kind: ReminderKind; readonly supportEndDate: DateOnly }[];
  readonly failed: number;
}

export const SupportReminders = Symbol.for('business-portal.contacts.SupportReminders');
export interface SupportReminders {
  /** Sends the reminders due on `today` (`YYYY-MM-DD`; today in the CRM's time zone when omitted). */
  sweep(today?: DateOnly): Promise<SweepResult>;
}

function utc(day: DateOnly): Date {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d));
}

/** A support day as a language writes it, without a time and without a time zone shift. */
export function formatSupportDay(day: DateOnly, language: LanguageCode): string {
  return new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' }).format(utc(day));
}

export function addDays(day: DateOnly, days: number): DateOnly {
  const date = utc(day);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** The same day `months` later or earlier, clamped to the month's last day (31 March − 1 month = 28/29 February). */
export function addMonths(day: DateOnly, months: number): DateOnly {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const lastDay = new Date(Date.UTC(y, m - 1 + months + 1, 0)).getUTCDate();
  return new Date(Date.UTC(y, m - 1 + months, Math.min(d, lastDay))).toISOString().slice(0, 10);
}

/** Which reminder is due on `today` for a support period ending on `end`, if any. */
export function reminderDue(today: DateOnly, end: DateOnly): ReminderKind | null {
  if (today > end) return null;
  if (today >= addDays(end, -WEEK_REMINDER_DAYS)) return 'week';
  if (today >= addMonths(end, -1)) return 'month';
  return null;
}

@injectable()
export class DatabaseSupportReminders implements SupportReminders, LifecycleContribution {
  private timer: NodeJS.Timeout | null = null;
  private readonly running = new BackgroundWork();

  constructor(
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRegional) private readonly regional: HostRegional,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(PortalMailer) private readonly mailer: PortalMailer,
    @inject(DeactivationDeadline) private readonly deadline: DeactivationDeadline,
  ) {}

  async onActivate(): Promise<void> {
    await this.scheduledSweep();
    this.timer = setInterval(() => void this.scheduledSweep(), REMINDER_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async onDeactivate(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Let a sweep under way finish before the host closes the database (for a while: until the deactivation's `DeactivationDeadline`).
    if (!(await this.running.stop(this.deadline.leftMs()))) this.logger.warn('Business Portal: deactivated while a support-reminder sweep was still running');
  }

  async sweep(today: DateOnly = todayIn(this.regional.timeZone())): Promise<SweepResult> {
    // The latest end date whose month reminder is due today: a month on, or — on a month's last
    // day — the next month's last day (30 November reminds of 31 December, as `reminderDue` says).
    const tomorrow = addDays(today, 1);
    const latestEnd = tomorrow.endsWith('-01') ? addDays(addMonths(tomorrow, 1), -1) : addMonths(today, 1);
    // Reminders already recorded are left out here (the kind due is `reminderDue`'s): each hourly
    // sweep then reserves only what is new instead of failing an insert per reminded account.
    const rows = await this.database.sequelize.query<{ contact_id: unknown; support_end_date: unknown }>(
      `SELECT a.contact_id, a.support_end_date FROM ${ACCOUNTS_TABLE} a
        WHERE a.portal_enabled = :yes AND a.support_end_date IS NOT NULL AND a.support_end_date >= :today AND a.support_end_date <= :latestEnd
          AND NOT EXISTS (SELECT 1 FROM ${REMINDERS_TABLE} r
            WHERE r.contact_id = a.contact_id AND r.support_end_date = a.support_end_date
              AND r.kind = CASE WHEN a.support_end_date <= :weekEnd THEN 'week' ELSE 'month' END)
        ORDER BY a.contact_id`,
      { type: QueryTypes.SELECT, replacements: { yes: true, today, latestEnd, weekEnd: addDays(today, WEEK_REMINDER_DAYS) } },
    );
    const sent: { contactId: number; kind: ReminderKind; supportEndDate: DateOnly }[] = [];
    let failed = 0;
    for (const row of rows) {
      const contactId = toNumber(row.contact_id);
      const end = toDateOnly(row.support_end_date);
      const kind = end ? reminderDue(today, end) : null;
      if (!end || !kind) continue;
      if (!(await this.reserve(contactId, end, kind))) continue;
      try {
        // The day in every language of the CRM; the template picks the mail's (the ISO day for another).
        const languages = new Set([...this.regional.languages().map((l) => l.code), this.regional.defaultLanguage(), 'en']);
        const endDay = Object.fromEntries([...languages].map((language) => [language, formatSupportDay(end, language)]));
        // Kept by the host to try again, it is given up when the support has ended: "ends soon" read
        // after the end is wrong, and the customer can no longer sign in anyway.
        const discardAfter = startOfDayIn(addDays(end, 1), this.regional.timeZone());
        const outcome = await this.mailer.sendToContact('supportEndingReminder', contactId, { portal: { supportEndDate: end }, supportEndDay: endDay }, { discardAfter });
        // Kept by the host to try again is taken for delivery: sending it again later would mail it twice.
        if (outcome !== 'sent' && outcome !== 'kept_for_retry') {
          // No usable email (or template) now: free the reservation, a later sweep may find one.
          await this.release(contactId, end, kind);
          continue;
        }
        sent.push({ contactId, kind, supportEndDate: end });
        this.logger.info('Business Portal: support-ending reminder sent', { contactId, kind, supportEndDate: end });
      } catch (error) {
        failed += 1;
        await this.release(contactId, end, kind);
        this.logger.error('Business Portal: a support-ending reminder could not be sent; it will be tried again', {
          contactId,
          kind,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
    return { sent, failed };
  }

  /** Inserts the reminder's row; false when another sweep (here or in another process) already has it. */
  private async reserve(contactId: number, end: DateOnly, kind: ReminderKind): Promise<boolean> {
    try {
      await this.database.sequelize.query(
        `INSERT INTO ${REMINDERS_TABLE} (contact_id, support_end_date, kind, sent_at) VALUES (:contactId, :end, :kind, :now)`,
        { type: QueryTypes.INSERT, replacements: { contactId, end, kind, now: new Date() } },
      );
      return true;
    } catch (error) {
      if (isInsertCollision(error)) return false;
      throw error;
    }
  }

  private async release(contactId: number, end: DateOnly, kind: ReminderKind): Promise<void> {
    await this.database.sequelize.query(`DELETE FROM ${REMINDERS_TABLE} WHERE contact_id = :contactId AND support_end_date = :end AND kind = :kind`, {
      type: QueryTypes.BULKDELETE,
      replacements: { contactId, end, kind },
    });
  }

  private async scheduledSweep(): Promise<void> {
    if (this.running.busy) return;
    try {
      await this.running.run(() => this.sweep());
    } catch (error) {
      this.logger.warn('Business Portal: the support-reminder sweep failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }
}
