/**
 * The host contract: the only thing the Business Portal plugin knows about the CRM that
 * loads it. A host implements `HostApi`; the plugin binds each member under the token of
 * the same name and never reaches into the host any other way.
 *
 * Versioned with semver (`HOST_API_VERSION`); `manifest.json` names the range it needs
 * (`hostApi`). Adding an optional member is a minor change; anything else is a major one.
 *
 * What a host may count on the plugin not assuming, and what it must give (the conformance suite,
 * `test/contract/host-contract-suite.ts`, checks each):
 * - Lists come in no particular order unless a member says otherwise (modules, relations, users,
 *   groups, roles, templates, documents, related ids).
 * - Times (`createdAt`, `modifiedAt`) are ISO 8601 with `Z` or a UTC offset, in any time zone.
 * - The standard modules (`Contacts`, `Accounts`, `HelpDesk`, `Faq`, `Documents`, `Invoice`, …)
 *   with the fields the portal works by: `Contacts.lastname`, `Contacts.email`, `Contacts.account_id`
 *   (its company), `Accounts.parent_id`, `Accounts.status` (with `Blocked`), `HelpDesk.contact_id`
 *   and `HelpDesk.status` (with `Open` and `Closed`). Other reference fields to Contacts or Accounts
 *   may exist beside them.
 * - `eq`, `ne` and `in` compare text exactly (case, accents and trailing spaces count), whatever the
 *   database's collation: the public FAQ catalogue is `Faq.status eq 'Published'`, and a customer's
 *   filter must find only what it names (see `RecordCondition`).
 */
import type { Request, Response, Router } from 'express';
import type { Readable } from 'node:stream';
import type { Sequelize, Transaction } from 'sequelize';

/** The version of this contract. The host checks the manifest's `hostApi` range against it. */
export const HOST_API_VERSION = '1.10.0';

// ───────────────────────────── small shared types ─────────────────────────────

/** An ISO 639-1 language code such as `en` or `it`. */
export type LanguageCode = string;

/** A text in several languages; `en` is always present and is the fallback. */
export type LocalizedText = Readonly<{ en: string } & Record<LanguageCode, string>>;

/** Removes a listener or a registration. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/** Who does something in the CRM: a CRM user, a portal contact, or the system itself. */
export type Actor =
  | { readonly kind: 'user'; readonly userId: number }
  | { readonly kind: 'contact'; readonly contactId: number }
  | { readonly kind: 'system' };

/** Options every write accepts: the plugin's and the host's writes can share one transaction. */
export interface WriteOptions {
  readonly transaction?: Transaction;
  readonly actor?: Actor;
}

/** Options every read accepts. */
export interface ReadOptions {
  readonly transaction?: Transaction;
}

// ─────────────────────────────────── HTTP ────────────────────────────────────

/** A CRM user as the host knows them. */
export interface CrmUser {
  readonly id: number;
  readonly userName: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly email: string;
  /** Inactive (disabled) users still exist: they can own records and be chosen in settings. */
  readonly active: boolean;
  readonly isAdmin: boolean;
  readonly language: LanguageCode;
  readonly roleId: number | null;
}

/** The CRM session behind a request: the signed-in user and an opaque, stable id of that session. */
export interface CrmSession {
  readonly user: CrmUser;
  /** Stable for the life of the CRM session and secret (never sent in a page): bind CSRF tokens to it. */
  readonly sessionId: string;
}

