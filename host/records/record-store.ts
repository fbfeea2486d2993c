/**
 * The reference host's records: one real table per module (see the registry), queried with
 * SQL compiled from the contract's conditions, validated on every write, versioned for
 * optimistic locking. Events leave only after the commit: at once for the store's own
 * transactions, once the caller's has committed when the caller passes one (`after-commit.ts`:
 * never when its COMMIT fails).
 */
import type { Readable } from 'node:stream';
import { QueryTypes, Transaction, type QueryInterface, type Sequelize } from 'sequelize';
import {
  InvalidQueryError,
  InvalidRecordError,
  StaleRecordError,
  UnknownFieldError,
  type Actor,
  type Comment,
  type CommentPage,
  type CrmRecord,
  type DatabaseDialect,
  type DocumentFile,
  type DocumentPage,
  type FieldValue,
  type HostRecords,
  type ModuleDefinition,
  type OwnerRef,
  type ReadOptions,
  type RecordCondition,
  type RecordEvents,
  type RecordInput,
  type RecordPage,
  type RecordQuery,
  type RelationDefinition,
  type Unsubscribe,
  type WriteOptions,
} from '../../plugin/host-contract/index.js';
import type { OpenedDatabase } from '../database.js';
import { UnknownModuleError } from '../registry/module-definition-validation.js';
import type { SqlModuleRegistry } from '../registry/module-registry.js';
import { TypedEvents } from '../registry/typed-events.js';
import { afterCommit, unlessCommitted } from './after-commit.js';
import { DocumentFiles, safeFileName } from './document-files.js';
import {
  MAX_TEXTAREA_LENGTH,
  booleanParameter,
  dateTimeParameter,
  decodeDateTime,
  decodeFieldValue,
  encodeFieldValue,
  isPlainText,
  type FieldProblem,
} from './field-values.js';
import { HOST_MANAGED_FIELDS } from '../registry/host-managed-fields.js';
import { BindParameters, QueryCompiler } from './query-compiler.js';
import { RECORD_NUMBER_SERIES, RecordNumbers } from './record-numbers.js';
import { RecordNotFoundError, RelationUsageError } from './record-errors.js';

type Row = Record<string, unknown>;
type VersionedWrite = WriteOptions & { readonly expectedVersion?: number };

const SYSTEM_ACTOR: Actor = { kind: 'system' };
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;

/**
 * Options of every read. Sequelize's SQLite dialect runs `PRAGMA table_info` before each SELECT
 * whose FROM names a back-quoted table, to parse a model's columns; for raw queries (all of ours:
 * values are normalised by `toRecord`) the answer is never read. An empty `tableNames` skips it:
 * one statement per read instead of two on SQLite, and nothing changes on the other databases.
 */
export const RAW_SELECT = { type: QueryTypes.SELECT, tableNames: [] as string[] } as const;

/** The total's column in a list read with `withTotal`: no field's name (those start with a letter). */
const TOTAL_COLUMN = '_total';

function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

export class SqlRecordStore implements HostRecords {
  private readonly sequelize: Sequelize;
  private readonly dialect: DatabaseDialect;
  private readonly qi: QueryInterface;
  private readonly events: TypedEvents<RecordEvents>;
  private readonly numbers: RecordNumbers;
  readonly files: DocumentFiles;

  constructor(
    db: OpenedDatabase,
    private readonly registry: SqlModuleRegistry,
    filesDir: string,
  ) {
    this.sequelize = db.sequelize;
    this.dialect = db.dialect;
    this.qi = db.sequelize.getQueryInterface();
    this.events = new TypedEvents<RecordEvents>(registry.logger, 'record store');
    this.files = new DocumentFiles(filesDir);
    this.numbers = new RecordNumbers(db.sequelize, db.dialect);
  }

  on<E extends keyof RecordEvents>(event: E, listener: (payload: RecordEvents[E]) => void | Promise<void>): Unsubscribe {
    return this.events.on(event, listener);
  }

  // ───────────────────────────── reads ─────────────────────────────

