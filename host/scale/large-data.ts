/**
 * A large CRM for benchmarks and query-plan checks, generated deterministically from a seed:
 * accounts in groups (parent accounts with subsidiaries), contacts of which every tenth is a portal
 * user, tickets with public and internal comments, documents linked to tickets, contacts, accounts,
 * invoices and quotes, and the invoices and quotes themselves. At scale 1: 5,000 accounts, 50,000
 * contacts, 5,000 portal users, 500,000 tickets, 2,000,000 comments, 200,000 documents, 50,000
 * invoices and 50,000 quotes.
 *
 * Speed over ceremony: rows are written with multi-row INSERTs of SQL literals (every value is
 * generated here; texts go through `sequelize.escape`), in one transaction per chunk, while the
 * next chunk is being built. Record ids are given explicitly so that references need no lookup
 * (PostgreSQL's sequences are moved past them at the end). The one portal password is hashed
 * once, by the plugin itself (its `seedDemo` hook makes the first portal user); the other portal
 * accounts copy that row. Documents share a few small files: the generated data is for reading
 * (deleting a generated document removes the file the others share).
 *
 * The database must hold no accounts, contacts, tickets, invoices, quotes or documents yet.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { QueryTypes, Transaction, type Sequelize } from 'sequelize';
import type { DatabaseDialect } from '../../plugin/host-contract/index.js';
import type { ReferenceHost } from '../reference-host.js';
import { booleanParameter, dateTimeParameter } from '../records/field-values.js';
import { RECORD_NUMBER_SERIES } from '../records/record-numbers.js';

/** The password of every generated portal user (no change required at first login). */
export const SCALE_PORTAL_PASSWORD = 'Portal-scale-1';

export interface LargeDataCounts {
  readonly accounts: number;
  readonly contacts: number;
  readonly portalUsers: number;
  readonly tickets: number;
  readonly comments: number;
  readonly documents: number;
  readonly invoices: number;
  readonly quotes: number;
}

export const FULL_SCALE: LargeDataCounts = {
  accounts: 5_000,
  contacts: 50_000,
  portalUsers: 5_000,
  tickets: 500_000,
  comments: 2_000_000,
  documents: 200_000,
  invoices: 50_000,
  quotes: 50_000,
};

export interface LargeDataProgress {
  /** What is being written now, e.g. `comments`. */
  readonly phase: string;
  /** Rows written so far, over every phase, out of `total`. */
  readonly done: number;
  readonly total: number;
}

export interface LargeDataOptions {
  readonly seed: number;
  /** 1 = full size; 0.01 = a hundredth (at least 2 accounts, 10 contacts, 1 portal user). */
  readonly scale?: number;
  readonly onProgress?: (progress: LargeDataProgress) => void;
}

export interface LargeDataSummary {
  readonly counts: LargeDataCounts;
  /** A few generated portal logins (all with `SCALE_PORTAL_PASSWORD`), the first on the account with the most subsidiaries. */
  readonly sampleLogins: readonly { readonly email: string; readonly contactId: number; readonly accountId: number | null }[];
  readonly seconds: number;
}

export class LargeDataError extends Error {}

export function plannedCounts(scale: number): LargeDataCounts {
  if (!(Number.isFinite(scale) && scale > 0 && scale <= 10)) throw new LargeDataError('The scale must be a number above 0 and at most 10');
  const of = (n: number, min: number) => Math.max(min, Math.round(n * scale));
  const contacts = of(FULL_SCALE.contacts, 10);
  return {
    accounts: of(FULL_SCALE.accounts, 2),
    contacts,
    portalUsers: Math.min(contacts, of(FULL_SCALE.portalUsers, 1)),
    tickets: of(FULL_SCALE.tickets, 10),
    comments: of(FULL_SCALE.comments, 10),
    documents: of(FULL_SCALE.documents, 5),
    invoices: of(FULL_SCALE.invoices, 2),
    quotes: of(FULL_SCALE.quotes, 2),
  };
}