export const HostHttp = Symbol.for('business-portal.HostHttp');
export interface HostHttp {
  /** Mounts a router on the host's Express app at `path` (e.g. `/portal`). */
  mount(path: string, router: Router): Unsubscribe;
  /** The CRM session of a request, or null when no CRM user is signed in. Portal sessions never count. */
  crmSession(req: Request): Promise<CrmSession | null>;
  /** Where to send an anonymous visitor of a CRM page; they come back to `returnTo` (a local path). */
  loginUrl(returnTo: string): string;
  /** The absolute URL of a local path as customers reach it (for links in emails). */
  publicUrl(path: string): string;
  /**
   * Wraps a plugin page in the host's CRM layout (header, menu) and sends it.
   * `bodyHtml` is trusted markup the plugin rendered with escaping templates.
   */
  sendCrmPage(
    req: Request,
    res: Response,
    page: { readonly title: string; readonly bodyHtml: string; readonly status?: number; readonly headHtml?: string },
  ): Promise<void>;
  /**
   * Since 1.1.0, optional: where a CRM admin sees a module's fields and relations (a local path or
   * an absolute http(s) URL), so a page can send them there to add a relation. Hosts without such
   * a page leave it out; the plugin then shows no link.
   */
  moduleRelationsUrl?(module: string): string;
}

// ───────────────────────────────── database ──────────────────────────────────

export type DatabaseDialect = 'sqlite' | 'postgres' | 'mariadb';

export const HostDatabase = Symbol.for('business-portal.HostDatabase');
export interface HostDatabase {
  /** The host's connection. The plugin owns the tables whose names start with `bp_`. */
  readonly sequelize: Sequelize;
  readonly dialect: DatabaseDialect;
}

// ────────────────────────────── settings and blocks ──────────────────────────

export interface SettingsMenuEntry {
  /** Unique among all plugins, e.g. `business-portal.profiles`. */
  readonly id: string;
  /** The menu section, e.g. `customer-tools` ("Customer tools"). */
  readonly section: string;
  /** The key of the label in the plugin's locales (kept for the host's own lookups). */
  readonly labelKey: string;
  readonly label: LocalizedText;
  readonly description?: LocalizedText;
  /** A local path on the host, e.g. `/settings/business-portal`. */
  readonly path: string;
  readonly adminOnly: boolean;
}

export const HostSettingsMenu = Symbol.for('business-portal.HostSettingsMenu');
export interface HostSettingsMenu {
  register(entry: SettingsMenuEntry): Unsubscribe;
  /** The entries registered now, in registration order. */
  entries(): readonly SettingsMenuEntry[];
}

export interface RecordBlockContext {
  readonly module: string;
  readonly recordId: number;
  readonly session: CrmSession;
  readonly language: LanguageCode;
}

export interface RecordBlock {
  readonly id: string;
  /** The module whose record page shows the block, e.g. `Contacts`. */
  readonly module: string;
  readonly title: LocalizedText;
  /** Lower comes first. */
  readonly order: number;
  /** Trusted markup rendered by the plugin with escaping templates. Forms post to the plugin's own routes. */
  render(context: RecordBlockContext): Promise<string>;
}

export const HostRecordBlocks = Symbol.for('business-portal.HostRecordBlocks');
export interface HostRecordBlocks {
  register(block: RecordBlock): Unsubscribe;
  /** The blocks registered for a module now, sorted by `order`. */
  blocksFor(module: string): readonly RecordBlock[];
}

// ────────────────────────────── module registry ──────────────────────────────

export type FieldType =
  | 'text'
  | 'textarea'
  | 'integer'
  | 'decimal'
  | 'currency'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'multipicklist'
  | 'reference';

export interface FieldDefinition {
  /** Lower-case identifier, `[a-z][a-z0-9_]*`; also the column name. */
  readonly name: string;
  readonly label: LocalizedText;
  readonly type: FieldType;
  readonly mandatory: boolean;
  /** For `text`: the maximum length. */
  readonly maxLength?: number;
  /** For `picklist` and `multipicklist`: every value (what a given user sees: `picklistValues`). */
  readonly picklistValues?: readonly string[];
  /**
   * Since 1.2.0, optional. For `picklist` and `multipicklist`: how a stored value reads in each
   * language (`{ Open: { en: 'Open', it: 'Aperto' } }`), as a CRM's language files translate
   * picklist values. Values stay stored as they are; a value without a label reads as stored.
   */
  readonly picklistLabels?: Readonly<Record<string, LocalizedText>>;
  /** For `reference`: the modules it may point at. */
  readonly referenceModules?: readonly string[];
}

