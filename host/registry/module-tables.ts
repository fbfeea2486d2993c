/**
 * The DDL of module tables: one real table `mod_<lowercase name>` per module, one column per
 * field (never EAV), an index on every reference column. Identifiers come only from validated
 * definitions and are quoted by the query interface.
 *
 * A reference column's index is `(reference, modified_at)`: it finds the records of a contact, an
 * account or a parent record (the portal's scope paths, related lists, subsidiaries) and hands
 * them over in the default list order (last modified first) without sorting the whole table.
 */
import { createHash } from 'node:crypto';
import { DataTypes, type DataType, type ModelAttributeColumnOptions, type Sequelize, type Transaction } from 'sequelize';
import type { DatabaseDialect, FieldDefinition, ModuleDefinition } from '../../plugin/host-contract/index.js';
import { sortKeys } from '../records/query-compiler.js';
import { DEFAULT_TEXT_LENGTH } from './module-definition-validation.js';

export function tableOf(module: string): string {
  return `mod_${module.toLowerCase()}`;
}

/** Index names are global in SQLite and PostgreSQL and limited to 63 characters: long ones get a hash. */
export function referenceIndexName(table: string, column: string): string {
  const plain = `${table}_${column}_idx`;
  if (plain.length <= 60) return plain;
  const hash = createHash('sha1').update(`${table}.${column}`).digest('hex').slice(0, 12);
  return `${table.slice(0, 40)}_${hash}_idx`;
}

/** The columns of a reference field's index, in order (see the file comment). */
export function referenceIndexColumns(field: string): readonly string[] {
  return [field, 'modified_at'];
}

/**
 * The Documents table's `(created_at, id)` index: a record's newest files a page at a time
 * (`documents(…, { newest })`) walk it from the end and stop after a page, instead of reading every
 * file of the table (PostgreSQL chose that for a ticket with 2,003 files). Created with the table,
 * and by the migration `20261205000000-document-order` for a table made before it.
 */
export const DOCUMENTS_CREATED_INDEX = { module: 'Documents', name: 'mod_documents_created_idx', columns: ['created_at', 'id'] } as const;

/**
 * The catalogues' indexes: the FAQ's `(status, modified_at)` and the Products' `(active,
 * modified_at)`. Every customer's FAQ and Products lists are the published entries or the active
 * products, newest first, with their total (the portal's public catalogues); without these the
 * database read and sorted the whole table for each page, and counted it. Created with the table
 * (or with the field, when it is added later), dropped before the field's column is, and made by
 * the migration `20261206800000-catalogue-order` for a table made before them.
 */
export const CATALOGUE_INDEXES: readonly { readonly module: string; readonly field: string; readonly name: string }[] = [
  { module: 'Faq', field: 'status', name: 'mod_faq_catalogue_idx' },
  { module: 'Products', field: 'active', name: 'mod_products_catalogue_idx' },
];

/** The `CREATE INDEX IF NOT EXISTS` of a catalogue index (SQLite, PostgreSQL and MariaDB all take it). */
export function catalogueIndexStatement(index: (typeof CATALOGUE_INDEXES)[number], quote: (identifier: string) => string): string {
  return `CREATE INDEX IF NOT EXISTS ${quote(index.name)} ON ${quote(tableOf(index.module))} (${[index.field, 'modified_at'].map(quote).join(', ')})`;
}

/** The catalogue indexes that `module` (as it is now) has the field of. */
function catalogueIndexesOf(module: ModuleDefinition): (typeof CATALOGUE_INDEXES)[number][] {
  return CATALOGUE_INDEXES.filter((index) => index.module === module.name && module.fields.some((f) => f.name === index.field));
}

