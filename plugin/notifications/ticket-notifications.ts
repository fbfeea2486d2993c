/**
 * Ticket notifications, from the host's record events:
 * - a ticket created from the portal (`record.created` on HelpDesk by a contact) mails the
 *   customer (the profile's `newTicket` template, in their language; not when the portal does not
 *   show them that ticket) and the ticket's owner (the owner user, or every active member of the
 *   owner group, in each user's language);
 * - a public comment of a CRM user on a ticket (`comment.added`) mails the ticket's contact when
 *   they are a portal user with the portal on (the `ticketReply` template). Internal comments,
 *   and comments written from the portal, never mail the customer.
 *
 * What a customer's mail says goes through the access layer (`PortalAccess.forSession`, in the
 * language the mail is written in: `PortalMailer.mailLanguage`): the
 * ticket's merge fields are the ticket as the customer may see it on the portal (`record()`:
 * profile-hidden and rule-hidden fields are absent, references out of scope have no label), and a
 * reply is mailed only when the access layer would show that comment to the customer.
 *
 * Mail never breaks the write that caused it: the host calls listeners after its commit and waits
 * for them, so the work is detached from the caller (the request answers at once); failures are
 * logged (no addresses, no secrets) and the next event is handled as usual.
 *
 * Idempotency. The reference host gives each process only the events of the writes it made, so
 * two processes never see the same event; but the contract does not promise it — a host may fan
 * events out to every process (a message bus) or redeliver one after a failure, and a listener may
 * be registered twice by a faulty activation. A per-process memory of handled events would not
 * hold across processes or restarts, so every event claims a row of `bp_notification_deliveries`
 * under a unique key (`newTicket:HelpDesk:<id>`, `ticketReply:comment:<id>`) before anything is
 * sent: whoever inserts it sends, every later delivery finds it and sends nothing. The claim
 * comes first, so a mail that fails after it is not retried (at most once: a customer never gets
 * the same notification twice).
 */
import { inject, injectable, optional } from 'inversify';
import { QueryTypes } from 'sequelize';
import { isInsertCollision } from '../lifecycle/insert-collision.js';
import {
  HostDatabase,
  HostHttp,
  HostLogger,
  HostModuleRegistry,
  HostRecords,
  HostRegional,
  type Comment,
  type CrmRecord,
  type FieldValue,
  type OwnerRef,
  type RecordEvents,
  type Unsubscribe,
} from '../host-contract/index.js';
import { AccessError } from '../access/access-errors.js';
import { PortalAccess, type PortalAccessContext } from '../access/portal-access.js';
import { PortalAccountStore, type PortalAccount } from '../auth/portal-account-store.js';
import { Translator } from '../i18n/translator.js';
import { formatDateTime, readingOptions } from '../i18n/field-values.js';
import { storedLocale } from '../i18n/request-language.js';
import { BackgroundWork, DeactivationDeadline } from '../lifecycle/background-work.js';
import { PluginSettings, type LifecycleContribution } from '../lifecycle/contributions.js';
import { PortalMailer, mailFieldValues, oneLine } from './portal-mailer.js';
import { personName } from '../access/record-names.js';
import { clipped } from '../access/field-input.js';
import { referenceFieldTo } from '../access/record-scope.js';

export const TICKETS_MODULE = 'HelpDesk';
const DELIVERIES = 'bp_notification_deliveries';

type MergeFields = Record<string, FieldValue>;

function text(value: FieldValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

/** What a log line says of a failure: the error's message, cut short (mail servers' answers hold no secrets of ours). */
function errorText(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).replace(/[\r\n]+/g, ' ').slice(0, 300);
}

/** The longest title the owner mail's subject holds, in characters. */
const SUBJECT_TITLE_LENGTH = 150;

/** The title as the owner mail's subject shows it: whole, or cut at a character and ended with `…`. */
function subjectTitle(title: string): string {
  const shown = clipped(title, SUBJECT_TITLE_LENGTH);
  return shown === title ? title : `${shown.trimEnd()}…`;
}

export const TicketNotifications = Symbol.for('business-portal.notifications.TicketNotifications');
export interface TicketNotifications {
  /** Resolves when every notification started so far has been sent or has failed (tests, shutdown). */
  settled(): Promise<void>;
}

@injectable()
export class EventTicketNotifications implements TicketNotifications, LifecycleContribution {
  private unsubscribes: Unsubscribe[] = [];
  private readonly pending = new BackgroundWork();