export interface ModuleDefinition {
  /** PascalCase identifier, e.g. `HelpDesk`, `Contacts`, `Warranties`. */
  readonly name: string;
  readonly label: LocalizedText;
  readonly singularLabel: LocalizedText;
  /** Standard modules ship with the CRM; custom ones are registered by host developers. */
  readonly custom: boolean;
  /** The field that names a record in lists and references (e.g. `ticket_title`). */
  readonly labelField: string;
  readonly fields: readonly FieldDefinition[];
}

/**
 * A relation between two modules, as the host declares it.
 * - `reference`: `module.field` points at records of `relatedModule` (one-to-many seen from `relatedModule`).
 * - `related-list`: records of `module` and `relatedModule` are linked many-to-many (e.g. Documents).
 */
export interface RelationDefinition {
  /** Stable id, e.g. `HelpDesk.contact_id` or `Contacts~Documents`. */
  readonly id: string;
  readonly kind: 'reference' | 'related-list';
  readonly module: string;
  readonly relatedModule: string;
  /** For `reference`: the field of `module` that holds the id of a `relatedModule` record. */
  readonly field?: string;
  readonly label?: LocalizedText;
}

export interface ModuleRegistryEvents {
  'module.added': { readonly module: ModuleDefinition };
  'module.removed': { readonly module: string };
  'field.added': { readonly module: string; readonly field: FieldDefinition };
  'field.removed': { readonly module: string; readonly field: string };
  'relation.added': { readonly relation: RelationDefinition };
  'relation.removed': { readonly relation: RelationDefinition };
}

export const HostModuleRegistry = Symbol.for('business-portal.HostModuleRegistry');
export interface HostModuleRegistry {
  /** Every module now, standard and custom, in no particular order. */
  modules(): readonly ModuleDefinition[];
  module(name: string): ModuleDefinition | undefined;
  /** The relations in which `module` takes part on either side (every relation when omitted), in no particular order. */
  relations(module?: string): readonly RelationDefinition[];
  /** The picklist values of a field as a given CRM user sees them (by their role); every value without a user. */
  picklistValues(module: string, field: string, userId?: number): Promise<readonly string[]>;
  on<E extends keyof ModuleRegistryEvents>(event: E, listener: (payload: ModuleRegistryEvents[E]) => void): Unsubscribe;
  /**
   * Since 1.7.0, optional: brings this process's view (`modules`, `module`, `relations`) up to date
   * with changes made meanwhile outside it (another server of the same CRM, a command-line tool),
   * raising their events before it resolves; answers whether the view changed. The plugin calls it
   * when a read fails because the database no longer matches the view (a column or table gone),
   * then reads once more. A host whose view is always current, or that cannot tell, leaves it out.
   */
  sync?(): Promise<boolean>;

  // For host developers (and conformance tests); the plugin only reads the registry.
  registerModule(definition: ModuleDefinition): Promise<void>;
  removeModule(name: string): Promise<void>;
  addField(module: string, field: FieldDefinition): Promise<void>;
  removeField(module: string, field: string): Promise<void>;
  addRelation(relation: RelationDefinition): Promise<void>;
  removeRelation(id: string): Promise<void>;
}

// ────────────────────────────────── records ──────────────────────────────────

/** A record owner: a CRM user or a group. */
export interface OwnerRef {
  readonly kind: 'user' | 'group';
  readonly id: number;
}

export type FieldValue = string | number | boolean | null | readonly string[];

export interface CrmRecord {
  readonly id: number;
  readonly module: string;
  /** Field name → value. Dates are `YYYY-MM-DD`, datetimes ISO 8601 in UTC, references the id. */
  readonly values: Readonly<Record<string, FieldValue>>;
  readonly owner: OwnerRef | null;
  /** ISO 8601 with `Z` or a UTC offset (compare as instants, not as text). */
  readonly createdAt: string;
  readonly modifiedAt: string;
  /** Incremented by every update: pass it back as `expectedVersion` for optimistic locking. */
  readonly version: number;
}