  async query(module: string, query: RecordQuery = {}): Promise<RecordPage> {
    const definition = this.definition(module);
    const compiler = this.compiler();
    const where = compiler.where(definition, query.where);
    const order = compiler.orderBy(definition, query.sort, RECORD_NUMBER_SERIES[definition.name]?.field);
    const fields = this.selectedFields(definition, query.fields);
    for (const [name, value] of [['limit', query.limit], ['offset', query.offset]] as const) {
      if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw new InvalidQueryError(`"${name}" must be a whole number of at least 0`);
    }
    const table = this.quote(this.registry.tableName(module));
    // The total comes with the rows (a window over every matching row, before LIMIT and OFFSET): one
    // statement and one pass over the matching rows instead of a second statement that reads them
    // all again. On PostgreSQL a statement costs a socket write that wakes the server's process
    // (about 0.3 ms of this process's time on a 2-core machine) plus the server's own work.
    // Only for a read with a condition: a whole table's page is read in an index's order, 20 rows,
    // and counted from an index, where a window would read and sort every row.
    const windowed = query.withTotal === true && query.where !== undefined;
    const total = windowed ? `, COUNT(*) OVER () AS ${this.quote(TOTAL_COLUMN)}` : '';
    let sql = `SELECT ${this.selectList(fields)}${total} FROM ${table} WHERE ${where} ORDER BY ${order}`;
    const bind = compiler.bind;
    if (query.limit !== undefined) sql += ` LIMIT ${bind.add(query.limit)}`;
    if (query.offset) {
      // SQLite and MariaDB accept OFFSET only after a LIMIT.
      if (query.limit === undefined && this.dialect !== 'postgres') sql += this.dialect === 'sqlite' ? ' LIMIT -1' : ' LIMIT 18446744073709551615';
      sql += ` OFFSET ${bind.add(query.offset)}`;
    }
    const reading = this.sequelize.query<Row>(sql, { bind: bind.values, ...RAW_SELECT, transaction: query.transaction });
    const countAll = () => this.count(module, query.where, { transaction: query.transaction });
    // Outside a transaction a separate count runs alongside the rows, not after them.
    const counting = query.withTotal && !windowed ? (query.transaction ? reading.then(countAll) : countAll()) : undefined;
    const [rows, counted] = await Promise.all([reading, counting]);
    const page: { rows: CrmRecord[]; total?: number } = { rows: rows.map((row) => this.toRecord(definition, row, fields)) };
    if (counted !== undefined) page.total = counted;
    else if (windowed) {
      // No row: nothing matches, unless the page starts past the last match (or has no room), where only a count tells.
      page.total = rows.length > 0 ? Number(rows[0]![TOTAL_COLUMN]) : query.offset || query.limit === 0 ? await countAll() : 0;
    }
    return page;
  }

  async count(module: string, where?: RecordCondition, options: ReadOptions = {}): Promise<number> {
    const definition = this.definition(module);
    const compiler = this.compiler();
    const sql = `SELECT COUNT(*) AS n FROM ${this.quote(this.registry.tableName(module))} WHERE ${compiler.where(definition, where)}`;
    const [row] = await this.sequelize.query<{ n: number | string }>(sql, { bind: compiler.bind.values, ...RAW_SELECT, transaction: options.transaction });
    return Number(row?.n ?? 0);
  }

  async get(module: string, id: number, options: ReadOptions = {}): Promise<CrmRecord | null> {
    const definition = this.definition(module);
    const row = await this.row(definition, id, options.transaction);
    return row ? this.toRecord(definition, row, this.selectedFields(definition)) : null;
  }

  // ───────────────────────────── writes ─────────────────────────────

  async create(module: string, input: RecordInput, options: WriteOptions = {}): Promise<CrmRecord> {
    const definition = this.definition(module);
    const record = await this.inTransaction(options, (transaction) => this.insertChecked(definition, input, transaction));
    const actor = options.actor ?? SYSTEM_ACTOR;
    await this.afterCommit(options, () => this.events.emit('record.created', { record, actor }));
    return record;
  }

  async update(module: string, id: number, input: Partial<RecordInput>, options: VersionedWrite = {}): Promise<CrmRecord> {
    const definition = this.definition(module);
    const values = input?.values ?? {};
    const columns = this.checkValues(definition, values, 'update');
    const owner = input?.owner === undefined ? undefined : this.checkOwner(definition, input.owner);
    const { previous, record } = await this.inTransaction(options, async (transaction) => {
      const before = await this.get(module, id, { transaction });
      if (!before) throw new RecordNotFoundError(module, id);
      if (options.expectedVersion !== undefined && before.version !== options.expectedVersion) throw new StaleRecordError(module, id);
      await this.checkReferences(definition, values, transaction);
      const bind = new BindParameters();
      const assignments = Object.entries(columns).map(([column, value]) => `${this.quote(column)} = ${bind.add(value)}`);
      if (owner) assignments.push(`owner_kind = ${bind.add(owner.kind)}`, `owner_id = ${bind.add(owner.id)}`);
      assignments.push(`modified_at = ${bind.add(dateTimeParameter(new Date(), this.dialect))}`, 'version = version + 1');
      // The version check is part of the UPDATE itself: two writers holding the same version cannot both win.
      let sql = `UPDATE ${this.quote(this.registry.tableName(module))} SET ${assignments.join(', ')} WHERE id = ${bind.add(id)}`;
      if (options.expectedVersion !== undefined) sql += ` AND version = ${bind.add(options.expectedVersion)}`;
      const [, changed] = await this.sequelize.query(sql, { bind: bind.values, type: QueryTypes.UPDATE, transaction });
      if (changed === 0) throw options.expectedVersion !== undefined ? new StaleRecordError(module, id) : new RecordNotFoundError(module, id);
      return { previous: before, record: (await this.get(module, id, { transaction }))! };
    });
    const actor = options.actor ?? SYSTEM_ACTOR;
    await this.afterCommit(options, () => this.events.emit('record.updated', { record, previous, actor }));
    return record;
  }