/** mulberry32: small, fast and the same on every platform. */
class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  words(list: readonly string[], count: number): string {
    return Array.from({ length: count }, () => this.pick(list)).join(' ');
  }
}

const FIRST_NAMES = ['Anna', 'Marco', 'Giulia', 'Luca', 'Sara', 'John', 'Emma', 'Oliver', 'Sofia', 'Paolo', 'Chiara', 'David', 'Laura', 'Peter', 'Elena', 'James', 'Maria', 'Franco', 'Lucy', 'Tom'];
const LAST_NAMES = ['Rossi', 'Smith', 'Bianchi', 'Brown', 'Romano', 'Taylor', 'Colombo', 'Wilson', 'Ricci', 'Evans', 'Marino', 'Clarke', 'Greco', 'Walker', "O'Neill", 'Conti', 'Wright', 'Gallo', 'Hughes', 'Costa'];
const COMPANY_WORDS = ['Acme', 'Nova', 'Alpine', 'Blue', 'Delta', 'Orion', 'Vega', 'Tirreno', 'Po', 'North', 'Quantum', 'Solaris', 'Etna', 'Brenta', 'Atlas', 'Iris'];
const COMPANY_KINDS = ['Ltd', 'SpA', 'Srl', 'Inc', 'GmbH', 'Group', 'Systems', 'Logistics', 'Foods', 'Energy'];
const CITIES = ['Milano', 'Roma', 'Torino', 'London', 'Manchester', 'Bologna', 'Napoli', 'Dublin', 'Firenze', 'Verona'];
const INDUSTRIES = ['Manufacturing', 'Retail', 'Finance', 'Healthcare', 'Energy', 'Transport', 'Education', 'Hospitality'];
const WORDS = [
  'printer', 'invoice', 'login', 'server', 'network', 'delivery', 'update', 'report', 'error', 'screen', 'order', 'account', 'license',
  'backup', 'email', 'password', 'slow', 'missing', 'broken', 'request', 'refund', 'contract', 'warranty', 'installation', 'training',
];
const TICKET_STATUS = ['Open', 'Open', 'In Progress', 'Wait For Response', 'Closed', 'Closed', 'Closed'];
const PRIORITY = ['Low', 'Normal', 'Normal', 'High', 'Urgent'];
const SEVERITY = ['Minor', 'Minor', 'Major', 'Critical'];
const CATEGORY = ['Small Problem', 'Big Problem', 'Other'];
const INVOICE_STATUS = ['Created', 'Approved', 'Sent', 'Paid', 'Paid', 'Cancelled'];
const QUOTE_STAGE = ['Created', 'Delivered', 'Reviewed', 'Accepted', 'Rejected'];
const MIME_TYPES = [
  { mime: 'application/pdf', ext: 'pdf' },
  { mime: 'image/png', ext: 'png' },
  { mime: 'text/plain', ext: 'txt' },
];
/** How many files the generated documents share (fixed keys: the same on every run). */
const SHARED_FILES = 8;

const DAY = 86_400_000;
/** Every generated date lies in the five years before this instant (fixed, so that a seed gives the same data). */
const END = Date.UTC(2026, 0, 1);
const START = END - 5 * 365 * DAY;
/** Rows per INSERT statement and per transaction. */
const ROWS_PER_STATEMENT = 500;
const ROWS_PER_CHUNK = 20_000;

interface Contact {
  readonly id: number;
  readonly accountId: number | null;
  readonly email: string;
  readonly language: string;
}

/** Writes chunks of rows as multi-row INSERTs, one transaction per chunk, overlapping with the building of the next chunk. */
class ChunkWriter {
  private pending: Promise<void> = Promise.resolve();
  private buffered: string[] = [];
  done = 0;

  constructor(
    private readonly sequelize: Sequelize,
    private readonly dialect: DatabaseDialect,
    private readonly table: string,
    private readonly columns: readonly string[],
    private readonly progress: (rows: number) => void,
  ) {}