export type ComparisonOperator = 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'in' | 'contains' | 'startsWith' | 'isNull' | 'notNull';

/**
 * A condition compiled by the host to SQL. Field names must be fields of the module (or `id`,
 * `createdAt`, `modifiedAt`); anything else is refused with `UnknownFieldError`. `eq`, `ne` and
 * `in` compare text (text, textarea, email, phone, url, picklist fields, and each element of a
 * multipicklist) exactly: `Published` matches neither `published`, `Published ` nor `Publishéd`,
 * whatever the database's collation (MariaDB's and MySQL's default ignores all three). That is
 * what `eq` has meant since 1.0.0, now written out; the conformance suite checks it. `contains`
 * and `startsWith` are case-insensitive and treat `%` and `_` literally.
 */
export type RecordCondition =
  | { readonly and: readonly RecordCondition[] }
  | { readonly or: readonly RecordCondition[] }
  | { readonly not: RecordCondition }
  | { readonly field: string; readonly op: ComparisonOperator; readonly value?: FieldValue | readonly number[] }
  /** The record is linked through the related list `relationId` to one of `ids` (of the other module). */
  | { readonly linkedThrough: string; readonly ids: readonly number[] };

export interface RecordSort {
  readonly field: string;
  readonly direction: 'asc' | 'desc';
  /**
   * Since 1.5.0, optional: a `picklist` field sorts in the order of its definition's
   * `picklistValues` (Low, Normal, High, Urgent), not by the stored text, whatever the language;
   * `desc` is that order reversed. Values the picklist no longer has (legacy data) come after the
   * known ones both ways, among themselves by value in `direction`; empty values come first going
   * up and last going down, as for any field. Ignored on fields of other types. A host before
   * 1.5.0 sorts by the stored value: callers pass it only to a host of 1.5.0 or later.
   */
  readonly picklistOrder?: boolean;
}

export interface RecordQuery extends ReadOptions {
  readonly where?: RecordCondition;
  /** Applied in order; the host adds `id` last so that paging is stable. */
  readonly sort?: readonly RecordSort[];
  readonly limit?: number;
  readonly offset?: number;
  /** Only these fields in `values` (every field when omitted). */
  readonly fields?: readonly string[];
  /** Also count every matching row (ignores limit and offset). */
  readonly withTotal?: boolean;
}

export interface RecordPage {
  readonly rows: readonly CrmRecord[];
  readonly total?: number;
}

export interface RecordInput {
  readonly values: Readonly<Record<string, FieldValue>>;
  readonly owner?: OwnerRef;
}

/** A page of a record's comments, newest first (contract 1.3.0). */
export interface CommentPage {
  readonly limit: number;
  readonly offset?: number;
}

/** A page of a record's documents, newest first (contract 1.4.0): as a page of comments. */
export type DocumentPage = CommentPage;

export interface Comment {
  readonly id: number;
  readonly module: string;
  readonly recordId: number;
  readonly body: string;
  /** Internal comments are for CRM users only. */
  readonly internal: boolean;
  readonly author: Actor;
  /** A display name for the author, resolved by the host. */
  readonly authorName: string;
  /** ISO 8601 with `Z` or a UTC offset. */
  readonly createdAt: string;
}

export interface DocumentFile {
  /** The id of the Documents record that holds the file. */
  readonly documentId: number;
  readonly title: string;
  readonly fileName: string;
  readonly mimeType: string;
  readonly size: number;
  /** ISO 8601 with `Z` or a UTC offset. */
  readonly createdAt: string;
}

export interface RecordEvents {
  'record.created': { readonly record: CrmRecord; readonly actor: Actor };
  'record.updated': { readonly record: CrmRecord; readonly previous: CrmRecord; readonly actor: Actor };
  'record.deleted': { readonly record: CrmRecord; readonly actor: Actor };
  'comment.added': { readonly comment: Comment };
}