/**
 * The Contacts table's name order, as the record store sorts `lastname, firstname` (`sortKeys`:
 * empty first, then case-insensitively, `id` last): the reference host's Contacts page
 * (host/web/crm-pages.ts) walks it a page at a time and stops, instead of sorting every contact
 * for each page. An index on expressions: SQLite and PostgreSQL have them, MariaDB 10.11 does not
 * (there the page still sorts). Created with the table, and by the migration
 * `20261206300000-contact-name-order` for a table made before it; dropped before either column is
 * (SQLite refuses to drop an indexed column). Sequelize's SQLite `describeTable` (and what uses
 * it: `removeColumn`, `changeColumn`) fails on a table with an index on expressions: the host
 * reads the Contacts table's fields from the registry and drops columns by plain DDL. A name added
 * again (`addFieldColumn`) gets the index back.
 */
export const CONTACTS_NAME_INDEX = { module: 'Contacts', name: 'mod_contacts_name_idx', fields: ['lastname', 'firstname'] } as const;

/** The `CREATE INDEX` of `CONTACTS_NAME_INDEX`, or undefined where it does not apply (MariaDB). */
export function contactsNameIndexStatement(dialect: DatabaseDialect, quote: (identifier: string) => string): string | undefined {
  if (dialect === 'mariadb') return undefined;
  const keys = CONTACTS_NAME_INDEX.fields.flatMap((field) => {
    const { empty, text } = sortKeys(quote(field));
    return [`(${empty})`, `(${text})`];
  });
  return `CREATE INDEX IF NOT EXISTS ${quote(CONTACTS_NAME_INDEX.name)} ON ${quote(tableOf(CONTACTS_NAME_INDEX.module))} (${[...keys, quote('id')].join(', ')})`;
}

/** Whether a module's table gets `CONTACTS_NAME_INDEX`: the Contacts module with both names as text fields. */
function hasContactsNameOrder(module: ModuleDefinition): boolean {
  return module.name === CONTACTS_NAME_INDEX.module && CONTACTS_NAME_INDEX.fields.every((name) => module.fields.some((f) => f.name === name && f.type === 'text'));
}

export function columnType(field: FieldDefinition, dialect: DatabaseDialect): DataType {
  switch (field.type) {
    case 'text':
      return DataTypes.STRING(field.maxLength ?? DEFAULT_TEXT_LENGTH);
    case 'email':
    case 'phone':
    case 'url':
    case 'picklist':
      return DataTypes.STRING(255);
    case 'textarea':
    case 'multipicklist':
      // MariaDB's TEXT holds 64 KB only; MEDIUMTEXT matches what PostgreSQL and SQLite accept.
      return dialect === 'mariadb' ? DataTypes.TEXT('medium') : DataTypes.TEXT;
    case 'integer':
    case 'reference':
      return DataTypes.INTEGER;
    case 'decimal':
      return DataTypes.DECIMAL(18, 4);
    case 'currency':
      return DataTypes.DECIMAL(18, 2);
    case 'boolean':
      return DataTypes.BOOLEAN;
    case 'date':
      return DataTypes.DATEONLY;
    case 'datetime':
      return DataTypes.DATE(3);
  }
}

function attributes(module: ModuleDefinition, dialect: DatabaseDialect): Record<string, ModelAttributeColumnOptions> {
  const columns: Record<string, ModelAttributeColumnOptions> = {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
  };
  for (const field of module.fields) columns[field.name] = { type: columnType(field, dialect), allowNull: true };
  columns.owner_kind = { type: DataTypes.STRING(10), allowNull: true };
  columns.owner_id = { type: DataTypes.INTEGER, allowNull: true };
  columns.created_at = { type: DataTypes.DATE(3), allowNull: false };
  columns.modified_at = { type: DataTypes.DATE(3), allowNull: false };
  columns.version = { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 };
  return columns;
}

export async function moduleTableExists(sequelize: Sequelize, module: string, transaction?: Transaction): Promise<boolean> {
  return sequelize.getQueryInterface().tableExists(tableOf(module), transaction ? { transaction } : {});
}