  /** `row` is the SQL of one row's values, without parentheses. */
  async add(row: string): Promise<void> {
    this.buffered.push(row);
    if (this.buffered.length >= ROWS_PER_CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    const rows = this.buffered;
    this.buffered = [];
    await this.pending;
    if (rows.length === 0) return;
    this.pending = this.write(rows);
  }

  async finish(): Promise<void> {
    await this.flush();
    await this.pending;
  }

  private async write(rows: readonly string[]): Promise<void> {
    const qi = this.sequelize.getQueryInterface();
    const head = `INSERT INTO ${qi.quoteIdentifier(this.table)} (${this.columns.map((c) => qi.quoteIdentifier(c)).join(', ')}) VALUES `;
    // SQLite: take the write lock at BEGIN (a host process may be reading the same file).
    await this.sequelize.transaction(this.dialect === 'sqlite' ? { type: Transaction.TYPES.IMMEDIATE } : {}, async (transaction) => {
      for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
        const slice = rows.slice(at, at + ROWS_PER_STATEMENT);
        await this.sequelize.query(`${head}(${slice.join('), (')})`, { transaction, raw: true });
      }
    });
    this.done += rows.length;
    this.progress(rows.length);
  }
}

export async function generateLargeData(host: ReferenceHost, options: LargeDataOptions): Promise<LargeDataSummary> {
  const started = Date.now();
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new LargeDataError('The seed must be a whole number of at least 0');
  const counts = plannedCounts(options.scale ?? 1);
  const sequelize = host.api.database.sequelize;
  const dialect = host.api.database.dialect;
  const registry = host.registry;
  const qi = sequelize.getQueryInterface();
  const quote = (identifier: string) => qi.quoteIdentifier(identifier);
  const text = (value: string) => sequelize.escape(value);
  const date = (ms: number) => `'${dateTimeParameter(new Date(ms), dialect)}'`;
  const day = (ms: number) => `'${new Date(ms).toISOString().slice(0, 10)}'`;
  const bool = (value: boolean) => String(booleanParameter(value, dialect));
  const money = (cents: number) => (cents / 100).toFixed(2);

  const modules = ['Accounts', 'Contacts', 'HelpDesk', 'Documents', 'Invoice', 'Quotes'] as const;
  const table: Record<(typeof modules)[number], string> = {} as never;
  for (const module of modules) {
    if (!registry.module(module)) throw new LargeDataError(`The generator needs the standard module ${module}`);
    table[module] = registry.tableName(module);
    const [row] = await sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${quote(table[module])}`, { type: QueryTypes.SELECT });
    if (Number(row?.n ?? 0) > 0) throw new LargeDataError(`Generate into an empty CRM: ${module} holds records already`);
  }
  const documentLinks = new Map<string, string>();
  for (const other of ['HelpDesk', 'Contacts', 'Accounts', 'Invoice', 'Quotes']) {
    const relation = registry.relations('Documents').find((r) => r.kind === 'related-list' && (r.module === other || r.relatedModule === other));
    if (!relation || relation.module !== 'Documents') throw new LargeDataError(`The generator needs the related list Documents~${other}`);
    documentLinks.set(other, relation.id);
  }
  const plugin = host.plugins.list().find((p) => typeof p.lifecycle.seedDemo === 'function' && ['installed', 'active', 'inactive'].includes(p.state));
  if (!plugin) throw new LargeDataError('Portal users need the Business Portal plugin installed (it offers seedDemo)');
  const staff = (await sequelize.query<{ id: number | string }>('SELECT id FROM crm_users ORDER BY id', { type: QueryTypes.SELECT })).map((r) => Number(r.id));
  if (staff.length === 0) throw new LargeDataError('The CRM has no users');

  const random = new SeededRandom(options.seed);
  const total = counts.accounts + counts.contacts + counts.portalUsers + counts.tickets + counts.comments + counts.documents * 2 + counts.invoices + counts.quotes;
  let done = 0;
  let phase = 'accounts';
  const report = (rows: number) => {
    done += rows;
    options.onProgress?.({ phase, done, total });
  };
  const writer = (name: string, columns: readonly string[]) => new ChunkWriter(sequelize, dialect, name, columns, report);
  const recordColumns = ['id', 'owner_kind', 'owner_id', 'created_at', 'modified_at', 'version'];
  const timestamps = () => {
    const created = START + random.int(END - START - DAY);
    const modified = Math.min(END, created + random.int(90 * DAY));
    return { created, modified };
  };
  const system = (id: number, created: number, modified: number) => `${id}, 'user', ${random.pick(staff)}, ${date(created)}, ${date(modified)}, 1`;
  options.onProgress?.({ phase, done, total });

  // ── Accounts: the first fifth stand alone or head a group; the others join a group (up to 3 levels) or stand alone.
  const accountBase = await nextId(sequelize, table.Accounts);
  const depth: number[] = [];
  const parents: (number | null)[] = [];
  const accounts = writer(table.Accounts, [...recordColumns, 'accountname', 'parent_id', 'industry', 'phone', 'email', 'website', 'city', 'country', 'status']);
  for (let i = 0; i < counts.accounts; i += 1) {
    let parent: number | null = null;
    if (i >= Math.ceil(counts.accounts / 5) && random.chance(0.6)) {
      const candidate = random.int(i);
      if (depth[candidate]! < 3) parent = candidate;
    }
    depth.push(parent === null ? 0 : depth[parent]! + 1);
    parents.push(parent);
    const name = `${random.pick(COMPANY_WORDS)} ${random.pick(COMPANY_WORDS)} ${random.pick(COMPANY_KINDS)} ${i + 1}`;
    const domain = `account${i + 1}.example.com`;
    const { created, modified } = timestamps();
    await accounts.add(
      [
        system(accountBase + i, created, modified),
        text(name),
        parent === null ? 'NULL' : String(accountBase + parent),
        text(random.pick(INDUSTRIES)),
        text(`+39 02 ${String(1_000_000 + i).slice(1)}`),
        text(`info@${domain}`),
        text(`https://www.${domain}`),
        text(random.pick(CITIES)),
        text(random.chance(0.7) ? 'Italy' : 'United Kingdom'),
        text(random.chance(0.9) ? 'Active' : 'Prospect'),
      ].join(', '),
    );
  }
  await accounts.finish();

  // ── Contacts: skewed over the accounts (a few large customers, many small ones); 2% without an account.
  phase = 'contacts';
  const contactBase = await nextId(sequelize, table.Contacts);
  const contacts: Contact[] = [];
  const contactWriter = writer(table.Contacts, [...recordColumns, 'firstname', 'lastname', 'email', 'phone', 'title', 'account_id', 'language', 'mailingcity', 'mailingcountry']);
  for (let i = 0; i < counts.contacts; i += 1) {
    const id = contactBase + i;
    const accountId = random.chance(0.02) ? null : accountBase + Math.min(counts.accounts - 1, Math.floor(counts.accounts * random.next() ** 1.5));
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const email = `${first}.${last.replace(/'/g, '')}.${id}@example.com`.toLowerCase();
    const language = random.chance(0.3) ? 'it' : 'en';
    contacts.push({ id, accountId, email, language });
    const { created, modified } = timestamps();
    await contactWriter.add(
      [
        system(id, created, modified),
        text(first),
        text(last),
        text(email),
        text(`+39 333 ${String(10_000_000 + i).slice(1)}`),
        text(random.pick(['Buyer', 'IT manager', 'Accountant', 'Director', 'Engineer'])),
        accountId === null ? 'NULL' : String(accountId),
        text(language),
        text(random.pick(CITIES)),
        text(language === 'it' ? 'Italy' : 'United Kingdom'),
      ].join(', '),
    );
  }
  await contactWriter.finish();

  // ── Portal users: every n-th contact that has an account; the first one through the plugin (which hashes the password once).
  phase = 'portal users';
  const step = Math.max(1, Math.floor(counts.contacts / counts.portalUsers));
  const portalContacts: Contact[] = [];
  for (let i = 0; portalContacts.length < counts.portalUsers && i < contacts.length; i += step) {
    const contact = contacts[i]!;
    if (contact.accountId !== null) portalContacts.push(contact);
  }
  await plugin.lifecycle.seedDemo!(host.api, [{ contactId: portalContacts[0]!.id, password: SCALE_PORTAL_PASSWORD }]);
  const [template] = await sequelize.query<Record<string, unknown>>('SELECT * FROM bp_portal_accounts WHERE contact_id = $contact', {
    bind: { contact: portalContacts[0]!.id },
    type: QueryTypes.SELECT,
  });
  if (!template) throw new LargeDataError('The plugin did not create the first portal user');
  const copied = Object.keys(template).filter((c) => !['id', 'contact_id', 'email', 'language'].includes(c));
  const portal = writer('bp_portal_accounts', ['contact_id', 'email', 'language', ...copied]);
  const copiedSql = copied.map((c) => literal(sequelize, dialect, template[c])).join(', ');
  report(1);
  for (const contact of portalContacts.slice(1)) await portal.add(`${contact.id}, ${text(contact.email)}, ${text(contact.language)}, ${copiedSql}`);
  await portal.finish();

  // ── Tickets (of a contact and, mostly, of the contact's account) with their comments.
  phase = 'tickets';
  const ticketBase = await nextId(sequelize, table.HelpDesk);
  const ticketTimes: number[] = [];
  const ticketContacts: number[] = [];
  const tickets = writer(table.HelpDesk, [...recordColumns, 'ticket_no', 'ticket_title', 'contact_id', 'account_id', 'status', 'priority', 'severity', 'category', 'description', 'solution']);
  for (let i = 0; i < counts.tickets; i += 1) {
    const id = ticketBase + i;
    const contact = contacts[random.int(contacts.length)]!;
    const { created, modified } = timestamps();
    ticketTimes.push(created);
    ticketContacts.push(contact.id);
    const status = random.pick(TICKET_STATUS);
    await tickets.add(
      [
        system(id, created, modified),
        text(`${RECORD_NUMBER_SERIES.HelpDesk!.prefix}${id}`),
        text(`${random.words(WORDS, 2)} ${random.pick(['problem', 'question', 'request', 'issue'])}`),
        String(contact.id),
        contact.accountId === null || random.chance(0.05) ? 'NULL' : String(contact.accountId),
        text(status),
        text(random.pick(PRIORITY)),
        text(random.pick(SEVERITY)),
        text(random.pick(CATEGORY)),
        text(`The ${random.words(WORDS, 3)} does not work since ${new Date(created).toISOString().slice(0, 10)}.`),
        status === 'Closed' ? text(`Fixed the ${random.words(WORDS, 2)}.`) : 'NULL',
      ].join(', '),
    );
  }
  await tickets.finish();

  phase = 'comments';
  const comments = writer('crm_comments', ['module', 'record_id', 'body', 'internal', 'author_kind', 'author_id', 'created_at']);
  let commentsLeft = counts.comments;
  for (let i = 0; i < counts.tickets && commentsLeft > 0; i += 1) {
    const ticketsLeft = counts.tickets - i;
    const n = ticketsLeft === 1 ? commentsLeft : Math.min(commentsLeft, random.int(Math.floor((2 * commentsLeft) / ticketsLeft) + 1));
    commentsLeft -= n;
    let at = ticketTimes[i]!;
    for (let c = 0; c < n; c += 1) {
      at = Math.min(END, at + 60_000 + random.int(3 * DAY));
      const internal = random.chance(0.15);
      const byContact = !internal && random.chance(0.45);
      await comments.add(
        [
          "'HelpDesk'",
          String(ticketBase + i),
          text(`${byContact ? 'Any news on the' : 'We checked the'} ${random.words(WORDS, 3)}${internal ? ' (internal note)' : ''}.`),
          bool(internal),
          byContact ? "'contact'" : "'user'",
          String(byContact ? ticketContacts[i]! : random.pick(staff)),
          date(at),
        ].join(', '),
      );
    }
  }
  await comments.finish();

  // ── Invoices and quotes of contacts and their accounts.
  phase = 'invoices';
  const invoiceBase = await nextId(sequelize, table.Invoice);
  const invoices = writer(table.Invoice, [...recordColumns, 'subject', 'invoice_no', 'contact_id', 'account_id', 'invoicedate', 'duedate', 'status', 'total']);
  for (let i = 0; i < counts.invoices; i += 1) {
    const contact = contacts[random.int(contacts.length)]!;
    const { created, modified } = timestamps();
    await invoices.add(
      [
        system(invoiceBase + i, created, modified),
        text(`Invoice for ${random.words(WORDS, 2)}`),
        text(`${RECORD_NUMBER_SERIES.Invoice!.prefix}${invoiceBase + i}`),
        String(contact.id),
        contact.accountId === null ? 'NULL' : String(contact.accountId),
        day(created),
        day(created + 30 * DAY),
        text(random.pick(INVOICE_STATUS)),
        money(1_000 + random.int(5_000_000)),
      ].join(', '),
    );
  }
  await invoices.finish();

  phase = 'quotes';
  const quoteBase = await nextId(sequelize, table.Quotes);
  const quotes = writer(table.Quotes, [...recordColumns, 'subject', 'quote_no', 'contact_id', 'account_id', 'stage', 'validtill', 'total']);
  for (let i = 0; i < counts.quotes; i += 1) {
    const contact = contacts[random.int(contacts.length)]!;
    const { created, modified } = timestamps();
    await quotes.add(
      [
        system(quoteBase + i, created, modified),
        text(`Quote for ${random.words(WORDS, 2)}`),
        text(`${RECORD_NUMBER_SERIES.Quotes!.prefix}${quoteBase + i}`),
        String(contact.id),
        contact.accountId === null ? 'NULL' : String(contact.accountId),
        text(random.pick(QUOTE_STAGE)),
        day(created + 60 * DAY),
        money(1_000 + random.int(5_000_000)),
      ].join(', '),
    );
  }
  await quotes.finish();

  // ── Documents (records sharing a few small files) and their links: mostly tickets, then contacts, accounts, invoices, quotes.
  phase = 'documents';
  const filesDir = host.records.files.dir;
  await mkdir(filesDir, { recursive: true });
  const keys = Array.from({ length: SHARED_FILES }, (_, i) => `5ca1e${String(i).padStart(27, '0')}`);
  for (const [i, key] of keys.entries()) await writeFile(join(filesDir, key), `Generated document content ${i}\n`, { mode: 0o600 });
  const documentBase = await nextId(sequelize, table.Documents);
  const documents = writer(table.Documents, [...recordColumns, 'title', 'filename', 'filesize', 'mimetype', 'notes', 'folder', 'storage_key']);
  const links = writer('crm_relation_links', ['relation_id', 'record_id', 'related_id']);
  for (let i = 0; i < counts.documents; i += 1) {
    const id = documentBase + i;
    const { created, modified } = timestamps();
    const type = random.pick(MIME_TYPES);
    const name = `${random.pick(WORDS)}-${id}.${type.ext}`;
    const k = random.int(keys.length);
    await documents.add(
      [
        system(id, created, modified),
        text(`${random.words(WORDS, 2)} ${id}`),
        text(name),
        String(`Generated document content ${k}\n`.length),
        text(type.mime),
        'NULL',
        text(random.pick(['Contracts', 'Tickets', 'Invoices', 'General'])),
        text(keys[k]!),
      ].join(', '),
    );
    const roll = random.next();
    const [other, otherId] =
      roll < 0.6
        ? ['HelpDesk', ticketBase + random.int(counts.tickets)]
        : roll < 0.75
          ? ['Contacts', contacts[random.int(contacts.length)]!.id]
          : roll < 0.85
            ? ['Accounts', accountBase + random.int(counts.accounts)]
            : roll < 0.93
              ? ['Invoice', invoiceBase + random.int(counts.invoices)]
              : ['Quotes', quoteBase + random.int(counts.quotes)];
    await links.add(`${text(documentLinks.get(other)!)}, ${id}, ${otherId}`);
  }
  await documents.finish();
  await links.finish();

  phase = 'statistics';
  options.onProgress?.({ phase, done, total });
  if (dialect === 'postgres') {
    for (const name of [table.Accounts, table.Contacts, table.HelpDesk, table.Invoice, table.Quotes, table.Documents]) {
      await sequelize.query(`SELECT setval(pg_get_serial_sequence(${text(name)}, 'id'), (SELECT MAX(id) FROM ${quote(name)}))`);
    }
  }
  // The numbers were written here, not drawn from the series: each starts again after the highest on first use.
  await sequelize.query(`DELETE FROM crm_record_numbers WHERE module IN (${modules.map(text).join(', ')})`);
  await analyze(sequelize, dialect, [...Object.values(table), 'crm_comments', 'crm_relation_links', 'bp_portal_accounts']);

  // Sample logins: a contact of the account with the largest group below it first, then a few others.
  const below = parents.map(() => 0);
  for (let i = parents.length - 1; i >= 0; i -= 1) {
    const parent = parents[i];
    if (parent !== null && parent !== undefined) below[parent]! += below[i]! + 1;
  }
  const groupSize = (c: Contact) => (c.accountId === null ? -1 : below[c.accountId - accountBase]!);
  const first = portalContacts.reduce((best, c) => (groupSize(c) > groupSize(best) ? c : best), portalContacts[0]!);
  const samples = [first, ...portalContacts.filter((c) => c !== first).slice(0, 4)];
  return {
    counts,
    sampleLogins: samples.map((c) => ({ email: c.email, contactId: c.id, accountId: c.accountId })),
    seconds: (Date.now() - started) / 1000,
  };
}