/** Thrown when a query names a field the module lacks; the message names the field, never a value. */
export class UnknownFieldError extends Error {
  constructor(
    readonly module: string,
    readonly field: string,
  ) {
    super(`Unknown field "${field}" in module ${module}`);
    this.name = 'UnknownFieldError';
  }
}

/** Thrown by writes (update, delete, link, comment, attach) that name a record which does not exist. */
export class RecordNotFoundError extends Error {
  constructor(
    readonly module: string,
    readonly recordId: number,
  ) {
    super(`Record ${module}/${recordId} does not exist`);
    this.name = 'RecordNotFoundError';
  }
}

/** Thrown when a query is malformed (sort direction, limit, offset, condition shape); never echoes values. */
export class InvalidQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueryError';
  }
}

/** Thrown by `update` and `delete` when `expectedVersion` no longer matches. */
export class StaleRecordError extends Error {
  constructor(
    readonly module: string,
    readonly recordId: number,
  ) {
    super(`Record ${module}/${recordId} was changed by someone else`);
    this.name = 'StaleRecordError';
  }
}

/** Thrown when values do not fit the module's fields (type, mandatory, picklist, length). */
export class InvalidRecordError extends Error {
  constructor(
    readonly module: string,
    readonly problems: readonly { readonly field: string; readonly problem: string }[],
  ) {
    super(`Invalid ${module} record: ${problems.map((p) => `${p.field} ${p.problem}`).join('; ')}`);
    this.name = 'InvalidRecordError';
  }
}

export const HostRecords = Symbol.for('business-portal.HostRecords');
export interface HostRecords {
  /** Conditions, sort and paging are done in SQL. */
  query(module: string, query?: RecordQuery): Promise<RecordPage>;
  count(module: string, where?: RecordCondition, options?: ReadOptions): Promise<number>;
  get(module: string, id: number, options?: ReadOptions): Promise<CrmRecord | null>;
  create(module: string, input: RecordInput, options?: WriteOptions): Promise<CrmRecord>;
  /** Partial update: only the fields given change. */
  update(module: string, id: number, input: Partial<RecordInput>, options?: WriteOptions & { readonly expectedVersion?: number }): Promise<CrmRecord>;
  delete(module: string, id: number, options?: WriteOptions & { readonly expectedVersion?: number }): Promise<void>;

  /** Links two records through a related list (idempotent). `id` belongs to the relation's `module`. */
  link(relationId: string, id: number, relatedId: number, options?: WriteOptions): Promise<void>;
  unlink(relationId: string, id: number, relatedId: number, options?: WriteOptions): Promise<void>;
  /** Ids of the records linked to `id` through a relation, from either side, in no particular order. */
  relatedIds(relationId: string, module: string, id: number, options?: ReadOptions): Promise<readonly number[]>;

  /**
   * A record's comments, oldest first. Since 1.3.0, optional: with `newest`, only the page of the
   * `newest.limit` most recent comments after the `newest.offset` most recent ones, newest first
   * (a record with years of replies is read a page at a time). A host before 1.3.0 answers all,
   * oldest first: callers sort and slice what they get.
   */
  comments(module: string, recordId: number, options?: ReadOptions & { readonly includeInternal?: boolean; readonly newest?: CommentPage }): Promise<readonly Comment[]>;
  commentCount(module: string, recordId: number, options?: ReadOptions & { readonly includeInternal?: boolean }): Promise<number>;
  addComment(module: string, recordId: number, comment: { readonly body: string; readonly internal: boolean }, options: WriteOptions & { readonly actor: Actor }): Promise<Comment>;

