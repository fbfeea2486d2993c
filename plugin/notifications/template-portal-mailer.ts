/**
 * The `PortalMailer`: finds the contact, its email and language (the contact record's
 * `language`), renders the mail (a host template for the five portal kinds, the plugin's own
 * templates for the rest), and sends it — once the caller's transaction has committed when there
 * is one (never when its COMMIT fails: `lifecycle/after-commit.ts`), at once otherwise. A failure
 * after a commit cannot undo the commit: it is logged.
 * Owner mails (`sendToOwner`) go to the owner user or the active members of the owner group, each
 * in the user's language, with the plugin's own templates and the contact's route and sender.
 * A contact's mail merges of their own record (`{{contact.*}}`) only what the portal shows them of
 * it (`PortalAccess`: profile-hidden and rule-hidden fields are absent), as their record's page
 * shows it, besides what names them and their login (id, first and last name, email, language —
 * what `GET /me` tells them anyway), as stored.
 */
import { inject, injectable, optional } from 'inversify';
import type { Transaction } from 'sequelize';
import {
  HostEmailTemplates,
  HostHttp,
  HostLogger,
  HostMail,
  HostRecords,
  HostUsers,
  type CrmRecord,
  type CrmUser,
  type FieldValue,
  type LanguageCode,
  type LogFields,
  type MailMessage,
  type MailRoute,
  type OwnerRef,
  type RenderedEmail,
} from '../host-contract/index.js';
import { AccessError } from '../access/access-errors.js';
import { PortalAccess } from '../access/portal-access.js';
import { PortalAccountStore, normalizeEmail } from '../auth/portal-account-store.js';
import { Translator } from '../i18n/translator.js';
import { readingOptions } from '../i18n/field-values.js';
import { storedLocale } from '../i18n/request-language.js';
import { afterCommit } from '../lifecycle/after-commit.js';
import { PluginSettings } from '../lifecycle/contributions.js';
import { NotificationChoices, isHostTemplateKind } from './notification-choices.js';
import { PluginMailTemplates, isPluginMailKind } from './plugin-mail-templates.js';
import { isMailAddress, mailFieldValues, mailName, type ContactMailOptions, type ContactMailOutcome, type ContactMailReadiness, type OwnerMailKind, type PortalMailData, type PortalMailer, type PortalMailKind } from './portal-mailer.js';
import { personName } from '../access/record-names.js';
import { mailDocument } from './mail-document.js';

const OWNER_KINDS: ReadonlySet<PortalMailKind> = new Set<OwnerMailKind>(['newTicketToOwner']);
/**
 * Mails worth nothing late, sent with `retry: false` (contract 1.9.0): now or not at all. A two-factor
 * code is valid minutes and its sign-in is refused at once when it cannot go (`code_not_sent`, the
 * challenge dropped): the customer asks again, and a code a host's queue delivered later would be for
 * a challenge that no longer exists, or beside a newer code.
 */
const NOT_LATE_KINDS: ReadonlySet<PortalMailKind> = new Set<PortalMailKind>(['twoFactorCode']);

/**
 * An owner group of at most this many members is read a member at a time (one statement each);
 * a larger one by reading every CRM user once.
 */
export const MEMBERS_ONE_BY_ONE = 25;
/** The contact's fields every mail to them may merge, whatever their profile hides: who they are and their login. */
const IDENTITY_FIELDS: ReadonlySet<string> = new Set(['id', 'firstname', 'lastname', 'email', 'language']);

/** The contact's own scalar fields, merged as `{{contact.*}}`. */
function contactFields(contact: CrmRecord): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = { id: contact.id };
  for (const [name, value] of Object.entries(contact.values)) {
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') fields[name] = value;
  }
  return fields;
}

