/**
 * The one access layer of the customer portal. Every page, API route, export, search, count,
 * download and email of the portal asks a `PortalAccessContext` what a contact may see and do:
 * - which modules (the policy's, never beyond eligible ones);
 * - which records: the scope becomes part of the host's SQL condition of every query, count,
 *   get and write (`record-scope.ts`); a record out of scope is "not found";
 * - which fields: hidden ones (by the profile, or by a conditional rule on this record) are
 *   removed here, once, before a record leaves the layer — lists, records, sort keys, search
 *   filters, exports and error messages only ever see visible fields;
 * - which actions: create (never Accounts), edit, delete, comment, upload, resolve, export;
 *   conditional rules are enforced on every save.
 */
import type { Request, Response } from 'express';
import { inject, injectable, optional } from 'inversify';
import semver from 'semver';
import { Transaction } from 'sequelize';
import type { Readable } from 'node:stream';
import {
  HostDatabase,
  HostLogger,
  HostModuleRegistry,
  HostRecords,
  HostRegional,
  HostUsers,
  InvalidRecordError,
  RecordNotFoundError,
  StaleRecordError,
  UnknownFieldError,
  type Comment,
  type CommentPage,
  type CrmRecord,
  type DocumentFile,
  type DocumentPage,
  type FieldDefinition,
  type FieldValue,
  type LanguageCode,
  type RecordCondition,
  type RecordSort,
} from '../host-contract/index.js';
import { PortalSessions, type PortalSession } from '../auth/portal-sessions.js';
import { isCustomerPath, PUBLIC_CATALOGUES } from '../eligibility/module-eligibility.js';
import { HostApiVersion } from '../lifecycle/contributions.js';
import { toIsoDateTime } from '../lifecycle/sql-values.js';
import { NO_RULE_EFFECTS, evaluateRules, fieldsRulesMayHide, unionOfOutcomes, type RuleOutcome } from '../conditionals/rule-evaluation.js';
import type { ConditionalRule, ModuleTool } from '../profiles/profile-document.js';
import { rulesWithInstants } from '../conditionals/datetime-rule-values.js';
import { AccessError, invalid, notAllowed, notFound, refused, type AccessProblem } from './access-errors.js';
import { AccessPolicies } from './access-policies.js';
import { nameFields, recordName } from './record-names.js';
import type { AccessPolicy, ModulePolicy, VisibleFieldAccess } from './access-policy.js';
import { clipped, coerceFieldValue, textMax, TYPED_TEXT, isBlankText, isCustomerLink, isEmptyValue, longerThan, sameValue } from './field-input.js';
import { ScopeSubject, documentLists, scopeCondition } from './record-scope.js';
import { searchedSpans } from './wall-clock.js';
import { ALLOWED_UPLOADS } from './upload-checks.js';
import { NewRecordOwner } from './new-record-owner.js';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
export const MAX_PAGE = 100_000;
/** How many ids of a list an export reads at a time: its memory stays bounded whatever the list's length. */
const EXPORT_ID_CHUNK = 10_000;
/**
 * How many comments or files a read of all of a record's (`allComments`, `allDocuments`) holds at a
 * time. Each batch is a page by offset: a record of n comments costs about n²/2000 index rows
 * skipped, against holding all n (a ticket of 16,000 comments held 43 MB to answer with them at once).
 */
export const ALL_BATCH = 1000;
export const COMMENT_MAX = 10_000;

/** Columns every module has besides its fields (sortable). */
const SYSTEM_SORTS = new Set(['createdAt', 'modifiedAt']);

/**
 * A record's, comment's or file's time as the portal gives it: ISO 8601 in UTC (`…T13:37:21.927Z`),
 * as the contract gives datetime values. A host may write these times with its own UTC offset
 * (`…T14:37:21+01:00`): passed on, one answer held two spellings of time, and a client that
 * compares them as text (or by the document's word) got them wrong.
 */
const inUtc = (time: string): string => toIsoDateTime(time) ?? time;
/**
 * A contact's email is their portal login: on a stored contact it is the CRM's to change, never a
 * customer's (a colleague's login re-addressed by another customer would mail them its new password).
 */
export const CONTACT_LOGIN_FIELD = 'email';
/**
 * What describes a Documents record's stored file: set by the host with the file, never by a
 * customer — on a stored record or on a new one (only an upload sets them, from the file). A
 * download is named, typed and sized by them (its `Content-Length` is the size): a customer who
 * may edit their company's documents renamed a colleague's PDF to `.html`, or gave it a size that
 * cut the answer short.
 */
export const DOCUMENT_FILE_FIELDS: readonly string[] = ['filename', 'filesize', 'mimetype'];

/**
 * Characters that show nothing and join nothing, as a mail or a web page pastes them into a search
 * box: the soft hyphen, zero-width space, direction marks and embeddings, word joiner, invisible
 * operators, byte-order mark. Zero-width (non-)joiners stay: they are part of emoji and words.
 */