  /**
   * Files attached to a record (through the Documents module), in no particular order. Since 1.4.0,
   * optional: with `newest`, only the page of the `newest.limit` most recent files (by `createdAt`,
   * then `documentId`) after the `newest.offset` most recent ones, newest first (a record with
   * thousands of files is read a page at a time). A host before 1.4.0 answers all of them:
   * callers sort and slice what they get.
   */
  documents(module: string, recordId: number, options?: ReadOptions & { readonly newest?: DocumentPage }): Promise<readonly DocumentFile[]>;
  /**
   * Since 1.4.0, optional: how many files `documents` answers for the record (without `newest`).
   * A host before 1.4.0 lacks it: callers count what `documents` answers.
   */
  documentCount?(module: string, recordId: number, options?: ReadOptions): Promise<number>;
  attachDocument(
    module: string,
    recordId: number,
    file: { readonly title: string; readonly fileName: string; readonly mimeType: string; readonly content: Buffer | Readable },
    options?: WriteOptions,
  ): Promise<DocumentFile>;
  /** The file of a Documents record, or null when there is none. */
  openDocument(documentId: number): Promise<{ readonly file: DocumentFile; readonly stream: Readable } | null>;

  /**
   * Listeners may be called after the write that raised the event has answered, and need not be
   * awaited: the plugin's listeners catch and log their own failures. An event is raised only for
   * a write that landed: after its transaction's COMMIT succeeded, never for one rolled back or
   * whose COMMIT failed (Sequelize 6's `transaction.afterCommit` alone runs even then).
   */
  on<E extends keyof RecordEvents>(event: E, listener: (payload: RecordEvents[E]) => void | Promise<void>): Unsubscribe;
}

// ───────────────────────────── users and groups ──────────────────────────────

export interface CrmGroup {
  readonly id: number;
  readonly name: string;
  readonly memberIds: readonly number[];
}

export interface CrmRole {
  readonly id: number;
  readonly name: string;
}

export const HostUsers = Symbol.for('business-portal.HostUsers');
export interface HostUsers {
  /** Every user, inactive ones included, in no particular order (as are groups and roles). */
  users(): Promise<readonly CrmUser[]>;
  user(id: number): Promise<CrmUser | null>;
  groups(): Promise<readonly CrmGroup[]>;
  group(id: number): Promise<CrmGroup | null>;
  roles(): Promise<readonly CrmRole[]>;
}

// ───────────────────────────── templates and mail ────────────────────────────

export interface EmailTemplate {
  readonly id: number;
  readonly name: string;
  readonly description: string;
  /** The module whose fields it merges, if any (e.g. `Contacts`, `HelpDesk`). */
  readonly module: string | null;
  /** The languages it has a version in. */
  readonly languages: readonly LanguageCode[];
}

export interface RenderedEmail {
  readonly subject: string;
  readonly html: string;
  readonly text: string;
}

/** One language version of a template, rendered (contract 1.6.0). */
export interface RenderedTemplateVersion extends RenderedEmail {
  readonly templateId: number;
  readonly language: LanguageCode;
}

export const HostEmailTemplates = Symbol.for('business-portal.HostEmailTemplates');
export interface HostEmailTemplates {
  /**
   * Every template, in no particular order. Unless a profile chooses others, the plugin mails
   * customers with the templates named `Customer portal: access details`, `Customer portal: password
   * changed`, `Customer portal: password recovery`, `Customer portal: new ticket` and `Customer
   * portal: reply to a ticket`; a host without one of them sends no mail of that kind.
   */
  templates(): Promise<readonly EmailTemplate[]>;
  template(id: number): Promise<EmailTemplate | null>;
  /**
   * Renders a template in a language (its default version when it has none in that language).
   * `data` is merged as `{{namespace.key}}` (e.g. `{{contact.firstname}}`, `{{portal.url}}`); values are escaped in HTML,
   * where a value's line breaks should become `<br>` (a description keeps its lines in any paragraph).
   */
  render(id: number, language: LanguageCode, data: Readonly<Record<string, Readonly<Record<string, FieldValue | undefined>>>>): Promise<RenderedEmail>;
  /**
   * Since 1.6.0, optional: every language version of each of the templates `ids`, rendered with
   * `data` as `render` renders that language, in no particular order — read at once, so that a page
   * that checks every template does not read them one by one. Unknown ids, and a version that
   * cannot be rendered, are left out. A host before 1.6.0 lacks it: callers call `render` for each
   * language of each template.
   */
  renderVersions?(ids: readonly number[], data: Readonly<Record<string, Readonly<Record<string, FieldValue | undefined>>>>): Promise<readonly RenderedTemplateVersion[]>;
}