  /** Deletes a record with its related-list links and comments; references to it are emptied. */
  async delete(module: string, id: number, options: VersionedWrite = {}): Promise<void> {
    const definition = this.definition(module);
    const { record, storageKey } = await this.inTransaction(options, async (transaction) => {
      const row = await this.row(definition, id, transaction);
      if (!row) throw new RecordNotFoundError(module, id);
      const table = this.quote(this.registry.tableName(module));
      if (options.expectedVersion !== undefined) {
        const [, changed] = await this.sequelize.query(`UPDATE ${table} SET version = version + 1 WHERE id = $id AND version = $version`, {
          bind: { id, version: options.expectedVersion },
          type: QueryTypes.UPDATE,
          transaction,
        });
        if (changed === 0) throw new StaleRecordError(module, id);
      }
      await this.removeDependents(module, id, transaction);
      await this.sequelize.query(`DELETE FROM ${table} WHERE id = $id`, { bind: { id }, transaction });
      return { record: this.toRecord(definition, row, this.selectedFields(definition)), storageKey: row.storage_key };
    });
    const actor = options.actor ?? SYSTEM_ACTOR;
    await this.afterCommit(options, async () => {
      if (storageKey) await this.files.remove(storageKey);
      await this.events.emit('record.deleted', { record, actor });
    });
  }

  // ───────────────────────────── related lists ─────────────────────────────

  async link(relationId: string, id: number, relatedId: number, options: WriteOptions = {}): Promise<void> {
    const relation = this.relatedList(relationId);
    await this.inTransaction(options, async (transaction) => {
      await this.mustExist(relation.module, id, transaction);
      await this.mustExist(relation.relatedModule, relatedId, transaction);
      const insert = {
        sqlite: 'INSERT OR IGNORE INTO crm_relation_links (relation_id, record_id, related_id) VALUES ($relation, $id, $related)',
        postgres: 'INSERT INTO crm_relation_links (relation_id, record_id, related_id) VALUES ($relation, $id, $related) ON CONFLICT DO NOTHING',
        mariadb: 'INSERT IGNORE INTO crm_relation_links (relation_id, record_id, related_id) VALUES ($relation, $id, $related)',
      }[this.dialect];
      await this.sequelize.query(insert, { bind: { relation: relation.id, id, related: relatedId }, transaction });
    });
  }

  async unlink(relationId: string, id: number, relatedId: number, options: WriteOptions = {}): Promise<void> {
    const relation = this.relatedList(relationId);
    if (!isId(id) || !isId(relatedId)) return;
    await this.sequelize.query('DELETE FROM crm_relation_links WHERE relation_id = $relation AND record_id = $id AND related_id = $related', {
      bind: { relation: relation.id, id, related: relatedId },
      transaction: options.transaction,
    });
  }

  /** Works for related lists and for reference relations, from either side. */
  async relatedIds(relationId: string, module: string, id: number, options: ReadOptions = {}): Promise<readonly number[]> {
    const relation = this.registry.relation(relationId);
    if (!relation || (relation.module !== module && relation.relatedModule !== module)) {
      throw new RelationUsageError(`Relation "${String(relationId).slice(0, 100)}" does not involve module ${String(module).slice(0, 40)}`);
    }
    if (!isId(id)) return [];
    const selects: string[] = [];
    if (relation.kind === 'related-list') {
      if (relation.module === module) selects.push('SELECT related_id AS id FROM crm_relation_links WHERE relation_id = $relation AND record_id = $id');
      if (relation.relatedModule === module) selects.push('SELECT record_id AS id FROM crm_relation_links WHERE relation_id = $relation AND related_id = $id');
    } else {
      const table = this.quote(this.registry.tableName(relation.module));
      const field = this.quote(this.registry.columnOf(relation.module, relation.field!));
      if (relation.module === module) selects.push(`SELECT ${field} AS id FROM ${table} WHERE id = $id AND ${field} IS NOT NULL`);
      if (relation.relatedModule === module) selects.push(`SELECT id FROM ${table} WHERE ${field} = $id`);
    }
    const ids = new Set<number>();
    for (const sql of selects) {
      const rows = await this.sequelize.query<{ id: number | string }>(sql, {
        bind: relation.kind === 'related-list' ? { relation: relation.id, id } : { id },
        ...RAW_SELECT,
        transaction: options.transaction,
      });
      for (const row of rows) ids.add(Number(row.id));
    }
    return [...ids].sort((a, b) => a - b);
  }

