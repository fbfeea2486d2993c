/**
 * The one way the plugin sends mail to a portal contact or a record owner: it picks the template
 * (the profile's choice for the five portal kinds, the plugin's own for the rest), the language
 * (the contact's), the mail route (the profile's SMTP account: Default = the owner user's own
 * account when they have one, else the global server; Global = always the global server) and the
 * sender, and sends only after the caller's transaction commits.
 */
import type { Transaction } from 'sequelize';
import type { FieldValue, LanguageCode, OwnerRef } from '../host-contract/index.js';
import type { PortalRecordView } from '../access/portal-access.js';
import { showValue, type DisplayOptions } from '../i18n/field-values.js';

/** The mails the portal sends. The first five use host email templates chosen in the profile. */
export type PortalMailKind =
  | 'registration'
  | 'passwordChanged'
  | 'passwordRecovery'
  | 'newTicket'
  | 'ticketReply'
  | 'newTicketToOwner'
  | 'accountLocked'
  | 'twoFactorCode'
  | 'supportEndingReminder';

/** The kinds that go to a record's owner (CRM users), rendered by the plugin in each user's language. */
export type OwnerMailKind = Extract<PortalMailKind, 'newTicketToOwner'>;

/** Merge data by namespace, e.g. `{ portal: { url, resetUrl }, ticket: {...} }`; the contact's own fields are added as `contact`. */
export type PortalMailData = Readonly<Record<string, Readonly<Record<string, FieldValue | undefined>>>>;

/** One address, no name: no spaces, brackets, quotes, commas or semicolons, one @ (the reference host's mailer refuses the rest). */
// Control characters (NUL included) are refused too: no address holds one, and a NUL cuts an SQLite statement short.
const MAIL_ADDRESS = /^[^\s@<>()",;:\\[\]\p{Cc}]+@[^\s@<>()",;:\\[\]\p{Cc}]+$/u;

/** Whether a portal mail can go to this address (given trimmed): the one rule for every sender and check of the plugin. */
export function isMailAddress(address: string): boolean {
  return address !== '' && address.length <= 254 && MAIL_ADDRESS.test(address);
}

/** The longest name (recipient or sender) the host's mailer takes, in UTF-16 units (`String.length`). */
const MAX_NAME_LENGTH = 150;

/**
 * A name for a mail's address, on one line and cut to `MAX_NAME_LENGTH` units, never inside a
 * character (an emoji or a rare CJK ideograph is two): a profile's sender name of 100 emoji is
 * 100 characters to its form and 200 units to the mailer, which would refuse every mail.
 */
export function mailName(name: string): string {
  let shown = '';
  for (const character of name.replace(/[\r\n]+/g, ' ').trim()) {
    if (shown.length + character.length > MAX_NAME_LENGTH) break;
    shown += character;
  }
  return shown.trimEnd();
}

/**
 * A value of one line (a title, a name: any field but a long text) as a mail shows it: its line
 * breaks, which the CRM or an API client may have stored, read as spaces. A mail keeps the lines of
 * a long text (`<br>` in the HTML part), and a title kept on two would start a line of its own in
 * the plain text — "Customer: …" under the mail's own "Customer:" line.
 */
export function oneLine(text: string): string {
  return text.replace(/[^\S\r\n]*[\r\n]+\s*/g, ' ');
}

/**
 * A record's fields as a mail merges them: each as the record's page shows it to the customer
 * (`showValue`), null when empty, a value of one line on one line (`oneLine`).
 */
export function mailFieldValues(view: Pick<PortalRecordView, 'fields' | 'values' | 'references'>, reading: DisplayOptions): Record<string, string | null> {
  const merged: Record<string, string | null> = {};
  for (const field of view.fields) {
    const shown = showValue(field, view.values[field.name], view.references[field.name], reading);
    merged[field.name] = shown.empty ? null : shown.long ? shown.text : oneLine(shown.text);
  }
  return merged;
}

/**
 * What became of a mail to a contact:
 * - `sent`: the host took it for delivery (`HostMail.send` resolved: the mail server took it; from a
 *   host before 1.10.0, possibly kept to try again, which such a host does not tell);
 * - `kept_for_retry`: the host took it for delivery, but the mail server did not take it now: the host
 *   keeps it to try again (contract 1.10.0, `queued: true`) — never a two-factor code. It will be
 *   sent when the mail server answers (or given up, which the host logs);
 * - `queued`: given a transaction, it is sent once that commits (a failure then is only logged);
 * - `no_email`: nothing sent, the contact is gone or has no address a mail can go to (read when
 *   sending: it may have been removed since the caller checked it), or, given `onlyTo`, not that one;
 * - `no_template`: nothing sent, no email template is chosen or found for the kind.
 * A mail server that refuses it is not an outcome: `sendToContact` throws then.
 */
export type ContactMailOutcome = 'sent' | 'kept_for_retry' | 'queued' | 'no_email' | 'no_template';

/**
 * Whether a mail to a contact could go now, as far as that can be known without sending: `ready`,
 * or the `no_email` / `no_template` that `sendToContact` would answer. Only sending tells whether the
 * mail server takes it (and the contact or the templates may still change before then).
 */
export type ContactMailReadiness = 'ready' | 'no_email' | 'no_template';

export interface ContactMailOptions {
  readonly transaction?: Transaction;
  readonly onlyTo?: string;
  /** When what the mail carries (a link, a code) expires: it must not be sent later. */
  readonly discardAfter?: Date;
}

export const PortalMailer = Symbol.for('business-portal.PortalMailer');
export interface PortalMailer {
  /**
   * Sends `kind` to the contact's email in the contact's language and says what became of it. Never
   * throws for a contact without an email (`no_email`) nor for a kind without a template
   * (`no_template`, known only without a transaction: with one it answers `queued`). With `onlyTo`
   * it sends only while the contact's email is still that address (as logins compare: trimmed,
   * lower-cased): what a caller checked and names in the mail, never one changed since. With
   * `discardAfter` (when the link or code the mail carries expires) a host that keeps mail to try
   * again never sends it after that time (contract 1.10.0, `MailMessage.discardAfter`).
   */
  sendToContact(kind: PortalMailKind, contactId: number, data: PortalMailData, options?: ContactMailOptions): Promise<ContactMailOutcome>;
  /**
   * The language `sendToContact(kind, contactId, …)` writes in: the contact's (the contact record's
   * `language`, else the CRM's default), unless the host template chosen for `kind` has no version in
   * it — then its one version's language, else the CRM's default language when it has a version in
   * that. A caller that merges values formats them in this language, so that a mail never reads
   * "status Aperto" in an English text.
   */
  mailLanguage(kind: PortalMailKind, contactId: number): Promise<LanguageCode>;
  /**
   * Whether `sendToContact(kind, contactId, …, { onlyTo })` would find an address and a template now,
   * sending nothing: for a caller that must not change what the mail is about (a password) when it
   * cannot go at all.
   */
  readinessFor(kind: PortalMailKind, contactId: number, options?: { readonly onlyTo?: string }): Promise<ContactMailReadiness>;
  /**
   * Sends `kind` to the owner of something a contact did: the user, or every active member of the
   * group (its inactive members get nothing), each in their own language, through the same SMTP choice
   * and sender as the contact's mails; a user whose mail is refused is logged, the others still get
   * theirs. Answers how many users it was sent to (after the commit
   * when a transaction is given: then how many it will be sent to).
   */
  sendToOwner(kind: OwnerMailKind, owner: OwnerRef, contactId: number, data: PortalMailData, options?: { readonly transaction?: Transaction }): Promise<number>;
}