export interface MailAddress {
  readonly address: string;
  readonly name?: string;
}

export interface MailMessage {
  readonly to: readonly MailAddress[];
  readonly from?: MailAddress;
  readonly replyTo?: MailAddress;
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  /**
   * Since 1.8.0, optional: the language the mail is written in (`it`), which the host sends as the
   * `Content-Language` header. A host before 1.8.0 ignores it: the mail goes without the header.
   */
  readonly language?: LanguageCode;
  /**
   * Since 1.9.0, optional: `false` for a mail worth nothing late — a two-factor code, valid a few
   * minutes, whose sign-in is refused at once when it cannot go (so the customer asks again) — which
   * the host then sends now or not at all: it throws when the mail server fails, even for the moment,
   * and never keeps it to try again. Left out (or `true`), a host with a mail queue may keep it and
   * retry (see `HostMail.send`). A host before 1.9.0 has no such queue: it throws on every failure.
   */
  readonly retry?: boolean;
  /**
   * Since 1.10.0, optional: the time (ISO 8601 with `Z` or an offset) after which the mail is worth
   * nothing — a password-recovery or unlock link, a code, that expires then — and must not be sent.
   * A host that keeps mail to try again never sends it after that time: it gives the kept mail up
   * (logging its Message-ID, never its content), and does not keep a mail whose next try would come
   * after it (`send` then throws, as for `retry: false`). A host throws for a value that is not a
   * time. A host before 1.10.0 ignores it (and before 1.9.0 keeps nothing to try again anyway).
   */
  readonly discardAfter?: string;
}

/** What `HostMail.send` answers. */
export interface MailSent {
  readonly messageId: string;
  /** Since 1.10.0: whether the host keeps the mail to try again (the mail server did not take it now). */
  readonly queued?: boolean;
}

/** Which mail server sends: the host's global one, or a CRM user's own account. */
export type MailRoute = { readonly via: 'global' } | { readonly via: 'user'; readonly userId: number };

export const HostMail = Symbol.for('business-portal.HostMail');
export interface HostMail {
  /**
   * Resolves once the host has taken the mail for delivery: handed to the mail server, kept in an
   * outbox (no server configured), or — since 1.9.0, unless `message.retry` is `false` — kept to be
   * tried again because the server failed for the moment (a 4xx answer, a connection refused or timed
   * out), as a CRM's mail queue does; the reference host retries it for 24 hours. Resolving is not
   * delivery: a queued mail may still be given up later (the host logs it). Throws when the mail can
   * never go as it is (an invalid address, a permanent refusal: 5xx) and, for `retry: false`, when it
   * cannot go now.
   * Since 1.10.0 it answers `queued`: `true` when the mail server did not take the mail now and the host
   * keeps it to try again, `false` when the server (or, with none configured, the outbox) took it — so
   * that a page can say "will be sent when the mail server answers" rather than "sent". A host before
   * 1.10.0 leaves it out (read as not known: the plugin then says "sent", as it did).
   */
  send(message: MailMessage, route: MailRoute): Promise<MailSent>;
  /** Whether the user has a mail account of their own (else `via: 'user'` falls back to the global server). */
  hasUserAccount(userId: number): Promise<boolean>;
  /** The global server's default sender. */
  defaultSender(): MailAddress;
}

// ──────────────────────────── CRM conditional rules ──────────────────────────

export type FieldEffect = 'hidden' | 'readonly' | 'mandatory';

export interface CrmConditionalRule {
  readonly id: number;
  readonly name: string;
  readonly module: string;
  /** The rule applies to users of these roles and members of these groups (to everyone when both are empty). */
  readonly roleIds: readonly number[];
  readonly groupIds: readonly number[];
  /** All must hold. */
  readonly conditions: readonly { readonly field: string; readonly op: ComparisonOperator; readonly value?: FieldValue }[];
  readonly effects: readonly { readonly field: string; readonly effect: FieldEffect }[];
  /** The whole record is read-only while the conditions hold. */
  readonly allReadOnly: boolean;
}