  // ───────────────────────────── comments ─────────────────────────────

  /** Oldest first, or a page of the newest, newest first (`newest`). Internal comments only with `includeInternal: true`. */
  async comments(module: string, recordId: number, options: ReadOptions & { readonly includeInternal?: boolean; readonly newest?: CommentPage } = {}): Promise<readonly Comment[]> {
    this.definition(module);
    if (!isId(recordId)) return [];
    return this.commentRows(module, recordId, options);
  }

  /** A record's comments, oldest first; with `commentId`, only that one (a new comment is read back alone, not with all the record's others). */
  private async commentRows(
    module: string,
    recordId: number,
    options: ReadOptions & { readonly includeInternal?: boolean; readonly commentId?: number; readonly newest?: CommentPage },
  ): Promise<Comment[]> {
    const newest = options.newest;
    if (newest && (!Number.isSafeInteger(newest.limit) || newest.limit < 1 || !Number.isSafeInteger(newest.offset ?? 0) || (newest.offset ?? 0) < 0)) {
      throw new InvalidQueryError('"newest" must have a whole "limit" of at least 1 and a whole "offset" of at least 0');
    }
    // A contact author's name comes from the Contacts record (when the module has the name fields).
    const contactFields = this.registry.module('Contacts')?.fields.map((f) => f.name) ?? [];
    const contacts = contactFields.includes('firstname') && contactFields.includes('lastname') ? this.quote(this.registry.tableName('Contacts')) : null;
    const sql = [
      'SELECT c.id, c.module, c.record_id, c.body, c.internal, c.author_kind, c.author_id, c.created_at,',
      `u.first_name AS user_first, u.last_name AS user_last, u.user_name AS user_name${contacts ? ', ct.firstname AS contact_first, ct.lastname AS contact_last' : ''}`,
      'FROM crm_comments c',
      "LEFT JOIN crm_users u ON c.author_kind = 'user' AND u.id = c.author_id",
      contacts ? `LEFT JOIN ${contacts} ct ON c.author_kind = 'contact' AND ct.id = c.author_id` : '',
      'WHERE c.module = $module AND c.record_id = $record',
      options.includeInternal ? '' : 'AND c.internal = $internal',
      options.commentId === undefined ? '' : 'AND c.id = $comment',
      newest ? `ORDER BY c.created_at DESC, c.id DESC LIMIT ${newest.limit} OFFSET ${newest.offset ?? 0}` : 'ORDER BY c.created_at, c.id',
    ].join(' ');
    const rows = await this.sequelize.query<Row>(sql, {
      bind: {
        module,
        record: recordId,
        ...(options.includeInternal ? {} : { internal: booleanParameter(false, this.dialect) }),
        ...(options.commentId === undefined ? {} : { comment: options.commentId }),
      },
      ...RAW_SELECT,
      transaction: options.transaction,
    });
    return rows.map((row) => this.toComment(row));
  }

  async commentCount(module: string, recordId: number, options: ReadOptions & { readonly includeInternal?: boolean } = {}): Promise<number> {
    this.definition(module);
    if (!isId(recordId)) return 0;
    const [row] = await this.sequelize.query<{ n: number | string }>(
      `SELECT COUNT(*) AS n FROM crm_comments WHERE module = $module AND record_id = $record${options.includeInternal ? '' : ' AND internal = $internal'}`,
      {
        bind: { module, record: recordId, ...(options.includeInternal ? {} : { internal: booleanParameter(false, this.dialect) }) },
        ...RAW_SELECT,
        transaction: options.transaction,
      },
    );
    return Number(row?.n ?? 0);
  }