function text(value: FieldValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

@injectable()
export class TemplatePortalMailer implements PortalMailer {
  constructor(
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostEmailTemplates) private readonly hostTemplates: HostEmailTemplates,
    @inject(HostMail) private readonly mail: HostMail,
    @inject(HostHttp) private readonly http: HostHttp,
    @inject(HostLogger) private readonly logger: HostLogger,
    @inject(Translator) private readonly translator: Translator,
    @inject(PluginSettings) private readonly settings: PluginSettings,
    @inject(NotificationChoices) private readonly choices: NotificationChoices,
    @inject(PluginMailTemplates) private readonly pluginTemplates: PluginMailTemplates,
    @inject(HostUsers) private readonly users: HostUsers,
    @inject(PortalAccess) @optional() private readonly access?: PortalAccess,
    @inject(PortalAccountStore) @optional() private readonly accounts?: PortalAccountStore,
  ) {}

  async sendToContact(
    kind: PortalMailKind,
    contactId: number,
    data: PortalMailData,
    options: ContactMailOptions = {},
  ): Promise<ContactMailOutcome> {
    const found = await this.recipient(kind, contactId, options);
    if (!found) return 'no_email';
    const { contact, address } = found;

    const name = mailName(personName(contact.values));
    const deliver = async (): Promise<ContactMailOutcome> => {
      const language = await this.languageOf(kind, contactId, this.translator.supported(text(contact.values.language)));
      // After the commit: the portal account of a contact just made a portal user exists by now.
      const merged: PortalMailData = {
        ...data,
        contact: { ...(await this.mergeableContactFields(contact, language)), ...data.contact },
        portal: { url: this.http.publicUrl(`${this.settings.portalPath}/login`), email: address, ...data.portal },
      };
      const prepared = await this.prepare(kind, contactId, language, merged);
      if (!prepared) {
        this.logger.warn('Business Portal: no email template for a portal mail; nothing sent', { kind, contactId });
        return 'no_template';
      }
      const message: MailMessage = {
        to: [name ? { address, name } : { address }],
        ...(prepared.from ? { from: prepared.from } : {}),
        subject: prepared.rendered.subject,
        html: mailDocument(prepared.rendered.html, language),
        text: prepared.rendered.text,
        language,
        ...(NOT_LATE_KINDS.has(kind) ? { retry: false } : {}),
        ...(options.discardAfter ? { discardAfter: options.discardAfter.toISOString() } : {}),
      };
      const { queued } = await this.mail.send(message, prepared.route);
      if (queued === true) {
        this.logger.info('Business Portal: portal mail kept by the host to be tried again (the mail server did not take it now)', { kind, contactId });
        return 'kept_for_retry';
      }
      this.logger.info('Business Portal: portal mail sent', { kind, contactId });
      return 'sent';
    };

    // Without a transaction the caller learns what became of it (no template: nothing sent).
    if (!options.transaction) return deliver();
    await this.afterCommit(options.transaction, deliver, 'Business Portal: a portal mail could not be sent', { kind, contactId });
    return 'queued';
  }

  async mailLanguage(kind: PortalMailKind, contactId: number): Promise<LanguageCode> {
    const contact = await this.records.get('Contacts', contactId);
    return this.languageOf(kind, contactId, contact ? this.translator.supported(text(contact.values.language)) : this.translator.defaultLanguage());
  }

  /**
   * `wanted`, unless the host template of `kind` has no version in it: then its only version's
   * language, else its version's of the CRM's default language, so that the words and the values the
   * mail merges are of one language (the host is asked for that version by name). A template with
   * several versions, none of them either, is asked in `wanted` and the host picks, as before.
   */
  private async languageOf(kind: PortalMailKind, contactId: number, wanted: LanguageCode): Promise<LanguageCode> {
    if (!isHostTemplateKind(kind)) return wanted;
    const { templateId } = await this.choices.templateFor(kind, contactId);
    const languages = templateId === null ? [] : ((await this.hostTemplates.template(templateId))?.languages ?? []);
    if (languages.length === 0 || languages.includes(wanted)) return wanted;
    if (languages.length === 1) return languages[0]!;
    const crm = this.translator.defaultLanguage();
    return languages.includes(crm) ? crm : wanted;
  }

  async readinessFor(kind: PortalMailKind, contactId: number, options: { readonly onlyTo?: string } = {}): Promise<ContactMailReadiness> {
    if (!(await this.recipient(kind, contactId, options))) return 'no_email';
    // The template `prepare` would render: the one the contact's profile chooses for a host-template kind; the plugin's own are always there.
    if (isHostTemplateKind(kind) && (await this.choices.templateFor(kind, contactId)).templateId === null) return 'no_template';
    return 'ready';
  }

  /** The contact and the address a mail of `kind` to them goes to, or null when there is none (or, given `onlyTo`, not that one). */
  private async recipient(
    kind: PortalMailKind,
    contactId: number,
    options: { readonly transaction?: Transaction; readonly onlyTo?: string },
  ): Promise<{ contact: CrmRecord; address: string } | null> {
    if (OWNER_KINDS.has(kind) || (!isHostTemplateKind(kind) && !isPluginMailKind(kind))) {
      throw new Error(`Business Portal: "${kind}" mails go to a record owner, not to a contact`);
    }
    const contact = await this.records.get('Contacts', contactId, options.transaction ? { transaction: options.transaction } : {});
    const address = text(contact?.values.email).trim();
    if (!contact || !isMailAddress(address)) return null;
    if (options.onlyTo !== undefined && normalizeEmail(address) !== normalizeEmail(options.onlyTo)) return null;
    return { contact, address };
  }

  async sendToOwner(kind: OwnerMailKind, owner: OwnerRef, contactId: number, data: PortalMailData, options: { readonly transaction?: Transaction } = {}): Promise<number> {
    if (!OWNER_KINDS.has(kind) || !isPluginMailKind(kind)) throw new Error(`Business Portal: "${kind}" is not a mail to a record owner`);
    const recipients = (await this.ownerUsers(owner)).filter((user) => isMailAddress(user.email.trim()));
    if (recipients.length === 0) {
      this.logger.info('Business Portal: the owner has no active user with an email; no owner mail sent', { kind, ownerKind: owner.kind, ownerId: owner.id });
      return 0;
    }
    const deliver = async (): Promise<void> => {
      const choice = await this.choices.routeFor(contactId);
      for (const user of recipients) {
        const language = this.translator.supported(user.language);
        const rendered = this.pluginTemplates.render(kind, language, {
          ...data,
          user: { id: user.id, firstName: user.firstName, lastName: user.lastName, userName: user.userName, ...data.user },
        });
        const name = mailName(`${user.firstName} ${user.lastName}`);
        // One member's address refused (a full or closed mailbox) does not keep the others from being told.
        try {
          await this.mail.send(
            {
              to: [name ? { address: user.email.trim(), name } : { address: user.email.trim() }],
              ...(choice.from ? { from: choice.from } : {}),
              ...rendered,
              html: mailDocument(rendered.html, language),
              language,
            },
            choice.route,
          );
        } catch (error) {
          this.logger.error('Business Portal: an owner mail could not be sent', { kind, contactId, userId: user.id, error: error instanceof Error ? error.message : String(error) });
          continue;
        }
        this.logger.info('Business Portal: owner mail sent', { kind, contactId, userId: user.id });
      }
    };
    await this.afterCommit(options.transaction, deliver, 'Business Portal: an owner mail could not be sent', { kind, contactId });
    return recipients.length;
  }

  /**
   * The contact's own fields a mail to them may merge: the fields the portal shows them on their own
   * record (none more when it shows them none), as that page shows them (`showValue`: `2.500,75`, a
   * checkbox's Sì, their company's name for `account_id`), and always `IDENTITY_FIELDS`, as stored.
   * Without the access layer and portal accounts (no profile can hide anything) every field, as stored.
   */
  private async mergeableContactFields(contact: CrmRecord, language: string): Promise<Record<string, FieldValue>> {
    const fields = contactFields(contact);
    if (!this.access || !this.accounts) return fields;
    const mergeable: Record<string, FieldValue> = {};
    const account = await this.accounts.findByContactId(contact.id);
    if (account) {
      try {
        const context = await this.access.forSession({ account, contact }, language);
        const view = await context.record('Contacts', contact.id);
        Object.assign(mergeable, mailFieldValues(view, readingOptions(this.translator, context.language, context.timeZone, storedLocale(contact.values.language, context.language))));
      } catch (error) {
        if (!(error instanceof AccessError)) throw error;
      }
    }
    for (const name of IDENTITY_FIELDS) if (Object.hasOwn(fields, name)) mergeable[name] = fields[name]!;
    return mergeable;
  }

  /** Runs `deliver` at once without a transaction (it may throw), else once the transaction has committed — never when it does not. */
  private async afterCommit(transaction: Transaction | undefined, deliver: () => Promise<unknown>, failure: string, fields: LogFields): Promise<void> {
    if (!transaction) {
      await deliver();
      return;
    }
    // The queue runs inside `commit()`: a throw there would surface as a failed commit, so log instead.
    afterCommit(transaction, async () => {
      try {
        await deliver();
      } catch (error) {
        this.logger.error(failure, { ...fields, error: error instanceof Error ? error.message : String(error) });
      }
    });
  }

  /**
   * The owner user — even a disabled one: version 1's "select user" may be disabled and is still
   * the one told of new tickets — or the active members of the owner group.
   */
  private async ownerUsers(owner: OwnerRef): Promise<CrmUser[]> {
    if (owner.kind === 'user') {
      const user = await this.users.user(owner.id);
      return user ? [user] : [];
    }
    const group = await this.users.group(owner.id);
    if (!group) return [];
    // A group of a few in a CRM of thousands of users: its members one by one, not every user read for each mail.
    if (group.memberIds.length <= MEMBERS_ONE_BY_ONE) {
      const members: CrmUser[] = [];
      for (const id of [...group.memberIds].sort((a, b) => a - b)) {
        const user = await this.users.user(id);
        if (user?.active) members.push(user);
      }
      return members;
    }
    const members = new Set(group.memberIds);
    return (await this.users.users()).filter((user) => user.active && members.has(user.id));
  }

  private async prepare(
    kind: PortalMailKind,
    contactId: number,
    language: string,
    data: PortalMailData,
  ): Promise<{ rendered: RenderedEmail; route: MailRoute; from?: MailMessage['from'] } | null> {
    if (isHostTemplateKind(kind)) {
      const choice = await this.choices.templateFor(kind, contactId);
      if (choice.templateId === null) return null;
      const rendered = await this.hostTemplates.render(choice.templateId, language, data);
      return { rendered, route: choice.route, ...(choice.from ? { from: choice.from } : {}) };
    }
    if (!isPluginMailKind(kind)) return null;
    const choice = await this.choices.routeFor(contactId);
    return { rendered: this.pluginTemplates.render(kind, language, data), route: choice.route, ...(choice.from ? { from: choice.from } : {}) };
  }
}