export const HostConditionalRules = Symbol.for('business-portal.HostConditionalRules');
export interface HostConditionalRules {
  rules(module?: string): Promise<readonly CrmConditionalRule[]>;
}

// ─────────────────────── languages, licences, installation ───────────────────

export const HostRegional = Symbol.for('business-portal.HostRegional');
export interface HostRegional {
  languages(): readonly { readonly code: LanguageCode; readonly name: string }[];
  defaultLanguage(): LanguageCode;
  /** The CRM's time zone (IANA name, e.g. `Europe/Rome`): support dates are days in this zone. */
  timeZone(): string;
}

export const HostLicences = Symbol.for('business-portal.HostLicences');
export interface HostLicences {
  /** Whether the CRM holds a licence, e.g. `business-portal`. */
  has(feature: string): Promise<boolean>;
}

/** How this CRM came to have the plugin: a fresh install, or an upgrade from an older release. */
export type InstallOrigin =
  | { readonly kind: 'fresh' }
  /** `fromRelease`: the release's name, e.g. `20.04`, or empty when the host does not know it. */
  | { readonly kind: 'upgraded'; readonly fromRelease: string; readonly hadPortalVersion1: boolean };

export const HostInstallation = Symbol.for('business-portal.HostInstallation');
export interface HostInstallation {
  origin(): InstallOrigin;
  /** A secret kept by the host for this plugin (at least 32 random bytes), stable across restarts. */
  pluginSecret(pluginId: string): Buffer;
}

export interface LogFields {
  readonly [key: string]: string | number | boolean | null | undefined;
}

export const HostLogger = Symbol.for('business-portal.HostLogger');
export interface HostLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

// ─────────────────────────────────── the whole ───────────────────────────────

/** Everything a host gives a plugin. */
export interface HostApi {
  readonly apiVersion: string;
  readonly http: HostHttp;
  readonly database: HostDatabase;
  readonly settingsMenu: HostSettingsMenu;
  readonly recordBlocks: HostRecordBlocks;
  readonly modules: HostModuleRegistry;
  readonly records: HostRecords;
  readonly users: HostUsers;
  readonly emailTemplates: HostEmailTemplates;
  readonly mail: HostMail;
  readonly conditionalRules: HostConditionalRules;
  readonly regional: HostRegional;
  readonly licences: HostLicences;
  readonly installation: HostInstallation;
  readonly logger: HostLogger;
}

/** What the plugin's entry point exports (as its default export, a factory of it). */
export interface PluginLifecycle {
  readonly id: string;
  /** Runs pending migrations and seeds what the plugin needs. Safe to call again: a no-op when up to date. */
  install(host: HostApi): Promise<void>;
  /** Registers menu entries, record blocks, routes and listeners. Requires `install`. */
  activate(host: HostApi): Promise<void>;
  /** Undoes everything `activate` registered. */
  deactivate(): Promise<void>;
  /** Removes the plugin; with `keepData: false` its tables are dropped too. Requires `deactivate` first. */
  uninstall(host: HostApi, options: { readonly keepData: boolean }): Promise<void>;
  /**
   * Demo data of the plugin: makes these contacts portal users with a known password (no change
   * required at first login). Only a demo calls it; real installs never do. Idempotent.
   */
  seedDemo?(host: HostApi, customers: readonly { readonly contactId: number; readonly password: string }[]): Promise<void>;
}

/** Options a host may pass when it creates the plugin (from its own configuration). */
export interface PluginOptions {
  /** Where to mount the customer portal instead of the manifest's `mount.portal`. */
  readonly portalPath?: string;
  /** The folder that holds `manifest.json` (the plugin finds its migrations, locales and templates there). */
  readonly rootDir?: string;
}

/** The default export of the plugin's entry module. */
export type PluginFactory = (options?: PluginOptions) => PluginLifecycle;