const UNSEEN = /[\u00AD\u180E\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/gu;

/**
 * A search as the customer sees what they typed or pasted: unseen characters dropped, and each run of
 * spaces (a tab, a no-break space, two spaces) one space, then trimmed. `Mario\u00a0Rossi` finds
 * `Mario Rossi`; a search of unseen characters only is no search.
 */
function searchedText(text: string): string {
  return text.replace(UNSEEN, '').replace(/\s+/gu, ' ').trim();
}

/** Field types a general search looks into. */
const SEARCHABLE = new Set(['text', 'textarea', 'email', 'phone', 'url', 'picklist']);

export interface PortalField {
  readonly name: string;
  readonly label: string;
  readonly type: FieldDefinition['type'];
  readonly access: VisibleFieldAccess;
  readonly mandatory: boolean;
  /** For picklists: the values the profile's owner sees. */
  readonly options?: readonly string[];
  /**
   * For a list's searchable picklist column: the values its filter offers — the options, then every
   * other value of the field a record in the customer's list holds (set in the CRM by a user of
   * another role): what the customer sees on their records can be filtered for.
   */
  readonly filterOptions?: readonly string[];
  /** For picklists whose host labels their values (contract 1.2.0): option → its text in the customer's language. */
  readonly optionLabels?: Readonly<Record<string, string>>;
  /** For references: the module pointed at. */
  readonly referenceModule?: string;
  /** For a text the customer may write: the most characters it takes (a save refuses more). */
  readonly maxLength?: number;
}

export interface ReferenceLabel {
  readonly id: number;
  readonly label: string;
  /** Whether the customer can open it (it is in their scope of a module they view). */
  readonly module: string;
}

export interface PortalRow {
  readonly id: number;
  readonly label: string;
  readonly values: Readonly<Record<string, FieldValue>>;
  /** Reference field → the record it points at, when the customer may see it. */
  readonly references: Readonly<Record<string, ReferenceLabel | null>>;
  readonly createdAt: string;
  readonly modifiedAt: string;
}

export interface PortalRecordView extends PortalRow {
  readonly module: string;
  /** The visible fields of this record with their state on this record (rules applied). */
  readonly fields: readonly PortalField[];
  readonly editable: boolean;
  readonly deletable: boolean;
  /** A ticket the customer may close with "OK, resolved" (whether or not it is closed already). */
  readonly resolvable: boolean;
  readonly version: number;
}

export interface ListRequest {
  /** Field → text searched in it (several at once, all must match). */
  readonly filters?: Readonly<Record<string, string>>;
  /** The general search box: any searchable list column contains it. */
  readonly search?: string;
  readonly sort?: RecordSort;
  readonly page?: number;
  readonly pageSize?: number;
  /**
   * A datetime filter written without an offset is the CRM's wall clock (the pages: what the list
   * shows); otherwise it needs an offset or `Z` (the API), and a bare time is refused.
   */
  readonly wallClock?: boolean;
}

export interface ListView {
  readonly module: string;
  readonly columns: readonly PortalField[];
  readonly rows: readonly PortalRow[];
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly sort: RecordSort;
  readonly filters: Readonly<Record<string, string>>;
  readonly search: string;
  /** The columns the list may be filtered and sorted by (a column some rule hides on some rows is not). */
  readonly searchable: readonly string[];
}

/**
 * A file as the customer sees it beside a record (the documents tool) or on its download button:
 * what the Documents fields hidden to them would show is absent.
 */
export interface ShownDocument {
  readonly documentId: number;
  readonly createdAt: string;
  readonly title?: string;
  readonly fileName?: string;
  readonly mimeType?: string;
  readonly size?: number;
}

/** A file's facts, each with the Documents field it is the value of. */
const DOCUMENT_FACTS = [
  ['title', 'title'],
  ['fileName', 'filename'],
  ['mimeType', 'mimetype'],
  ['size', 'filesize'],
] as const satisfies readonly (readonly [keyof ShownDocument, string])[];

export interface UploadedFile {
  readonly title: string;
  readonly fileName: string;
  readonly mimeType: string;
  readonly content: Buffer;
}

/** A field's label in `language` (English where it has none there). */
export const labelOf = (field: FieldDefinition, language: LanguageCode): string => (field.label as Record<string, string>)[language] ?? field.label.en;

/**
 * The labels of a picklist's values in `language` (English, else the value, where it has none): the
 * options, and every other value the CRM labels — a record may hold one the owner's role no longer
 * offers (shown, not offered). Labels of values are not secret: the value itself is shown.
 */
function optionLabels(field: FieldDefinition, options: readonly string[], language: LanguageCode): { optionLabels?: Record<string, string> } {
  const labels = field.picklistLabels;
  if (!labels) return {};
  const values = [...new Set([...options, ...Object.keys(labels)])];
  return { optionLabels: Object.fromEntries(values.map((value) => [value, Object.hasOwn(labels, value) ? (labels[value]![language] ?? labels[value]!.en) : value])) };
}

/** A picklist value as the customer reads it (its label in their language, else as stored). */
export const optionText = (field: Pick<PortalField, 'optionLabels'>, value: string): string =>
  field.optionLabels && Object.hasOwn(field.optionLabels, value) ? field.optionLabels[value]! : value;

const andAll = (...conditions: (RecordCondition | undefined)[]): RecordCondition => {
  const parts = conditions.filter((c): c is RecordCondition => c !== undefined);
  return parts.length === 1 ? parts[0]! : { and: parts };
};

/**
 * All of a record's comments or files, newest first, `ALL_BATCH` at a time (`read` gives a page by
 * offset). An item added meanwhile pushes the next page down by one: what the previous batch held
 * already is not given again.
 */
async function* newestInBatches<T>(read: (page: { readonly limit: number; readonly offset: number }) => Promise<readonly T[]>, idOf: (item: T) => number): AsyncGenerator<readonly T[]> {
  let previous = new Set<number>();
  for (let offset = 0; ; offset += ALL_BATCH) {
    const batch = await read({ limit: ALL_BATCH, offset });
    yield batch.filter((item) => !previous.has(idOf(item)));
    if (batch.length < ALL_BATCH) return;
    previous = new Set(batch.map(idOf));
  }
}

/** The most statements a list page's picklist filter spends finding the values held outside the role's options. */
export const HELD_VALUE_READS = 20;

/** Whether a scope is exactly the record `id` (`id in [id]`, as the Contacts scope `contact` is). */
function isOnly(condition: RecordCondition, id: number): boolean {
  return 'field' in condition && condition.field === 'id' && condition.op === 'in' && Array.isArray(condition.value) && condition.value.length === 1 && condition.value[0] === id;
}

export class PortalAccessContext {
  private readonly scopes = new Map<string, Promise<RecordCondition>>();
  private readonly picklists = new Map<string, Promise<readonly string[]>>();
  /** Records this context has read in the customer's scope (`Module:id`): a tool's check need not read them again. */
  private readonly inScope = new Set<string>();

  constructor(
    readonly policy: AccessPolicy,
    readonly subject: ScopeSubject,
    readonly language: LanguageCode,
    private readonly registry: HostModuleRegistry,
    private readonly records: HostRecords,
    private readonly database: HostDatabase,
    /** Who owns what the customer creates (looked up only then). */
    private readonly owners: NewRecordOwner,
    /** The CRM's time zone: a datetime column searched by a day means that day there (and an export is named by its day). */
    readonly timeZone: string = 'UTC',
    /** The host answers a page of comments (contract 1.3.0); an older one answers all of them. */
    private readonly pagedComments: boolean = false,
    /** The host answers a page of documents and counts them (contract 1.4.0); an older one answers all of them. */
    private readonly pagedDocuments: boolean = false,
    /** The host sorts a picklist in its values' order when asked (contract 1.5.0); an older one by the stored value. */
    private readonly picklistOrder: boolean = false,
  ) {}

  get contactId(): number {
    return this.subject.contactId;
  }

  private judgedRules: readonly ConditionalRule[] | undefined;
  /** The profile's rules as they are judged: a datetime's value as an instant in the CRM's zone (`datetime-rule-values.ts`). */
  private get rules(): readonly ConditionalRule[] {
    this.judgedRules ??= rulesWithInstants(this.policy.rules, (module, field) => this.registry.module(module)?.fields.find((f) => f.name === field), this.timeZone);
    return this.judgedRules;
  }

  /** The modules of the portal menu, in order. */
  get modules(): readonly ModulePolicy[] {
    return this.policy.modules;
  }

  /** A module the customer may open (view), or `not-found`. */
  module(name: string): ModulePolicy {
    const module = this.policy.modules.find((m) => m.name === name);
    if (!module || !this.registry.module(name)) throw notFound();
    return module;
  }

  private viewable(name: string): ModulePolicy {
    const module = this.module(name);
    if (!module.view) throw notFound();
    return module;
  }

  hasTool(name: string, tool: ModuleTool): boolean {
    const module = this.policy.modules.find((m) => m.name === name);
    return Boolean(module?.view && module.tools[tool]);
  }

  /** The SQL condition of the customer's records of a module (computed once per request). */
  scope(name: string): Promise<RecordCondition> {
    const module = this.module(name);
    let condition = this.scopes.get(name);
    if (!condition) {
      condition = scopeCondition(this.registry, this.records, name, module.scope, this.subject);
      this.scopes.set(name, condition);
    }
    return condition;
  }

  // ─────────────────────────────────── fields ───────────────────────────────────

  /**
   * A picklist's values as the customer may pick or search them. A public catalogue's own condition
   * field (the FAQ's status) offers only the value the catalogue shows: customers never see a draft,
   * so a "Draft" filter could only ever find nothing.
   */
  private options(module: string, field: FieldDefinition): Promise<readonly string[]> {
    const key = `${module}.${field.name}`;
    let values = this.picklists.get(key);
    if (!values) {
      const catalogue = PUBLIC_CATALOGUES[module];
      const all = this.registry.picklistValues(module, field.name, this.policy.picklistUserId ?? undefined);
      values = catalogue?.field === field.name ? all.then((found) => found.filter((value) => value === catalogue.value)) : all;
      this.picklists.set(key, values);
    }
    return values;
  }

  /** `only`: describe just these fields (a list needs its columns, not every picklist's options). */
  private async describe(module: ModulePolicy, outcome: RuleOutcome, forWrite: boolean, only?: readonly string[]): Promise<PortalField[]> {
    const described = module.fields
      .filter((field) => !outcome.hidden.has(field.name) && (!only || only.includes(field.name)))
      .map((field) => {
        const writable = forWrite && field.access === 'readwrite' && !outcome.allReadOnly && !outcome.readOnly.has(field.name) && !isCustomerLink(field);
        // Every picklist's options are asked for at once (one statement each), then awaited together.
        const options = field.type === 'picklist' || field.type === 'multipicklist' ? this.options(module.name, field) : null;
        return { field, writable, options };
      });
    const options = await Promise.all(described.map((d) => d.options));
    return described.map(({ field, writable }, index): PortalField => ({
      name: field.name,
      label: labelOf(field, this.language),
      type: field.type,
      access: writable ? 'readwrite' : 'readonly',
      mandatory: writable && (field.mandatory || outcome.mandatory.has(field.name)),
      ...(options[index] ? { options: options[index], ...optionLabels(field, options[index], this.language) } : {}),
      ...(field.type === 'reference' && field.referenceModules?.[0] ? { referenceModule: field.referenceModules[0] } : {}),
      ...(writable && TYPED_TEXT.has(field.type) ? { maxLength: textMax(field) } : {}),
    }));
  }

  /**
   * The fields of a new record's form (rules evaluated on the values typed so far). A Documents
   * record's file name, size and type are left off: a new record has no file, and empty read-only
   * inputs would only be noise (a stored record's view still shows them).
   */
  async formFields(name: string, values: Readonly<Record<string, FieldValue>> = {}): Promise<PortalField[]> {
    const module = this.module(name);
    if (!module.create) throw notAllowed();
    // As a save judges them: a form's text as its field's value (an unchecked box's "false" is false).
    const typed: Record<string, FieldValue> = {};
    for (const [field, raw] of Object.entries(values)) {
      const definition = module.definition.fields.find((f) => f.name === field);
      const coerced = definition ? coerceFieldValue(definition, raw) : null;
      if (coerced?.ok) typed[field] = coerced.value;
    }
    const outcome = unionOfOutcomes(this.newOutcome(module), evaluateRules(this.rules, name, await this.newRecordValues(module, typed)));
    const hidden = module.name === 'Documents' ? new Set([...outcome.hidden, ...DOCUMENT_FILE_FIELDS]) : outcome.hidden;
    return this.describe(module, { ...outcome, hidden }, true);
  }

  /**
   * What a customer never writes on a new record, whatever the profile says: a Documents record's
   * file name, size and type. A record created here has no file; the one path that stores a file
   * (`attach`, the documents tool's upload) has the host set them from the file it stores.
   */
  private newOutcome(module: ModulePolicy): RuleOutcome {
    return module.name === 'Documents' ? { ...NO_RULE_EFFECTS, readOnly: new Set(DOCUMENT_FILE_FIELDS) } : NO_RULE_EFFECTS;
  }

  /** What a new record will hold besides what the customer typed (its links to them, default picklist values): rules see it all. */
  private async newRecordValues(module: ModulePolicy, typed: Readonly<Record<string, FieldValue>>): Promise<Record<string, FieldValue>> {
    const values: Record<string, FieldValue> = { ...typed, ...this.links(module).values };
    await this.defaults(module, values);
    return values;
  }

  /** The rules' outcome on a stored record, and what a customer never changes on one (a contact's login email, a document's file). */
  private storedOutcome(module: ModulePolicy, record: CrmRecord): RuleOutcome {
    const outcome = evaluateRules(this.rules, module.name, record.values);
    const fixed = module.name === 'Contacts' ? [CONTACT_LOGIN_FIELD] : module.name === 'Documents' ? DOCUMENT_FILE_FIELDS : [];
    return fixed.length > 0 ? { ...outcome, readOnly: new Set([...outcome.readOnly, ...fixed]) } : outcome;
  }

  /** A field the list may be filtered and sorted by: visible, and hidden by no rule on any row. */
  private searchableField(module: ModulePolicy, name: string): (FieldDefinition & { access: VisibleFieldAccess }) | undefined {
    return fieldsRulesMayHide(this.rules, module.name).has(name) ? undefined : this.fieldOf(module, name);
  }

  /** Only the visible fields of a record, with rule-hidden ones removed. */
  private visibleValues(module: ModulePolicy, record: CrmRecord, names: readonly string[], outcome: RuleOutcome): Record<string, FieldValue> {
    const visible = new Set(module.fields.map((f) => f.name));
    const values: Record<string, FieldValue> = {};
    for (const name of names) if (visible.has(name) && !outcome.hidden.has(name)) values[name] = record.values[name] ?? null;
    return values;
  }

  /** A record's name from the name fields the customer may read on this record (see record-names.ts). */
  private recordLabel(module: ModulePolicy, record: CrmRecord, outcome: RuleOutcome): string {
    return recordName(module.definition, record, (field) => module.fields.some((f) => f.name === field) && !outcome.hidden.has(field));
  }

  /** Labels of the records that reference fields point at, resolved only within the customer's scope. */
  private async referenceLabels(module: ModulePolicy, rows: readonly { values: Readonly<Record<string, FieldValue>> }[]): Promise<Map<string, ReferenceLabel>> {
    const labels = new Map<string, ReferenceLabel>();
    const wanted = new Map<string, Set<number>>();
    for (const field of module.fields) {
      const target = field.type === 'reference' ? field.referenceModules?.[0] : undefined;
      if (!target) continue;
      for (const row of rows) {
        const value = row.values[field.name];
        if (typeof value === 'number') {
          if (!wanted.has(target)) wanted.set(target, new Set());
          wanted.get(target)!.add(value);
        }
      }
    }
    for (const [target, ids] of wanted) {
      const policy = this.policy.modules.find((m) => m.name === target && m.view);
      if (!policy) {
        await this.ownLabels(target, ids, labels);
        continue;
      }
      // A label field some rule of the target hides is shown only where that record's rules leave it.
      const mayHide = fieldsRulesMayHide(this.rules, target);
      const ruled = nameFields(policy.definition).some((field) => mayHide.has(field));
      const outcomeOf = (record: CrmRecord) => (ruled ? evaluateRules(this.rules, target, record.values) : NO_RULE_EFFECTS);
      const scope = await this.scope(target);
      if (target === 'Contacts' && isOnly(scope, this.subject.contactId)) {
        // In contact scope the only contact the customer sees is their own, loaded with the session.
        const own = this.subject.contact;
        if (ids.has(own.id)) labels.set(`${target}:${own.id}`, { id: own.id, module: target, label: this.recordLabel(policy, own, outcomeOf(own)) });
        continue;
      }
      const page = await this.records.query(target, {
        where: andAll(scope, { field: 'id', op: 'in', value: [...ids] }),
        fields: [...new Set([...nameFields(policy.definition), ...(ruled ? this.ruleFields(target) : [])])],
        limit: ids.size,
      });
      for (const record of page.rows) labels.set(`${target}:${record.id}`, { id: record.id, module: target, label: this.recordLabel(policy, record, outcomeOf(record)) });
    }
    return labels;
  }

  /**
   * Where the profile shows neither Contacts nor Accounts (version 1's default, say), a reference
   * to the customer themself or to their own company is still named (by its label field, not
   * linked): a ticket's "Contact" and "Organization" are never blank for the customer's own.
   */
  private async ownLabels(target: string, ids: ReadonlySet<number>, labels: Map<string, ReferenceLabel>): Promise<void> {
    const definition = this.registry.module(target);
    if (!definition) return;
    // Named by the fields the profile leaves visible (and, for a module on the menu without view, its rules too).
    const onMenu = this.policy.modules.find((m) => m.name === target);
    const hidden = this.policy.hiddenFields[target] ?? [];
    const label = (record: CrmRecord) =>
      onMenu ? this.recordLabel(onMenu, record, evaluateRules(this.rules, target, record.values)) : recordName(definition, record, (field) => !hidden.includes(field));
    if (target === 'Contacts' && ids.has(this.contactId)) {
      labels.set(`${target}:${this.contactId}`, { id: this.contactId, module: target, label: label(this.subject.contact) });
    }
    const account = this.subject.accountId;
    if (target === 'Accounts' && account !== null && ids.has(account)) {
      const own = await this.records.get('Accounts', account);
      if (own) labels.set(`${target}:${account}`, { id: account, module: target, label: label(own) });
    }
  }

  private referencesOf(module: ModulePolicy, values: Readonly<Record<string, FieldValue>>, labels: Map<string, ReferenceLabel>): Record<string, ReferenceLabel | null> {
    const references: Record<string, ReferenceLabel | null> = {};
    for (const field of module.fields) {
      if (field.type !== 'reference' || !(field.name in values)) continue;
      const value = values[field.name];
      references[field.name] = typeof value === 'number' ? (labels.get(`${field.referenceModules?.[0]}:${value}`) ?? null) : null;
    }
    return references;
  }

  /** The fields rules need to be evaluated, beside those shown. */
  private ruleFields(name: string): string[] {
    return [...new Set(this.rules.filter((r) => r.module === name).flatMap((r) => r.conditions.map((c) => c.field)))];
  }

  // ──────────────────────────────────── lists ────────────────────────────────────

  private fieldOf(module: ModulePolicy, name: string): (FieldDefinition & { access: VisibleFieldAccess }) | undefined {
    return module.fields.find((f) => f.name === name);
  }

  /** The filter and search condition of a list request; only visible fields, only with the search tool. */
  private async searchCondition(module: ModulePolicy, request: ListRequest): Promise<{ where?: RecordCondition; filters: Record<string, string>; search: string }> {
    const filters: Record<string, string> = {};
    const conditions: RecordCondition[] = [];
    const entries = Object.entries(request.filters ?? {})
      .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      .map(([name, text]) => [name, searchedText(text)] as const)
      .filter(([, text]) => text !== '');
    const search = searchedText(request.search ?? '');
    if ((entries.length > 0 || search !== '') && !module.tools.search) throw notAllowed();
    const problems: AccessProblem[] = [];
    for (const [name, rawText] of entries) {
      const field = this.searchableField(module, name);
      const text = clipped(rawText, 200);
      if (!field) {
        problems.push({ field: name, code: 'unknown-field' });
        continue;
      }
      filters[name] = text;
      if (field.type === 'picklist' || field.type === 'multipicklist') conditions.push({ field: name, op: field.type === 'picklist' ? 'eq' : 'contains', value: text });
      else if (SEARCHABLE.has(field.type)) conditions.push({ field: name, op: 'contains', value: text });
      else if (field.type === 'datetime') {
        // A day: every time of it in the CRM's time zone (as the pages show datetimes). A time, as
        // precisely as written: what the list shows (to the minute) finds what it shows.
        const spans = searchedSpans(text, this.timeZone, { wallClock: request.wallClock === true });
        if (spans === null) problems.push({ field: name, code: 'invalid-value', expected: 'datetime' });
        else {
          const within = spans.map((span) => andAll({ field: name, op: 'gte', value: span.from }, { field: name, op: 'lt', value: span.to }));
          conditions.push(within.length === 0 ? { field: 'id', op: 'in', value: [] } : within.length === 1 ? within[0]! : { or: within });
        }
      } else {
        const coerced = coerceFieldValue(field, text);
        if (!coerced.ok) problems.push(refused(name, coerced));
        else conditions.push({ field: name, op: 'eq', value: coerced.value });
      }
    }
    if (problems.length > 0) throw invalid(problems);
    if (search !== '') {
      const columns = module.listColumns.map((c) => this.searchableField(module, c)).filter((f): f is NonNullable<typeof f> => f !== undefined && SEARCHABLE.has(f.type));
      const needle = clipped(search, 200);
      // A picklist is found by its stored value or by its label in the customer's language ("aperto" finds "Open").
      const anyOf = columns.flatMap((f): RecordCondition[] => [{ field: f.name, op: 'contains', value: needle }, ...this.labelMatches(f, needle)]);
      conditions.push(anyOf.length === 0 ? { field: 'id', op: 'in', value: [] } : { or: anyOf });
    }
    return { where: conditions.length === 0 ? undefined : andAll(...conditions), filters, search };
  }

  /**
   * The stored values of a picklist whose label in the customer's language contains `needle`, as one
   * condition (none when no label matches). Multipicklists are not part of the general search.
   */
  private labelMatches(field: FieldDefinition, needle: string): RecordCondition[] {
    const labels = field.picklistLabels;
    if (!labels || field.type !== 'picklist') return [];
    const wanted = needle.toLocaleLowerCase(this.language);
    const values = Object.entries(labels)
      .filter(([value, label]) => (label[this.language] ?? label.en).toLocaleLowerCase(this.language).includes(wanted) && !value.toLocaleLowerCase().includes(wanted))
      .map(([value]) => value);
    return values.length === 0 ? [] : [{ field: field.name, op: 'in', value: values }];
  }

  private sortOf(module: ModulePolicy, sort: RecordSort | undefined): RecordSort {
    if (!sort) return { field: 'modifiedAt', direction: 'desc' };
    const direction = sort.direction === 'asc' ? 'asc' : 'desc';
    if (SYSTEM_SORTS.has(sort.field) || this.searchableField(module, sort.field)) return { field: sort.field, direction };
    throw invalid([{ field: sort.field, code: 'unknown-field' }]);
  }

  /**
   * The sort as the host is asked for it: a picklist column in the picklist's own order (Low,
   * Normal, High, Urgent), the same in every language, from a host of contract 1.5.0.
   */
  private hostSort(module: ModulePolicy, sort: RecordSort): RecordSort {
    const picklist = this.picklistOrder && module.definition.fields.some((f) => f.name === sort.field && f.type === 'picklist');
    return picklist ? { ...sort, picklistOrder: true } : sort;
  }

  async list(name: string, request: ListRequest = {}): Promise<ListView> {
    return this.listPage(this.viewable(name), request, true);
  }

  /**
   * `withTotal`: count the whole list too (a page shows it; an export reading batch by batch does not need it).
   * `only`: the page is these records of the list (an export's batch), still within the scope and the search.
   */
  private async listPage(module: ModulePolicy, request: ListRequest, withTotal: boolean, only?: readonly number[]): Promise<ListView> {
    const name = module.name;
    const pageSize = Math.min(Math.max(Math.trunc(request.pageSize ?? DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE);
    const page = Math.min(Math.max(Math.trunc(request.page ?? 1), 1), MAX_PAGE);
    const sort = this.sortOf(module, request.sort);
    const { where, filters, search } = await this.searchCondition(module, request);
    const columns = module.listColumns;
    const scope = await this.scope(name);
    // The rows (and total) and the columns' descriptions (picklist options) do not wait for each other.
    const [result, described] = await Promise.all([
      this.records.query(name, {
        where: andAll(scope, where, only ? { field: 'id', op: 'in', value: [...only] } : undefined),
        sort: [this.hostSort(module, sort)],
        limit: pageSize,
        offset: only ? 0 : (page - 1) * pageSize,
        fields: [...new Set([...columns, ...nameFields(module.definition), ...this.ruleFields(name)])].filter((f) => module.definition.fields.some((d) => d.name === f)),
        withTotal,
      }),
      this.describe(module, NO_RULE_EFFECTS, false, columns),
    ]);
    const searchable = columns.filter((c) => this.searchableField(module, c) !== undefined);
    // An export's batch (\`only\`) offers no filter: its columns need no held values.
    const filterable = only ? described : await Promise.all(described.map((field) => (searchable.includes(field.name) ? this.withHeldValues(module, scope, field) : field)));
    const shaped = result.rows.map((record) => {
      const outcome = evaluateRules(this.rules, name, record.values);
      return { record, outcome, values: this.visibleValues(module, record, columns, outcome) };
    });
    const labels = await this.referenceLabels(module, shaped);
    return {
      module: name,
      columns: columns.map((c) => filterable.find((f) => f.name === c)).filter((f): f is PortalField => f !== undefined),
      rows: shaped.map(({ record, outcome, values }) => ({
        id: record.id,
        label: this.recordLabel(module, record, outcome),
        values,
        references: this.referencesOf(module, values, labels),
        createdAt: inUtc(record.createdAt),
        modifiedAt: inUtc(record.modifiedAt),
      })),
      total: result.total ?? 0,
      page,
      pageSize,
      sort,
      filters,
      search,
      searchable,
    };
  }

  /**
   * A picklist column with its filter's values: its options, then the field's other values that a
   * record within `scope` holds, in the field's order. None is read when the options are every
   * value; else one row at a time among the values not found yet, until none is left: one statement
   * when no record holds another value, one more for each value held (not one per value), and at
   * most `HELD_VALUE_READS` in all: a picklist of thousands of values of which the customer's
   * records hold many would otherwise cost a statement for each on every list page.
   */
  private async withHeldValues(module: ModulePolicy, scope: RecordCondition | undefined, field: PortalField): Promise<PortalField> {
    if (field.type !== 'picklist' || !field.options) return field;
    const options = field.options;
    const others = (module.definition.fields.find((f) => f.name === field.name)?.picklistValues ?? []).filter((value) => !options.includes(value));
    if (others.length === 0) return { ...field, filterOptions: options };
    const held = new Set<string>();
    for (let left = others, reads = 0; left.length > 0 && reads < HELD_VALUE_READS; left = others.filter((value) => !held.has(value)), reads++) {
      const { rows } = await this.records.query(module.name, { where: andAll(scope, { field: field.name, op: 'in', value: left }), limit: 1, fields: [field.name] });
      const value = rows[0]?.values[field.name];
      if (typeof value !== 'string' || !left.includes(value)) break;
      held.add(value);
    }
    return { ...field, filterOptions: [...options, ...others.filter((value) => held.has(value))] };
  }

  /**
   * Refuses what `exportRows` would refuse (module, export tool, search, filters, sort) without
   * reading a row: a HEAD on an export answers with this and the headers only.
   */
  async checkExport(name: string, request: ListRequest = {}): Promise<void> {
    const module = this.exportable(name);
    this.sortOf(module, request.sort);
    await this.searchCondition(module, request);
  }

  /** A module the customer may export (viewable, with the export tool). */
  private exportable(name: string): ModulePolicy {
    const module = this.viewable(name);
    if (!module.tools.export) throw notAllowed();
    return module;
  }

  /**
   * Every row of a list (visible list columns only) in batches, for the CSV export. The list's order
   * is read as ids, a chunk of `EXPORT_ID_CHUNK` at a time; each batch then reads its own rows by id.
   * Batches by OFFSET would sort and skip every row before theirs again (a list of n rows read
   * n²/200 rows); one read of every id would hold the whole list in memory.
   */
  async *exportRows(name: string, request: ListRequest = {}): AsyncGenerator<{ readonly columns: readonly PortalField[]; readonly rows: readonly PortalRow[] }> {
    const module = this.exportable(name);
    const limit = MAX_PAGE * MAX_PAGE_SIZE;
    let yielded = false;
    for (let offset = 0; offset < limit; offset += EXPORT_ID_CHUNK) {
      const ids = await this.listIds(module, request, Math.min(EXPORT_ID_CHUNK, limit - offset), offset);
      for (let start = 0; start < ids.length || !yielded; start += MAX_PAGE_SIZE) {
        const view = await this.listPage(module, { ...request, page: 1, pageSize: MAX_PAGE_SIZE }, false, ids.slice(start, start + MAX_PAGE_SIZE));
        yielded = true;
        yield { columns: view.columns, rows: view.rows };
      }
      if (ids.length < EXPORT_ID_CHUNK) return;
    }
  }

  /** Ids of a list's records in its order (scope, search and sort as `listPage`): `limit` of them from `offset`. */
  private async listIds(module: ModulePolicy, request: ListRequest, limit: number, offset: number): Promise<number[]> {
    const sort = this.sortOf(module, request.sort);
    const { where } = await this.searchCondition(module, request);
    const page = await this.records.query(module.name, { where: andAll(await this.scope(module.name), where), sort: [this.hostSort(module, sort)], limit, ...(offset > 0 ? { offset } : {}), fields: [] });
    return page.rows.map((row) => row.id);
  }

  // ─────────────────────────────────── records ───────────────────────────────────

  /** A record of the customer's scope, whole (internal use: never leaves the layer). */
  private async load(name: string, id: number): Promise<CrmRecord> {
    if (!Number.isSafeInteger(id) || id < 1) throw notFound();
    const page = await this.records.query(name, { where: andAll(await this.scope(name), { field: 'id', op: 'eq', value: id }), limit: 1 });
    const record = page.rows[0];
    if (!record) throw notFound();
    this.inScope.add(`${name}:${id}`);
    return record;
  }

  private async view(module: ModulePolicy, record: CrmRecord): Promise<PortalRecordView> {
    const outcome = this.storedOutcome(module, record);
    const editable = module.edit && !outcome.allReadOnly;
    const fields = await this.describe(module, outcome, editable);
    const values = this.visibleValues(module, record, fields.map((f) => f.name), outcome);
    const labels = await this.referenceLabels(module, [{ values }]);
    return {
      id: record.id,
      module: module.name,
      label: this.recordLabel(module, record, outcome),
      values,
      references: this.referencesOf(module, values, labels),
      fields,
      editable,
      deletable: module.delete && !outcome.allReadOnly,
      resolvable: this.mayResolve(module, outcome),
      version: record.version,
      createdAt: inUtc(record.createdAt),
      modifiedAt: inUtc(record.modifiedAt),
    };
  }

  async record(name: string, id: number): Promise<PortalRecordView> {
    const module = this.viewable(name);
    return this.view(module, await this.load(name, id));
  }

  /**
   * Settles, before a route reads its body, that the record is in the customer's scope (else
   * `not-found`) and, with a tool, that its module has it (else `not-allowed`) — without shaping
   * the record for display as `record()` does.
   */
  async requireRecord(name: string, id: number, tool?: ModuleTool): Promise<void> {
    if (tool) await this.withTool(name, id, tool);
    else {
      this.viewable(name);
      await this.load(name, id);
    }
  }

  /**
   * Checks what a customer sends against the fields they may write: unknown or hidden fields,
   * read-only ones (by the profile or a rule), values of the wrong type, picklist values the
   * owner does not see, references outside the customer's scope, and mandatory fields.
   */
  private async checkInput(module: ModulePolicy, input: Readonly<Record<string, unknown>>, before: CrmRecord | null): Promise<Record<string, FieldValue>> {
    const problems: AccessProblem[] = [];
    const beforeOutcome = before ? this.storedOutcome(module, before) : this.newOutcome(module);
    if (beforeOutcome.allReadOnly) throw notAllowed();
    const values: Record<string, FieldValue> = {};
    for (const [name, raw] of Object.entries(input)) {
      const field = this.fieldOf(module, name);
      if (!field || beforeOutcome.hidden.has(name)) {
        problems.push({ field: name, code: 'unknown-field' });
        continue;
      }
      if (field.access !== 'readwrite' || beforeOutcome.readOnly.has(name) || isCustomerLink(field)) {
        problems.push({ field: name, code: 'not-writable' });
        continue;
      }
      const coerced = coerceFieldValue(field, raw);
      if (!coerced.ok) {
        problems.push(refused(name, coerced));
        continue;
      }
      values[name] = coerced.value;
    }
    if (problems.length > 0) throw invalid(problems);

    // A new record is judged on what it will hold: its links to the customer and default values too.
    const after: Record<string, FieldValue> = before ? { ...before.values, ...values } : await this.newRecordValues(module, values);
    const afterOutcome = evaluateRules(this.rules, module.name, after);
    const outcome = unionOfOutcomes(beforeOutcome, afterOutcome);
    for (const name of Object.keys(values)) {
      // A form sends every field it offered: one this save's other changes make read-only or hidden,
      // sent as stored (or, on a new record, left empty), is not written.
      const untouched = before ? sameValue(values[name], before.values[name]) : isEmptyValue(values[name]) || values[name] === false;
      if ((outcome.hidden.has(name) || outcome.readOnly.has(name) || outcome.allReadOnly) && untouched) {
        delete values[name];
        continue;
      }
      if (outcome.hidden.has(name)) problems.push({ field: name, code: 'unknown-field' });
      else if (outcome.readOnly.has(name) || outcome.allReadOnly) problems.push({ field: name, code: 'not-writable' });
    }
    for (const field of module.fields) {
      const value = values[field.name];
      if (value === undefined || isEmptyValue(value)) continue;
      if (field.type === 'picklist' && !(await this.options(module.name, field)).includes(String(value))) problems.push(refused(field.name, { expected: 'option' }));
      if (field.type === 'multipicklist') {
        const allowed = await this.options(module.name, field);
        if ((value as readonly string[]).some((v) => !allowed.includes(v))) problems.push(refused(field.name, { expected: 'option' }));
      }
      if (field.type === 'reference') {
        const target = field.referenceModules?.[0];
        const reachable = target && this.policy.modules.some((m) => m.name === target && m.view);
        if (!reachable || (await this.records.count(target, andAll(await this.scope(target), { field: 'id', op: 'eq', value: value as number }))) === 0) {
          problems.push({ field: field.name, code: 'not-in-scope' });
        }
      }
    }
    for (const field of module.fields) {
      if (outcome.hidden.has(field.name) || field.access !== 'readwrite' || isCustomerLink(field)) continue;
      // A new record's mandatory picklist left empty gets its first value (`defaults`), e.g. a ticket's status.
      if (before === null && field.type === 'picklist' && field.mandatory && !afterOutcome.mandatory.has(field.name)) continue;
      const required = field.mandatory || afterOutcome.mandatory.has(field.name);
      if (required && isEmptyValue(after[field.name])) problems.push({ field: field.name, code: 'required' });
    }
    if (problems.length > 0) throw invalid(dedupe(problems));
    return values;
  }

  /** Mandatory picklists the customer did not (or cannot) fill get their first value (e.g. a ticket's status). */
  private async defaults(module: ModulePolicy, values: Record<string, FieldValue>): Promise<void> {
    for (const field of module.definition.fields) {
      if (!field.mandatory || field.type !== 'picklist' || !isEmptyValue(values[field.name])) continue;
      const options = await this.options(module.name, field);
      if (options[0] !== undefined) values[field.name] = options[0];
    }
  }

  /** Ties a new record to the customer: reference fields to Contacts / Accounts, and related lists. */
  private links(module: ModulePolicy): { values: Record<string, FieldValue>; lists: { relationId: string; own: boolean; otherId: number }[] } {
    const values: Record<string, FieldValue> = {};
    const lists: { relationId: string; own: boolean; otherId: number }[] = [];
    const accountId = this.subject.accountId;
    for (const relation of this.registry.relations(module.name)) {
      const own = relation.module === module.name;
      const other = own ? relation.relatedModule : relation.module;
      const target = other === 'Contacts' ? this.contactId : other === 'Accounts' ? accountId : null;
      if (target === null || !isCustomerPath(this.registry, relation)) continue;
      if (relation.kind === 'reference' && own && relation.field && module.name !== other) values[relation.field] ??= target;
      else if (relation.kind === 'related-list') lists.push({ relationId: relation.id, own, otherId: target });
    }
    return { values, lists };
  }

  async create(name: string, input: Readonly<Record<string, unknown>>): Promise<PortalRecordView> {
    const module = this.module(name);
    if (!module.create || name === 'Accounts') throw notAllowed();
    const values = await this.checkInput(module, input, null);
    const links = this.links(module);
    await this.defaults(module, values);
    const owner = await this.owners.of(this.policy, name);
    const actor = { kind: 'contact', contactId: this.contactId } as const;
    const record = await this.write(() =>
      // IMMEDIATE (SQLite only; ignored elsewhere): a deferred one that reads first fails with SQLITE_BUSY
      // instead of waiting when another connection wrote meanwhile.
      this.database.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, async (transaction) => {
        const created = await this.records.create(
          name,
          { values: { ...values, ...links.values }, ...(owner ? { owner } : {}) },
          { transaction, actor },
        );
        for (const link of links.lists) {
          if (link.own) await this.records.link(link.relationId, created.id, link.otherId, { transaction, actor });
          else await this.records.link(link.relationId, link.otherId, created.id, { transaction, actor });
        }
        return created;
      }),
    );
    return module.view ? this.view(module, record) : { ...(await this.view(module, record)), editable: false, deletable: false };
  }

  async update(name: string, id: number, input: Readonly<Record<string, unknown>>, expectedVersion?: number): Promise<PortalRecordView> {
    const module = this.viewable(name);
    const before = await this.load(name, id);
    if (!module.edit) throw notAllowed();
    const values = await this.checkInput(module, input, before);
    this.checkVersion(before, expectedVersion);
    const record = await this.write(() =>
      this.records.update(name, id, { values }, { actor: { kind: 'contact', contactId: this.contactId }, ...(expectedVersion !== undefined ? { expectedVersion } : {}) }),
    );
    return this.view(module, record);
  }

  async remove(name: string, id: number, expectedVersion?: number): Promise<void> {
    const module = this.viewable(name);
    const before = await this.load(name, id);
    if (!module.delete || evaluateRules(this.rules, name, before.values).allReadOnly) throw notAllowed();
    this.checkVersion(before, expectedVersion);
    await this.write(() => this.records.delete(name, id, { actor: { kind: 'contact', contactId: this.contactId }, ...(expectedVersion !== undefined ? { expectedVersion } : {}) }));
  }

  /**
   * A version other than the one just read is stale before the host is asked (which checks again,
   * atomically, against a concurrent writer): a page's form may send any number, and one past 32
   * bits made PostgreSQL refuse the host's statement (a 500).
   */
  private checkVersion(record: CrmRecord, expectedVersion: number | undefined): void {
    if (expectedVersion !== undefined && expectedVersion !== record.version) throw new AccessError('stale');
  }

  /** Host refusals become the layer's: a stale version, a record gone, values only the host could judge. */
  private async write<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (isHostError(error, StaleRecordError)) throw new AccessError('stale');
      if (isHostError(error, RecordNotFoundError)) throw notFound();
      if (isHostError(error, InvalidRecordError)) throw invalid(error.problems.map((p) => ({ field: p.field, code: 'invalid-value' as const })));
      if (isHostError(error, UnknownFieldError)) throw invalid([{ field: error.field, code: 'unknown-field' }]);
      throw error;
    }
  }

  // ─────────────────────────────── tickets: comments, files ───────────────────────────────

  /** The record is in scope (read once per context: a record page reads it, then its comments and files) and its module has the tool. */
  private async withTool(name: string, id: number, tool: ModuleTool): Promise<void> {
    const module = this.viewable(name);
    if (!this.inScope.has(`${name}:${id}`)) await this.load(name, id);
    if (!module.tools[tool]) throw notAllowed();
  }

  /**
   * Public comments only, newest first: all, or the page `newest` names (read as a page from a
   * host of contract 1.3.0, sliced here from all of them on an older one). Internal ones never
   * leave the CRM.
   */
  async comments(name: string, id: number, newest?: CommentPage): Promise<readonly Comment[]> {
    await this.withTool(name, id, 'comments');
    const paged = newest !== undefined && this.pagedComments;
    const comments = await this.records.comments(name, id, { includeInternal: false, ...(paged ? { newest } : {}) });
    // By instant, not by text: a host may write its times with its own UTC offset (`…T02:30:00+02:00`).
    const sorted = comments
      .filter((c) => !c.internal)
      .map((c) => ({ ...c, createdAt: inUtc(c.createdAt) }))
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.id - a.id);
    if (!newest || paged) return sorted;
    const offset = newest.offset ?? 0;
    return sorted.slice(offset, offset + newest.limit);
  }

  /**
   * All of a record's public comments, newest first, `ALL_BATCH` at a time, for an answer written as
   * it is read. The record and the tool are checked before the first batch; an older host (before
   * 1.3.0, which reads them all anyway) gives one batch (`newestInBatches`).
   */
  async *allComments(name: string, id: number): AsyncGenerator<readonly Comment[]> {
    if (!this.pagedComments) {
      yield await this.comments(name, id);
      return;
    }
    yield* newestInBatches((page) => this.comments(name, id, page), (comment) => comment.id);
  }

  /** How many public comments the record has (the comments tool). */
  async commentCount(name: string, id: number): Promise<number> {
    await this.withTool(name, id, 'comments');
    return this.records.commentCount(name, id, { includeInternal: false });
  }

  /** A comment from the portal: always public, written as the contact. */
  async addComment(name: string, id: number, body: string): Promise<Comment> {
    await this.withTool(name, id, 'comments');
    const text = body.trim();
    const blank = isBlankText(text);
    if (blank) throw invalid([{ field: 'body', code: 'required' }]);
    if (longerThan(text, COMMENT_MAX)) throw invalid([refused('body', { max: COMMENT_MAX })]);
    const comment = await this.write(() => this.records.addComment(name, id, { body: text, internal: false }, { actor: { kind: 'contact', contactId: this.contactId } }));
    return { ...comment, createdAt: inUtc(comment.createdAt) };
  }

  /**
   * The record's files, newest first: all, or the page `newest` names (read as a page from a host
   * of contract 1.4.0, sliced here from all of them on an older one).
   */
  async documents(name: string, id: number, newest?: DocumentPage): Promise<readonly ShownDocument[]> {
    await this.withTool(name, id, 'documents');
    const paged = newest !== undefined && this.pagedDocuments;
    const files = await this.records.documents(name, id, paged ? { newest } : {});
    // By instant, not by text, as comments are.
    const sorted = [...files].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.documentId - a.documentId);
    if (!newest || paged) return this.shownDocuments(sorted);
    const offset = newest.offset ?? 0;
    return this.shownDocuments(sorted.slice(offset, offset + newest.limit));
  }

  /** All of a record's files, newest first, `ALL_BATCH` at a time, as `allComments` (one batch from a host before 1.4.0). */
  async *allDocuments(name: string, id: number): AsyncGenerator<readonly ShownDocument[]> {
    if (!this.pagedDocuments) {
      yield await this.documents(name, id);
      return;
    }
    yield* newestInBatches((page) => this.documents(name, id, page), (file) => file.documentId);
  }

  /**
   * Files as the customer may see them: without the Documents fields their profile hides (whether
   * or not Documents is on their menu: the documents tool shows files of tickets, invoices… all the
   * same), nor those a conditional rule hides on that file's own Documents record. A file shows
   * what its record would: never a title, name, type or size its record page would not.
   */
  private async shownDocuments(files: readonly DocumentFile[]): Promise<ShownDocument[]> {
    const hidden = new Set(this.policy.hiddenDocumentFields);
    const mayHide = fieldsRulesMayHide(this.rules, 'Documents');
    const ruled = DOCUMENT_FACTS.map(([, field]) => field).filter((field) => mayHide.has(field) && !hidden.has(field));
    const hiddenByRule = new Map<number, ReadonlySet<string>>();
    if (ruled.length > 0) {
      // The rules' fields of these files' records, a page of them at a time (a record may have thousands of files).
      const fields = this.ruleFields('Documents');
      for (let start = 0; start < files.length; start += MAX_PAGE_SIZE) {
        const ids = files.slice(start, start + MAX_PAGE_SIZE).map((file) => file.documentId);
        const page = await this.records.query('Documents', { where: { field: 'id', op: 'in', value: ids }, fields, limit: ids.length });
        for (const record of page.rows) hiddenByRule.set(record.id, evaluateRules(this.rules, 'Documents', record.values).hidden);
      }
    }
    return files.map((file) => {
      // A record gone meanwhile (its rules unread) shows nothing a rule may hide.
      const byRule = hiddenByRule.get(file.documentId);
      const shown: Record<string, unknown> = { documentId: file.documentId, createdAt: inUtc(file.createdAt) };
      for (const [key, field] of DOCUMENT_FACTS) {
        if (!hidden.has(field) && !(ruled.includes(field) && (byRule?.has(field) ?? true))) shown[key] = file[key];
      }
      return shown as unknown as ShownDocument;
    });
  }

  /**
   * The name a download of `file` is given (`Content-Disposition`), its shown facts `shown`.
   *
   * A download delivers the file: its bytes, hence its size (`Content-Length`) and its type
   * (`Content-Type`, which the bytes tell anyway), are what the customer was let read, whatever
   * the profile says of the fields `filesize` and `mimetype` — those describe the file, the
   * download is the file. Its name is not part of the bytes: it is a field of the Documents record,
   * written by whoever stored the file and often saying what the file is about or for
   * (`acme-churn-risk-internal.txt`); the browser shows it in its downloads and saves the file
   * under it. A customer whose profile (or a rule) hides the file name gets the file named by its
   * id and the extension of its type (`document-12.pdf`), so it still opens with the right program.
   */
  private downloadName(file: DocumentFile, shown: ShownDocument): string {
    if (shown.fileName !== undefined) return shown.fileName;
    const extension = Object.entries(ALLOWED_UPLOADS).find(([, allowed]) => allowed.mime === file.mimeType)?.[0];
    return `document-${file.documentId}${extension ? `.${extension}` : ''}`;
  }

  /** How many files the record has (the documents tool): counted by a host of contract 1.4.0, by reading them all on an older one. */
  async documentCount(name: string, id: number): Promise<number> {
    await this.withTool(name, id, 'documents');
    if (this.pagedDocuments && this.records.documentCount) return this.records.documentCount(name, id);
    return (await this.records.documents(name, id)).length;
  }

  /**
   * Whether the customer titles the files they upload: not where the profile hides the Documents
   * title or makes it read-only (on the menu or not); such an upload is titled by its file name.
   */
  get titlesUploads(): boolean {
    return !this.policy.hiddenDocumentFields.includes('title') && !this.policy.readOnlyDocumentFields.includes('title');
  }

  /**
   * The file has been checked by the caller (size, type, content); the layer checks who may attach
   * it where, and keeps a typed title out of a title the customer may not write.
   */
  async attach(name: string, id: number, file: UploadedFile): Promise<ShownDocument> {
    await this.withTool(name, id, 'documents');
    const titled = this.titlesUploads ? file : { ...file, title: file.fileName };
    const stored = await this.write(() => this.records.attachDocument(name, id, titled, { actor: { kind: 'contact', contactId: this.contactId } }));
    return (await this.shownDocuments([stored]))[0]!;
  }

  /**
   * A file the customer may download: its Documents record is in their Documents scope, or it is
   * attached to a record in scope of a module whose documents tool they have. `file` is for the
   * download's bytes and headers only; `shown` is what may be shown of it, `downloadName` the
   * name to send it under. `reopen` opens its bytes again from the start, without asking again
   * whether the customer may (a text download reads a file through to tell its charset, `textDownload`).
   */
  async openDocument(documentId: number): Promise<{ readonly file: DocumentFile; readonly stream: Readable; readonly shown: ShownDocument; readonly downloadName: string; readonly reopen: () => Promise<Readable> }> {
    if (!Number.isSafeInteger(documentId) || documentId < 1) throw notFound();
    if (!(await this.mayReadDocument(documentId))) throw notFound();
    const opened = await this.records.openDocument(documentId);
    if (!opened) throw notFound();
    try {
      const [shown] = await this.shownDocuments([opened.file]);
      const reopen = async () => {
        const again = await this.records.openDocument(documentId);
        if (!again) throw notFound();
        return again.stream;
      };
      return { ...opened, shown: shown!, downloadName: this.downloadName(opened.file, shown!), reopen };
    } catch (error) {
      opened.stream.destroy();
      throw error;
    }
  }

  /**
   * The file a record page links to (`…/m/:module/:id/documents/:documentId`), served only under a
   * record it belongs to: a file attached to the record through a Documents related list (what the
   * documents tool lists beside it), or a Documents record's own file (the same id). Any other
   * pairing is `not-found`, as a missing file is: the address says what it serves, and a file the
   * customer may read elsewhere is not served under every record they may read. The record's
   * scope and its link to the file are one SQL count (a ticket may hold thousands of files); the
   * file's own check (`openDocument`) still follows.
   */
  async openRecordDocument(name: string, id: number, documentId: number): ReturnType<PortalAccessContext['openDocument']> {
    const module = this.viewable(name);
    if (!Number.isSafeInteger(id) || id < 1 || !Number.isSafeInteger(documentId) || documentId < 1) throw notFound();
    const own = name === 'Documents';
    if (own && documentId !== id) throw notFound();
    const links: RecordCondition[] = own ? [] : documentLists(this.registry, name).map((relation) => ({ linkedThrough: relation.id, ids: [documentId] }));
    if (!own && (!module.tools.documents || links.length === 0)) throw notFound();
    const holds = andAll(await this.scope(name), { field: 'id', op: 'eq', value: id }, links.length === 0 ? undefined : links.length === 1 ? links[0] : { or: links });
    if ((await this.records.count(name, holds)) === 0) throw notFound();
    this.inScope.add(`${name}:${id}`);
    return this.openDocument(documentId);
  }

  private async mayReadDocument(documentId: number): Promise<boolean> {
    const documents = this.policy.modules.find((m) => m.name === 'Documents' && m.view);
    // A Documents record this request has read in scope already (its own page) needs no second look.
    if (documents && (this.inScope.has(`Documents:${documentId}`) || (await this.records.count('Documents', andAll(await this.scope('Documents'), { field: 'id', op: 'eq', value: documentId }))) > 0)) return true;
    for (const relation of this.registry.relations('Documents')) {
      if (relation.kind !== 'related-list') continue;
      const other = relation.module === 'Documents' ? relation.relatedModule : relation.module;
      if (other === 'Documents' || !this.hasTool(other, 'documents')) continue;
      const ids = await this.records.relatedIds(relation.id, 'Documents', documentId);
      if (ids.length === 0) continue;
      if ((await this.records.count(other, andAll(await this.scope(other), { field: 'id', op: 'in', value: [...ids] }))) > 0) return true;
    }
    return false;
  }

  /**
   * Whether "OK, resolved" may close this ticket: the customer sees its status (neither the profile
   * nor a rule hides it), no rule makes the status or the whole ticket read-only, and the profile
   * lets them edit tickets — version 1's customers, who edit nothing, may close their tickets, as
   * the classic portal let them. A status read-only by the profile does not stop it: the button is
   * how customers who may not pick a status close a ticket.
   */
  private mayResolve(module: ModulePolicy, outcome: RuleOutcome): boolean {
    if (module.name !== 'HelpDesk' || !this.fieldOf(module, 'status')) return false;
    if (outcome.hidden.has('status') || outcome.readOnly.has('status') || outcome.allReadOnly) return false;
    return module.edit || this.policy.source.version === 1;
  }

  /**
   * "OK, resolved": the customer closes a ticket of theirs; answers whether it changed. The button
   * sends no version: a ticket changed between its read and its write (the same button pressed in
   * another tab, a CRM user's edit) is read and judged again, so a ticket closed meanwhile answers
   * false rather than a conflict.
   */
  async resolveTicket(id: number, closedStatus = 'Closed'): Promise<boolean> {
    const module = this.viewable('HelpDesk');
    for (let attempt = 1; ; attempt++) {
      const record = await this.load('HelpDesk', id);
      const outcome = this.storedOutcome(module, record);
      // A ticket closed already answers so to whoever sees its status (a closed ticket is often all read-only).
      if (!this.fieldOf(module, 'status') || outcome.hidden.has('status')) throw notAllowed();
      if (record.values.status === closedStatus) return false;
      if (!this.mayResolve(module, outcome)) throw notAllowed();
      try {
        await this.write(() => this.records.update('HelpDesk', id, { values: { status: closedStatus } }, { actor: { kind: 'contact', contactId: this.contactId }, expectedVersion: record.version }));
        return true;
      } catch (error) {
        if (!(error instanceof AccessError && error.kind === 'stale') || attempt >= 3) throw error;
      }
    }
  }
}