  constructor(
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostModuleRegistry) private readonly registry: HostModuleRegistry,
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRegional) private readonly regional: HostRegional,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(Translator) private readonly translator: Translator,
    @inject(PortalMailer) private readonly mailer: PortalMailer,
    @inject(DeactivationDeadline) private readonly deadline: DeactivationDeadline,
    @inject(PortalAccess) @optional() private readonly access: PortalAccess | undefined,
    @inject(PortalAccountStore) @optional() private readonly accounts: PortalAccountStore | undefined,
  ) {}

  async onActivate(): Promise<void> {
    // Without the access layer and portal accounts there is no customer to notify.
    if (!this.access || !this.accounts) return;
    this.unsubscribes.push(
      this.records.on('record.created', (payload) => this.detach('newTicket', () => this.ticketCreated(payload))),
      this.records.on('comment.added', (payload) => this.detach('ticketReply', () => this.commentAdded(payload.comment))),
    );
  }

  async onDeactivate(): Promise<void> {
    for (const off of this.unsubscribes) off();
    this.unsubscribes = [];
    // The mails under way finish before the host closes the database (for a while: until the deactivation's `DeactivationDeadline`).
    if (!(await this.pending.stop(this.deadline.leftMs()))) this.logger.warn('Business Portal: deactivated while a ticket notification was still being sent');
  }

  async settled(): Promise<void> {
    await this.pending.settled();
  }

  /** Runs `work` apart from the host's event loop: the write that raised the event never waits for it nor fails by it. */
  private detach(kind: string, work: () => Promise<void>): void {
    void this.pending.run(async () => {
      try {
        await work();
      } catch (error) {
        this.logger.error('Business Portal: a ticket notification failed', { kind, error: errorText(error) });
      }
    });
  }

  // ───────────────────────────────── new ticket ─────────────────────────────────

  private async ticketCreated({ record, actor }: RecordEvents['record.created']): Promise<void> {
    if (record.module !== TICKETS_MODULE || actor.kind !== 'contact') return;
    if (!(await this.claim(`newTicket:${TICKETS_MODULE}:${record.id}`))) return;
    const contactId = actor.contactId;
    const customer = await this.customer(contactId);
    let owner: OwnerRef | null = record.owner;

    if (customer) {
      await this.isolated('newTicket', contactId, async () => {
        // Values in the language the mail is written in (the template's version), labels and dates alike.
        const context = await this.access!.forSession(customer, await this.mailer.mailLanguage('newTicket', contactId));
        owner ??= context.policy.owner;
        const ticket = await this.visibleTicket(context, record.id, storedLocale(customer.contact.values.language, context.language));
        // A ticket the portal does not show them: a mail would have no number, title or link to follow.
        if (!ticket) {
          this.logger.info('Business Portal: the customer cannot open their new ticket on the portal; no new-ticket mail', { contactId, ticketId: record.id });
          return;
        }
        await this.mailer.sendToContact('newTicket', contactId, { ticket });
      });
    }

    if (owner) {
      const to = owner;
      // The owner is told even when the customer's mail failed (and the other way round).
      await this.isolated('newTicketToOwner', contactId, async () => {
        const contact = customer?.contact ?? (await this.records.get('Contacts', contactId));
        const fresh = (await this.records.get(TICKETS_MODULE, record.id)) ?? record;
        const name = contact ? oneLine(personName(contact.values)) : '';
        const title = oneLine(text(fresh.values.ticket_title)) || `#${fresh.id}`;
        await this.mailer.sendToOwner('newTicketToOwner', to, contactId, {
          // The owner is a CRM user, who sees the whole ticket in the CRM: these are its own values.
          ticket: {
            id: fresh.id,
            ticket_no: fresh.values.ticket_no,
            ticket_title: typeof fresh.values.ticket_title === 'string' ? oneLine(fresh.values.ticket_title) : fresh.values.ticket_title,
            status: fresh.values.status,
            priority: fresh.values.priority,
            description: fresh.values.description,
          },
          // How the CRM labels the stored picklist values, per language: each owner reads their own.
          labels: { ...this.picklistLabels('status', fresh.values.status), ...this.picklistLabels('priority', fresh.values.priority) },
          contact: { id: contactId, name: name || `#${contactId}`, email: text(contact?.values.email) },
          // A title cut for the subject says so; the mail itself holds all of it.
          subject: { title: subjectTitle(title) },
        });
      });
    }
  }

  /** A ticket picklist value's labels by language, as `<field>_<language>` (`status_it: 'Aperto'`); none when the host labels none. */
  private picklistLabels(field: string, value: FieldValue | undefined): Record<string, string> {
    if (typeof value !== 'string' || value === '') return {};
    const labels: Readonly<Record<string, string | undefined>> = this.registry.module(TICKETS_MODULE)?.fields.find((f) => f.name === field)?.picklistLabels?.[value] ?? {};
    return Object.fromEntries(Object.entries(labels).flatMap(([language, label]) => (label === undefined ? [] : [[`${field}_${language}`, label]])));
  }

  /** One mail's work: a failure is logged and does not stop the other mails of the event. */
  private async isolated(kind: string, contactId: number, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.logger.error('Business Portal: a ticket notification could not be sent', { kind, contactId, error: errorText(error) });
    }
  }

  // ─────────────────────────────────── replies ───────────────────────────────────

  private async commentAdded(comment: Comment): Promise<void> {
    // Internal comments stay in the CRM; the customer's own comments are not mailed back to them.
    if (comment.module !== TICKETS_MODULE || comment.internal || comment.author.kind !== 'user') return;
    const ticket = await this.records.get(TICKETS_MODULE, comment.recordId);
    const contactField = this.contactFieldOfTickets();
    const contactId = ticket && contactField ? ticket.values[contactField] : null;
    if (typeof contactId !== 'number') return;
    const customer = await this.customer(contactId);
    if (!customer) return;

    const context = await this.access!.forSession(customer, await this.mailer.mailLanguage('ticketReply', contactId));
    try {
      // A comment the portal shows: public (above), on a ticket in the customer's scope, with the
      // comments tool — checked on the ticket, not by reading all its comments (thousands, on an old one).
      await context.requireRecord(TICKETS_MODULE, comment.recordId, 'comments');
    } catch (error) {
      if (error instanceof AccessError) return;
      throw error;
    }
    const locale = storedLocale(customer.contact.values.language, context.language);
    const merged = await this.visibleTicket(context, comment.recordId, locale);
    if (!merged) return;
    if (!(await this.claim(`ticketReply:comment:${comment.id}`))) return;
    await this.isolated('ticketReply', contactId, () => this.mailer.sendToContact('ticketReply', contactId, {
      ticket: merged,
      comment: { id: comment.id, body: comment.body, author: comment.authorName, createdAt: this.dateTime(comment.createdAt, locale) },
    }).then(() => undefined));
  }

  // ─────────────────────────────────── shared ───────────────────────────────────

  /** A contact with an enabled portal account. */
  private async customer(contactId: number): Promise<{ account: PortalAccount; contact: CrmRecord } | null> {
    const account = await this.accounts!.findByContactId(contactId);
    if (!account?.portalEnabled) return null;
    const contact = await this.records.get('Contacts', contactId);
    if (!contact) return null;
    return { account, contact };
  }

  /** The reference field of tickets that names their contact. */
  private contactFieldOfTickets(): string | undefined {
    return referenceFieldTo(this.registry, TICKETS_MODULE, 'Contacts', 'contact_id');
  }

  /**
   * The ticket's merge fields as the customer may see it: only the fields the access layer shows
   * (rules applied), each value as the ticket's page shows it to them (their language, the CRM's
   * time zone; references as the labels of records in their scope), dates as `locale` writes them
   * (`storedLocale`). Null when the customer cannot open the ticket on the portal.
   */
  private async visibleTicket(context: PortalAccessContext, id: number, locale: string): Promise<MergeFields | null> {
    let view;
    try {
      view = await context.record(TICKETS_MODULE, id);
    } catch (error) {
      if (error instanceof AccessError) return null;
      throw error;
    }
    // `url`: the ticket's page on the portal (the login leads there when the customer is signed out).
    // Each value as the ticket's page shows it to this customer: one formatter for both (`showValue`).
    return {
      id: view.id,
      createdAt: this.dateTime(view.createdAt, locale),
      url: this.http.publicUrl(`${this.settings.portalPath}/m/${TICKETS_MODULE}/${view.id}`),
      ...mailFieldValues(view, readingOptions(this.translator, context.language, context.timeZone, locale)),
    };
  }

  private dateTime(value: string, locale: string): string {
    return formatDateTime(value, locale, this.regional.timeZone());
  }

  /** Inserts the event's delivery row; false when it exists (the event was handled, here or by another process). */
  private async claim(eventKey: string): Promise<boolean> {
    try {
      await this.database.sequelize.query(`INSERT INTO ${DELIVERIES} (event_key, created_at) VALUES (:eventKey, :now)`, {
        type: QueryTypes.INSERT,
        replacements: { eventKey, now: new Date() },
      });
      return true;
    } catch (error) {
      if (isInsertCollision(error)) return false;
      throw error;
    }
  }
}