  async addComment(
    module: string,
    recordId: number,
    comment: { readonly body: string; readonly internal: boolean },
    options: WriteOptions & { readonly actor: Actor },
  ): Promise<Comment> {
    this.definition(module);
    const problems: FieldProblem[] = [];
    const body = typeof comment?.body === 'string' ? comment.body.trim() : '';
    if (body === '') problems.push({ field: 'body', problem: 'is mandatory' });
    else if (!isPlainText(body)) problems.push({ field: 'body', problem: 'must be text' });
    else if ([...body].length > MAX_TEXTAREA_LENGTH) problems.push({ field: 'body', problem: `is longer than ${MAX_TEXTAREA_LENGTH} characters` });
    if (typeof comment?.internal !== 'boolean') problems.push({ field: 'internal', problem: 'must be true or false' });
    const actor = options?.actor;
    const authorId = actor?.kind === 'user' ? actor.userId : actor?.kind === 'contact' ? actor.contactId : null;
    if (!actor || !['user', 'contact', 'system'].includes(actor.kind) || (actor.kind !== 'system' && !isId(authorId))) {
      problems.push({ field: 'author', problem: 'must be a CRM user, a contact or the system' });
    } else if (actor.kind === 'contact' && comment.internal) {
      problems.push({ field: 'internal', problem: 'cannot be set by a contact: their comments are public' });
    }
    if (problems.length > 0) throw new InvalidRecordError(module, problems);

    const created = await this.inTransaction(options, async (transaction) => {
      await this.mustExist(module, recordId, transaction);
      const id = await this.insert(
        'crm_comments',
        {
          module,
          record_id: recordId,
          body,
          internal: booleanParameter(comment.internal, this.dialect),
          author_kind: actor.kind,
          author_id: authorId,
          created_at: dateTimeParameter(new Date(), this.dialect),
        },
        transaction,
      );
      const [added] = await this.commentRows(module, recordId, { transaction, includeInternal: true, commentId: id });
      return added!;
    });
    await this.afterCommit(options, () => this.events.emit('comment.added', { comment: created }));
    return created;
  }

  // ───────────────────────────── documents ─────────────────────────────

  /** Oldest first, or a page of the newest, newest first (`newest`). */
  async documents(module: string, recordId: number, options: ReadOptions & { readonly newest?: DocumentPage } = {}): Promise<readonly DocumentFile[]> {
    const newest = options.newest;
    if (newest && (!Number.isSafeInteger(newest.limit) || newest.limit < 1 || !Number.isSafeInteger(newest.offset ?? 0) || (newest.offset ?? 0) < 0)) {
      throw new InvalidQueryError('"newest" must have a whole "limit" of at least 1 and a whole "offset" of at least 0');
    }
    const attached = this.attachedDocuments(module, recordId);
    if (!attached) return [];
    const rows = await this.sequelize.query<Row>(
      `SELECT id, title, filename, mimetype, filesize, created_at FROM ${attached.sql} ` +
        (newest ? `ORDER BY created_at DESC, id DESC LIMIT ${newest.limit} OFFSET ${newest.offset ?? 0}` : 'ORDER BY created_at, id'),
      { bind: attached.bind, ...RAW_SELECT, transaction: options.transaction },
    );
    return rows.map((row) => this.toDocumentFile(row));
  }