async function nextId(sequelize: Sequelize, table: string): Promise<number> {
  const [row] = await sequelize.query<{ n: number | string | null }>(`SELECT MAX(id) AS n FROM ${sequelize.getQueryInterface().quoteIdentifier(table)}`, {
    type: QueryTypes.SELECT,
  });
  return Number(row?.n ?? 0) + 1;
}

/** A value read from the database, written back as a literal of the same dialect. */
function literal(sequelize: Sequelize, dialect: DatabaseDialect, value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return String(booleanParameter(value, dialect));
  if (value instanceof Date) return sequelize.escape(dateTimeParameter(value, dialect));
  return sequelize.escape(String(value));
}

/** Refreshes the planner's statistics after the bulk load. */
async function analyze(sequelize: Sequelize, dialect: DatabaseDialect, tables: readonly string[]): Promise<void> {
  const quote = (t: string) => sequelize.getQueryInterface().quoteIdentifier(t);
  if (dialect === 'sqlite') {
    // A sample per index is enough for the planner, and keeps ANALYZE quick on millions of rows.
    await sequelize.query('PRAGMA analysis_limit = 1000');
    await sequelize.query('ANALYZE');
  } else if (dialect === 'postgres') {
    await sequelize.query(`ANALYZE ${tables.map(quote).join(', ')}`);
  } else {
    // ANALYZE TABLE answers with a result set (read as one, or Sequelize's MariaDB dialect trips over it).
    await sequelize.query(`ANALYZE TABLE ${tables.map(quote).join(', ')}`, { type: QueryTypes.SELECT });
  }
}
