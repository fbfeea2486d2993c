/**
 * `eq`, `ne` and `in` on text compare exactly, on every database: MariaDB's default collation
 * (utf8mb4_general_ci) would take `published`, `Published ` and `Publishéd` for `Published` —
 * a FAQ entry stored that way (legacy data, imports) would be in the public catalogue there only,
 * and a customer's `filter[status]=closed` would find the `Closed` tickets there only. SQLite and
 * PostgreSQL compare exactly, as the picklist-order sort does on all three. A multipicklist's
 * element matches exactly too (SQLite's and MariaDB's LIKE ignore case). `contains` and
 * `startsWith` stay case-insensitive (see the README's notes on searching text).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryTypes } from 'sequelize';
import type { FieldValue, RecordCondition } from '../../plugin/host-contract/index.js';
import { PUBLIC_CATALOGUES } from '../../plugin/eligibility/module-eligibility.js';
import { SqlRecordStore } from '../../host/records/record-store.js';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { registryFixture, type RegistryFixture } from '../registry/registry-fixture.js';

describe('record store: eq, ne and in on text compare exactly on every database @db', function () {
  let fx: RegistryFixture;
  let store: SqlRecordStore;
  let filesDir: string;

  /** Writes a value past the store's checks, as an import or an older CRM could have. */
  async function writeRaw(module: string, id: number, field: string, value: string): Promise<void> {
    const qi = fx.db.sequelize.getQueryInterface();
    const table = qi.quoteIdentifier(fx.registry.tableName(module));
    const column = qi.quoteIdentifier(fx.registry.columnOf(module, field));
    await fx.db.sequelize.query(`UPDATE ${table} SET ${column} = $value WHERE id = $id`, { bind: { value, id } });
  }

  /** Creates one record per value of `field`, the values written as they are; the label field names it. */
  async function seed(module: string, label: string, field: string, values: readonly string[], extra: Record<string, FieldValue> = {}): Promise<void> {
    for (const value of values) {
      const record = await store.create(module, { values: { [label]: `[${value}]`, ...extra } });
      await writeRaw(module, record.id, field, value);
    }
  }

  async function labels(module: string, label: string, where: RecordCondition): Promise<string[]> {
    const page = await store.query(module, { where, fields: [label], limit: 100 });
    return page.rows.map((r) => String(r.values[label])).sort();
  }

  before(async () => {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
    filesDir = mkdtempSync(join(tmpdir(), 'bp-files-'));
    store = new SqlRecordStore(fx.db, fx.registry, filesDir);
    await seed('Faq', 'question', 'status', ['Published', 'published', 'Published ', 'PUBLISHED', 'Publishéd', 'Draft']);
    await seed('HelpDesk', 'ticket_title', 'status', ['Closed', 'closed', 'Closed ', 'Open'], { status: 'Open' });
    await seed('Accounts', 'accountname', 'city', ['Milan', 'milan', 'Milan ', 'Milán', 'Rome']);
    await fx.registry.registerModule({
      name: 'Gadgets',
      label: { en: 'Gadgets' },
      singularLabel: { en: 'Gadget' },
      custom: true,
      labelField: 'name',
      fields: [
        { name: 'name', label: { en: 'Name' }, type: 'text', mandatory: true },
        { name: 'tags', label: { en: 'Tags' }, type: 'multipicklist', mandatory: false, picklistValues: ['red', 'blue'] },
      ],
    });
    await seed('Gadgets', 'name', 'tags', ['["red","blue"]', '["Blue"]', '["blué"]', '["red"]']);
  });
  after(async () => {
    await fx?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  it('keeps the public FAQ catalogue to the entries whose status is exactly Published', async () => {
    const catalogue = PUBLIC_CATALOGUES.Faq!;
    expect(await labels('Faq', 'question', { field: catalogue.field, op: 'eq', value: catalogue.value })).to.deep.equal(['[Published]']);
    expect(await store.count('Faq', { field: 'status', op: 'eq', value: 'Published' })).to.equal(1);
  });

  it('matches a picklist filter only on the exact value, and ne keeps the others', async () => {
    expect(await labels('HelpDesk', 'ticket_title', { field: 'status', op: 'eq', value: 'closed' })).to.deep.equal(['[closed]']);
    expect(await labels('HelpDesk', 'ticket_title', { field: 'status', op: 'eq', value: 'Closed' })).to.deep.equal(['[Closed]']);
    expect(await labels('HelpDesk', 'ticket_title', { field: 'status', op: 'ne', value: 'Closed' })).to.deep.equal(['[Closed ]', '[Open]', '[closed]']);
    expect(await labels('HelpDesk', 'ticket_title', { not: { field: 'status', op: 'eq', value: 'Closed' } })).to.deep.equal(['[Closed ]', '[Open]', '[closed]']);
    expect(await labels('HelpDesk', 'ticket_title', { field: 'status', op: 'in', value: ['Closed', 'Open'] })).to.deep.equal(['[Closed]', '[Open]']);
  });

  it('compares a text field exactly: case, accents and trailing spaces count', async () => {
    expect(await labels('Accounts', 'accountname', { field: 'city', op: 'eq', value: 'Milan' })).to.deep.equal(['[Milan]']);
    expect(await labels('Accounts', 'accountname', { field: 'city', op: 'eq', value: 'Milan ' })).to.deep.equal(['[Milan ]']);
    expect(await labels('Accounts', 'accountname', { field: 'city', op: 'in', value: ['milan', 'Milán'] })).to.deep.equal(['[Milán]', '[milan]']);
    expect(await labels('Accounts', 'accountname', { field: 'city', op: 'ne', value: 'Milan' })).to.deep.equal(['[Milan ]', '[Milán]', '[Rome]', '[milan]']);
    // Searches still ignore case (accents: see the README).
    expect(await labels('Accounts', 'accountname', { field: 'city', op: 'startsWith', value: 'MILAN' })).to.include.members(['[Milan]', '[milan]', '[Milan ]']);
  });

  it('matches a multipicklist element exactly', async () => {
    expect(await labels('Gadgets', 'name', { field: 'tags', op: 'eq', value: 'blue' })).to.deep.equal(['[["red","blue"]]']);
    expect(await labels('Gadgets', 'name', { field: 'tags', op: 'eq', value: 'Blue' })).to.deep.equal(['[["Blue"]]']);
    expect(await labels('Gadgets', 'name', { field: 'tags', op: 'in', value: ['blue', 'blué'] })).to.deep.equal(['[["blué"]]', '[["red","blue"]]']);
    expect(await labels('Gadgets', 'name', { field: 'tags', op: 'ne', value: 'blue' })).to.deep.equal(['[["Blue"]]', '[["blué"]]', '[["red"]]']);
  });

  it('keeps an index on the column usable on MariaDB (the plain comparison before the exact one)', async function () {
    if (fx.db.dialect !== 'mariadb') this.skip();
    const { sequelize } = fx.db;
    const qi = sequelize.getQueryInterface();
    const table = fx.registry.tableName('HelpDesk');
    const column = fx.registry.columnOf('HelpDesk', 'status');
    // No standard column of text has an index; a CRM may add one.
    await sequelize.query(`CREATE INDEX exact_status_idx ON ${qi.quoteIdentifier(table)} (${qi.quoteIdentifier(column)})`);
    for (let i = 0; i < 200; i++) await store.create('HelpDesk', { values: { ticket_title: `Filler ${i}`, status: i % 2 === 0 ? 'Open' : 'In Progress' } });
    await sequelize.query(`ANALYZE TABLE ${qi.quoteIdentifier(table)}`, { type: QueryTypes.SELECT });
    const captured: { sql: string; bind: unknown }[] = [];
    const original = sequelize.query.bind(sequelize) as (sql: unknown, options?: unknown) => Promise<unknown>;
    (sequelize as unknown as { query: typeof original }).query = (sql, options) => {
      if (typeof sql === 'string' && /^\s*SELECT/i.test(sql)) captured.push({ sql, bind: (options as { bind?: unknown } | undefined)?.bind });
      return original(sql, options);
    };
    try {
      expect(await labels('HelpDesk', 'ticket_title', { field: 'status', op: 'eq', value: 'Closed' })).to.deep.equal(['[Closed]']);
      expect(await labels('HelpDesk', 'ticket_title', { field: 'status', op: 'in', value: ['closed', 'Closed '] })).to.deep.equal(['[Closed ]', '[closed]']);
    } finally {
      (sequelize as unknown as { query: typeof original }).query = original;
    }
    expect(captured).to.have.length(2);
    for (const statement of captured) {
      const plan = await sequelize.query<{ table: string; type: string; key: string | null }>(`EXPLAIN ${statement.sql}`, { bind: statement.bind as Record<string, unknown>, type: QueryTypes.SELECT });
      const row = plan.find((r) => r.table === table);
      expect(row, statement.sql).to.include({ key: 'exact_status_idx' });
      expect(['ref', 'range'], statement.sql).to.include(row!.type);
    }
  });
});