  async documentCount(module: string, recordId: number, options: ReadOptions = {}): Promise<number> {
    const attached = this.attachedDocuments(module, recordId);
    if (!attached) return 0;
    const [row] = await this.sequelize.query<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${attached.sql}`, { bind: attached.bind, ...RAW_SELECT, transaction: options.transaction });
    return Number(row?.n ?? 0);
  }

  /** `<Documents table> WHERE …` for the stored files attached to a record, with its bind values; null when it can have none. */
  private attachedDocuments(module: string, recordId: number): { readonly sql: string; readonly bind: Record<string, unknown> } | null {
    this.definition(module);
    const relation = this.documentsRelation(module);
    if (!relation || !isId(recordId)) return null;
    const [documentSide, otherSide] = relation.module === 'Documents' ? ['record_id', 'related_id'] : ['related_id', 'record_id'];
    return {
      sql:
        `${this.quote(this.registry.tableName('Documents'))} ` +
        `WHERE storage_key IS NOT NULL AND id IN (SELECT ${documentSide} FROM crm_relation_links WHERE relation_id = $relation AND ${otherSide} = $record)`,
      bind: { relation: relation.id, record: recordId },
    };
  }

  /**
   * Stores the bytes under a generated name, then creates the Documents record and links it, in
   * one transaction. The file is removed when anything fails, including a later rollback or a
   * failed COMMIT of the caller's transaction.
   */
  async attachDocument(
    module: string,
    recordId: number,
    file: { readonly title: string; readonly fileName: string; readonly mimeType: string; readonly content: Buffer | Readable },
    options: WriteOptions = {},
  ): Promise<DocumentFile> {
    this.definition(module);
    const documents = this.definition('Documents');
    const relation = this.documentsRelation(module);
    if (!relation) throw new RelationUsageError(`Module ${module} has no Documents related list`);
    const fileName = safeFileName(file?.fileName ?? '');
    const mimeType = typeof file?.mimeType === 'string' && MIME_TYPE.test(file.mimeType) ? file.mimeType.toLowerCase() : 'application/octet-stream';
    const values = { title: file?.title, filename: fileName, mimetype: mimeType };
    this.checkValues(documents, values, 'create');
    if (!isId(recordId)) throw new RecordNotFoundError(module, recordId);

    const key = this.files.newKey();
    const removeFile = () => this.files.remove(key);
    let record: CrmRecord;
    try {
      const size = await this.files.write(key, file.content);
      record = await this.inTransaction(options, async (transaction) => {
        await this.mustExist(module, recordId, transaction);
        const created = await this.insertChecked(documents, { values: { ...values, filesize: size } }, transaction, { storage_key: key });
        const [documentId, otherId] = relation.module === 'Documents' ? [created.id, recordId] : [recordId, created.id];
        await this.link(relation.id, documentId, otherId, { transaction });
        return created;
      });
    } catch (error) {
      await removeFile();
      throw error;
    }
    if (options.transaction) unlessCommitted(options.transaction, removeFile);
    const actor = options.actor ?? SYSTEM_ACTOR;
    await this.afterCommit(options, () => this.events.emit('record.created', { record, actor }));
    return this.toDocumentFile({ id: record.id, title: record.values.title, filename: record.values.filename, mimetype: record.values.mimetype, filesize: record.values.filesize, created_at: record.createdAt });
  }

  async openDocument(documentId: number): Promise<{ readonly file: DocumentFile; readonly stream: Readable } | null> {
    if (!this.registry.module('Documents') || !isId(documentId)) return null;
    const [row] = await this.sequelize.query<Row>(
      `SELECT id, title, filename, mimetype, filesize, created_at, storage_key FROM ${this.quote(this.registry.tableName('Documents'))} WHERE id = $id`,
      { bind: { id: documentId }, ...RAW_SELECT },
    );
    if (!row?.storage_key) return null;
    const stream = await this.files.open(row.storage_key);
    if (!stream) {
      this.registry.logger.warn('record store: the file of a document is missing', { documentId });
      return null;
    }
    return { file: this.toDocumentFile(row), stream };
  }

  // ───────────────────────────── internals ─────────────────────────────

  private definition(module: string): ModuleDefinition {
    const definition = this.registry.module(module);
    if (!definition) throw new UnknownModuleError(String(module).slice(0, 60));
    return definition;
  }

  private compiler(): QueryCompiler {
    return new QueryCompiler(this.registry, this.qi, this.dialect);
  }

  private quote(identifier: string): string {
    return this.qi.quoteIdentifier(identifier);
  }

  /** The fields a read returns: those asked for (each checked), else every field the store does not manage itself. */
  private selectedFields(definition: ModuleDefinition, names?: readonly string[]): string[] {
    const visible = definition.fields.map((f) => f.name);
    if (names === undefined) return visible;
    if (!Array.isArray(names)) throw new InvalidQueryError('"fields" must be a list of field names');
    for (const name of names) {
      if (!visible.includes(name) && !['id', 'createdAt', 'modifiedAt'].includes(name)) throw new UnknownFieldError(definition.name, String(name));
    }
    return visible.filter((name) => names.includes(name));
  }

  private selectList(fields: readonly string[]): string {
    return ['id', 'owner_kind', 'owner_id', 'created_at', 'modified_at', 'version', ...fields].map((c) => this.quote(c)).join(', ');
  }

  private async row(definition: ModuleDefinition, id: number, transaction?: Transaction): Promise<Row | null> {
    if (!isId(id)) return null;
    const all = [...definition.fields.map((f) => f.name), ...(HOST_MANAGED_FIELDS[definition.name] ?? [])];
    const [row] = await this.sequelize.query<Row>(`SELECT ${this.selectList(all)} FROM ${this.quote(this.registry.tableName(definition.name))} WHERE id = $id`, {
      bind: { id },
      ...RAW_SELECT,
      transaction,
    });
    return row ?? null;
  }

  private toRecord(definition: ModuleDefinition, row: Row, fields: readonly string[]): CrmRecord {
    const values: Record<string, FieldValue> = {};
    for (const field of definition.fields) if (fields.includes(field.name)) values[field.name] = decodeFieldValue(field, row[field.name]);
    const ownerKind = row.owner_kind;
    return {
      id: Number(row.id),
      module: definition.name,
      values,
      owner: (ownerKind === 'user' || ownerKind === 'group') && row.owner_id !== null ? { kind: ownerKind, id: Number(row.owner_id) } : null,
      createdAt: decodeDateTime(row.created_at) ?? '',
      modifiedAt: decodeDateTime(row.modified_at) ?? '',
      version: Number(row.version),
    };
  }

  private toComment(row: Row): Comment {
    const kind = String(row.author_kind);
    const authorId = Number(row.author_id);
    const author: Actor = kind === 'user' ? { kind: 'user', userId: authorId } : kind === 'contact' ? { kind: 'contact', contactId: authorId } : { kind: 'system' };
    const fullName = (first: unknown, last: unknown) => [first, last].filter((p) => typeof p === 'string' && p.trim() !== '').join(' ');
    let authorName = 'System';
    if (kind === 'user') authorName = fullName(row.user_first, row.user_last) || (typeof row.user_name === 'string' ? row.user_name : `User ${authorId}`);
    else if (kind === 'contact') authorName = fullName(row.contact_first, row.contact_last) || `Contact ${authorId}`;
    return {
      id: Number(row.id),
      module: String(row.module),
      recordId: Number(row.record_id),
      body: String(row.body),
      internal: row.internal === true || row.internal === 1 || row.internal === '1',
      author,
      authorName,
      createdAt: decodeDateTime(row.created_at) ?? '',
    };
  }

  private toDocumentFile(row: Row): DocumentFile {
    return {
      documentId: Number(row.id),
      title: String(row.title ?? ''),
      fileName: String(row.filename ?? row.title ?? 'file'),
      mimeType: String(row.mimetype ?? 'application/octet-stream'),
      size: Number(row.filesize ?? 0),
      createdAt: decodeDateTime(row.created_at) ?? '',
    };
  }

  /** Checks the values of a write and returns the column values; every problem at once. */
  private checkValues(definition: ModuleDefinition, values: unknown, mode: 'create' | 'update'): Record<string, unknown> {
    if (typeof values !== 'object' || values === null || Array.isArray(values)) {
      throw new InvalidRecordError(definition.name, [{ field: 'values', problem: 'must be an object of field values' }]);
    }
    const given = values as Record<string, unknown>;
    const problems: FieldProblem[] = [];
    const columns: Record<string, unknown> = {};
    for (const name of Object.keys(given)) {
      const field = definition.fields.find((f) => f.name === name);
      if (!field) problems.push({ field: name.slice(0, 60), problem: `is not a field of ${definition.name}` });
    }
    for (const field of definition.fields) {
      const present = Object.hasOwn(given, field.name);
      if (!present && mode === 'update') continue;
      const value = present ? given[field.name] : undefined;
      // Blank text counts as empty: a mandatory field cannot be satisfied with spaces.
      const encoded = encodeFieldValue(field, typeof value === 'string' && value.trim() === '' ? '' : value, this.dialect);
      if (!encoded.ok) problems.push({ field: field.name, problem: encoded.problem });
      else if (encoded.value === null && field.mandatory) problems.push({ field: field.name, problem: 'is mandatory' });
      else if (present) columns[field.name] = encoded.value;
    }
    if (problems.length > 0) throw new InvalidRecordError(definition.name, problems);
    return columns;
  }

  private checkOwner(definition: ModuleDefinition, owner: unknown): OwnerRef {
    const candidate = owner as OwnerRef | null;
    if (!candidate || (candidate.kind !== 'user' && candidate.kind !== 'group') || !isId(candidate.id)) {
      throw new InvalidRecordError(definition.name, [{ field: 'owner', problem: 'must be a CRM user or group' }]);
    }
    return { kind: candidate.kind, id: candidate.id };
  }

  /** Reference values must name existing records of one of the field's modules. */
  private async checkReferences(definition: ModuleDefinition, values: Readonly<Record<string, unknown>>, transaction: Transaction): Promise<void> {
    const problems: FieldProblem[] = [];
    for (const field of definition.fields) {
      if (field.type !== 'reference' || !Object.hasOwn(values, field.name)) continue;
      const encoded = encodeFieldValue(field, values[field.name], this.dialect);
      if (!encoded.ok || encoded.value === null) continue;
      let found = false;
      for (const target of field.referenceModules ?? []) {
        if (this.registry.module(target) && (await this.exists(target, encoded.value as number, transaction))) {
          found = true;
          break;
        }
      }
      if (!found) problems.push({ field: field.name, problem: 'refers to a record that does not exist' });
    }
    if (problems.length > 0) throw new InvalidRecordError(definition.name, problems);
  }

  private async exists(module: string, id: number, transaction?: Transaction): Promise<boolean> {
    if (!isId(id)) return false;
    const rows = await this.sequelize.query(`SELECT id FROM ${this.quote(this.registry.tableName(module))} WHERE id = $id`, {
      bind: { id },
      ...RAW_SELECT,
      transaction,
    });
    return rows.length > 0;
  }

  private async mustExist(module: string, id: number, transaction?: Transaction): Promise<void> {
    if (!(await this.exists(module, id, transaction))) throw new RecordNotFoundError(module, id);
  }

  /** Validates and inserts a record; `managed` holds the columns only the store itself writes. */
  private async insertChecked(definition: ModuleDefinition, input: RecordInput, transaction: Transaction, managed: Record<string, unknown> = {}): Promise<CrmRecord> {
    const columns = this.checkValues(definition, input?.values, 'create');
    const owner = input.owner === undefined ? null : this.checkOwner(definition, input.owner);
    await this.checkReferences(definition, input.values, transaction);
    const series = RECORD_NUMBER_SERIES[definition.name];
    if (series && (columns[series.field] ?? null) === null && definition.fields.some((f) => f.name === series.field)) {
      columns[series.field] = await this.numbers.next(definition.name, this.registry.tableName(definition.name), series, transaction);
    }
    const now = dateTimeParameter(new Date(), this.dialect);
    const id = await this.insert(
      this.registry.tableName(definition.name),
      { ...columns, ...managed, owner_kind: owner?.kind ?? null, owner_id: owner?.id ?? null, created_at: now, modified_at: now, version: 1 },
      transaction,
    );
    return (await this.get(definition.name, id, { transaction }))!;
  }

  /** Inserts a row and returns its generated id. */
  private async insert(table: string, columns: Record<string, unknown>, transaction: Transaction): Promise<number> {
    const bind = new BindParameters();
    const names = Object.keys(columns);
    const sql = `INSERT INTO ${this.quote(table)} (${names.map((n) => this.quote(n)).join(', ')}) VALUES (${names.map((n) => bind.add(columns[n])).join(', ')})`;
    if (this.dialect === 'postgres') {
      const [row] = await this.sequelize.query<{ id: number }>(`${sql} RETURNING id`, { bind: bind.values, ...RAW_SELECT, transaction });
      return Number(row!.id);
    }
    // SQLite and MariaDB answer [insertId, affectedRows].
    const [id] = await this.sequelize.query(sql, { bind: bind.values, type: QueryTypes.INSERT, transaction });
    return Number(id);
  }

  /** Removes the links and comments of a record and empties the references that point at it. */
  private async removeDependents(module: string, id: number, transaction: Transaction): Promise<void> {
    for (const relation of this.registry.relations(module)) {
      if (relation.kind === 'related-list') {
        if (relation.module === module) {
          await this.sequelize.query('DELETE FROM crm_relation_links WHERE relation_id = $relation AND record_id = $id', { bind: { relation: relation.id, id }, transaction });
        }
        if (relation.relatedModule === module) {
          await this.sequelize.query('DELETE FROM crm_relation_links WHERE relation_id = $relation AND related_id = $id', { bind: { relation: relation.id, id }, transaction });
        }
      } else if (relation.relatedModule === module && this.registry.field(relation.module, relation.field!)?.referenceModules?.length === 1) {
        // A field pointing at several modules holds ids that may belong to another of them: leave it.
        const field = this.quote(this.registry.columnOf(relation.module, relation.field!));
        await this.sequelize.query(
          `UPDATE ${this.quote(this.registry.tableName(relation.module))} SET ${field} = NULL, version = version + 1, modified_at = $now WHERE ${field} = $id`,
          { bind: { id, now: dateTimeParameter(new Date(), this.dialect) }, transaction },
        );
      }
    }
    await this.sequelize.query('DELETE FROM crm_comments WHERE module = $module AND record_id = $id', { bind: { module, id }, transaction });
  }

  private relatedList(relationId: string): RelationDefinition {
    const relation = this.registry.relation(relationId);
    if (!relation || relation.kind !== 'related-list') throw new RelationUsageError(`"${String(relationId).slice(0, 100)}" is not a related list`);
    return relation;
  }

  private documentsRelation(module: string): RelationDefinition | undefined {
    if (module === 'Documents') return undefined;
    return this.registry
      .relations(module)
      .find((r) => r.kind === 'related-list' && ((r.module === 'Documents' && r.relatedModule === module) || (r.module === module && r.relatedModule === 'Documents')));
  }

  private inTransaction<T>(options: { readonly transaction?: Transaction } | undefined, work: (transaction: Transaction) => Promise<T>): Promise<T> {
    if (options?.transaction) return work(options.transaction);
    // SQLite: take the write lock at BEGIN, or a reader that later writes fails with SQLITE_BUSY.
    return this.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, work);
  }

  /** Runs `emit` once the caller's transaction has committed (never when it does not), or now when the store committed its own. */
  private async afterCommit(options: { readonly transaction?: Transaction } | undefined, emit: () => Promise<void>): Promise<void> {
    if (options?.transaction) afterCommit(options.transaction, emit);
    else await emit();
  }
}