/**
 * A host error of the contract's class. The host may hold its own copy of the contract module (a
 * plugin installed as a package, or loaded through another module loader), so the class is
 * recognised by its name as well as by `instanceof`.
 */
function isHostError<T extends Error>(error: unknown, type: abstract new (...args: never[]) => T): error is T {
  return error instanceof type || (error instanceof Error && error.name === type.name);
}

function dedupe(problems: AccessProblem[]): AccessProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.field}:${p.code}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export const PortalAccess = Symbol.for('business-portal.access.PortalAccess');
export interface PortalAccess {
  /** The access of the customer signed in on this request (computed once per request), or null. */
  forRequest(req: Request, res: Response, language: LanguageCode): Promise<PortalAccessContext | null>;
  /** The access of a signed-in session (for emails and jobs that have no request). */
  forSession(session: Pick<PortalSession, 'account' | 'contact'>, language: LanguageCode): Promise<PortalAccessContext>;
}

const CONTEXT_KEY = 'bpAccess';

@injectable()
export class LayeredPortalAccess implements PortalAccess {
  constructor(
    @inject(PortalSessions) private readonly sessions: PortalSessions,
    @inject(AccessPolicies) private readonly policies: AccessPolicies,
    @inject(HostModuleRegistry) private readonly registry: HostModuleRegistry,
    @inject(HostRecords) private readonly records: HostRecords,
    @inject(HostDatabase) private readonly database: HostDatabase,
    @inject(HostRegional) private readonly regional: HostRegional,
    @inject(HostUsers) users: HostUsers,
    @inject(HostLogger) logger: HostLogger,
    @inject(HostApiVersion) @optional() hostApiVersion?: string,
  ) {
    this.owners = new NewRecordOwner(users, logger);
    const since = (version: string) => hostApiVersion !== undefined && semver.valid(hostApiVersion) !== null && semver.gte(hostApiVersion, version);
    this.pagedComments = since('1.3.0');
    this.pagedDocuments = since('1.4.0');
    this.picklistOrder = since('1.5.0');
  }