export async function createModuleTable(sequelize: Sequelize, dialect: DatabaseDialect, module: ModuleDefinition, transaction?: Transaction): Promise<void> {
  const qi = sequelize.getQueryInterface();
  const table = tableOf(module.name);
  // MariaDB servers may default to latin1: the CRM stores any language.
  await qi.createTable(table, attributes(module, dialect), { transaction, charset: 'utf8mb4' });
  for (const field of module.fields) {
    if (field.type === 'reference') await qi.addIndex(table, [...referenceIndexColumns(field.name)], { name: referenceIndexName(table, field.name), transaction });
  }
  if (module.name === DOCUMENTS_CREATED_INDEX.module) await qi.addIndex(table, [...DOCUMENTS_CREATED_INDEX.columns], { name: DOCUMENTS_CREATED_INDEX.name, transaction });
  const nameOrder = hasContactsNameOrder(module) ? contactsNameIndexStatement(dialect, (identifier) => qi.quoteIdentifier(identifier)) : undefined;
  if (nameOrder) await sequelize.query(nameOrder, { transaction });
  for (const index of catalogueIndexesOf(module)) await sequelize.query(catalogueIndexStatement(index, (identifier) => qi.quoteIdentifier(identifier)), { transaction });
}

export async function dropModuleTable(sequelize: Sequelize, module: string, transaction?: Transaction): Promise<void> {
  await sequelize.getQueryInterface().dropTable(tableOf(module), { transaction });
}

/** Adds `field`'s column to the table of `module` (the module as it is with the field). */
export async function addFieldColumn(sequelize: Sequelize, dialect: DatabaseDialect, module: ModuleDefinition, field: FieldDefinition, transaction?: Transaction): Promise<void> {
  const qi = sequelize.getQueryInterface();
  const table = tableOf(module.name);
  await qi.addColumn(table, field.name, { type: columnType(field, dialect), allowNull: true }, { transaction });
  if (field.type === 'reference') await qi.addIndex(table, [...referenceIndexColumns(field.name)], { name: referenceIndexName(table, field.name), transaction });
  // A name removed (which dropped the index) and added again: the Contacts page's order is indexed again.
  const nameOrder = (CONTACTS_NAME_INDEX.fields as readonly string[]).includes(field.name) && hasContactsNameOrder(module) ? contactsNameIndexStatement(dialect, (identifier) => qi.quoteIdentifier(identifier)) : undefined;
  if (nameOrder) await sequelize.query(nameOrder, { transaction });
  for (const index of catalogueIndexesOf(module).filter((i) => i.field === field.name)) {
    await sequelize.query(catalogueIndexStatement(index, (identifier) => qi.quoteIdentifier(identifier)), { transaction });
  }
}

export async function dropFieldColumn(sequelize: Sequelize, dialect: DatabaseDialect, module: string, field: FieldDefinition, transaction?: Transaction): Promise<void> {
  const qi = sequelize.getQueryInterface();
  const table = qi.quoteIdentifier(tableOf(module));
  // Plain DDL: SQLite refuses to drop an indexed column and Sequelize's SQLite removeColumn rebuilds
  // the table (losing its indexes); Sequelize's MariaDB removeIndex/removeColumn trip over the
  // mariadb 3 connector's result arrays. ALTER TABLE … DROP COLUMN works on all three.
  if (field.type === 'reference') {
    const index = qi.quoteIdentifier(referenceIndexName(tableOf(module), field.name));
    await sequelize.query(dialect === 'mariadb' ? `DROP INDEX ${index} ON ${table}` : `DROP INDEX ${index}`, { transaction });
  }
  if (module === CONTACTS_NAME_INDEX.module && (CONTACTS_NAME_INDEX.fields as readonly string[]).includes(field.name) && dialect !== 'mariadb') {
    await sequelize.query(`DROP INDEX IF EXISTS ${qi.quoteIdentifier(CONTACTS_NAME_INDEX.name)}`, { transaction });
  }
  for (const index of CATALOGUE_INDEXES.filter((i) => i.module === module && i.field === field.name)) {
    const name = qi.quoteIdentifier(index.name);
    await sequelize.query(dialect === 'mariadb' ? `DROP INDEX IF EXISTS ${name} ON ${table}` : `DROP INDEX IF EXISTS ${name}`, { transaction });
  }
  await sequelize.query(`ALTER TABLE ${table} DROP COLUMN ${qi.quoteIdentifier(field.name)}`, { transaction });
}