  private readonly owners: NewRecordOwner;
  /** Contract 1.3.0 reads a page of a record's comments. */
  private readonly pagedComments: boolean;
  /** Contract 1.4.0 reads a page of a record's documents and counts them. */
  private readonly pagedDocuments: boolean;
  /** Contract 1.5.0 sorts a picklist in its values' order. */
  private readonly picklistOrder: boolean;

  forRequest(req: Request, res: Response, language: LanguageCode): Promise<PortalAccessContext | null> {
    let pending = res.locals[CONTEXT_KEY] as Promise<PortalAccessContext | null> | undefined;
    if (!pending) {
      pending = this.build(req, res, language);
      res.locals[CONTEXT_KEY] = pending;
    }
    return pending;
  }

  /**
   * The profile's policy is looked up as soon as the session's row names the account (the row
   * carries the policy stamp), while the session checks the account (its contact). The policy is
   * used only once the session is confirmed.
   */
  private async build(req: Request, res: Response, language: LanguageCode): Promise<PortalAccessContext | null> {
    const presented = await this.sessions.presented(req);
    if (!presented) return null;
    // policyForStamp reads the stamp itself when the row carries none.
    const early = this.policies.policyForStamp(presented.profileId, (await this.sessions.presentedCompanions(req)) ?? {});
    early.catch(() => undefined); // awaited below when the session holds; a failure then surfaces there
    const session = await this.sessions.current(req, res);
    if (!session) return null;
    const policy = session.account.profileId === presented.profileId ? await early : await this.policies.policyFor(session.account.profileId);
    return this.context(policy, session.contact, language);
  }

  async forSession(session: Pick<PortalSession, 'account' | 'contact'>, language: LanguageCode): Promise<PortalAccessContext> {
    return this.context(await this.policies.policyFor(session.account.profileId), session.contact, language);
  }

  private context(policy: AccessPolicy, contact: CrmRecord, language: LanguageCode): PortalAccessContext {
    return new PortalAccessContext(
      policy,
      new ScopeSubject(contact, this.records, this.registry),
      language,
      this.registry,
      this.records,
      this.database,
      this.owners,
      this.regional.timeZone(),
      this.pagedComments,
      this.pagedDocuments,
      this.picklistOrder,
    );
  }
}
