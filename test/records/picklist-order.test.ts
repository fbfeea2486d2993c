/**
 * Contract 1.5.0: a sort with `picklistOrder` puts a picklist field in the order the CRM defines
 * its values (Low, Normal, High, Urgent), not in the order of the stored texts; values no longer
 * in the picklist (legacy data) come after the known ones, by value; the id keeps pages stable.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordSort } from '../../plugin/host-contract/index.js';
import { SqlRecordStore } from '../../host/records/record-store.js';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { registryFixture, type RegistryFixture } from '../registry/registry-fixture.js';

describe('record store: picklist fields sorted in the picklist order @db', function () {
  let fx: RegistryFixture;
  let store: SqlRecordStore;
  let filesDir: string;

  // Stored out of order, twice each, with an empty value and four values the picklist no longer
  // has — `high` and `Normal ` differ from `High` and `Normal` only in case or a trailing space.
  const legacyValues = new Set(['Zzz legacy', 'Aaa legacy', 'high', 'Normal ']);
  const priorities = ['Urgent', 'Low', 'High', null, 'Normal', 'High', 'high', 'Low', 'Urgent', 'Normal ', 'Normal', 'Zzz legacy', 'Aaa legacy'];

  before(async () => {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
    filesDir = mkdtempSync(join(tmpdir(), 'bp-files-'));
    store = new SqlRecordStore(fx.db, fx.registry, filesDir);
    for (const [index, priority] of priorities.entries()) {
      const legacy = priority !== null && legacyValues.has(priority);
      const record = await store.create('HelpDesk', { values: { ticket_title: `Ticket ${index}`, status: index % 2 === 0 ? 'Closed' : 'Open', priority: legacy ? null : priority } });
      // A value the picklist no longer has can only be there from before: written past the store's checks.
      if (legacy) {
        const table = fx.db.sequelize.getQueryInterface().quoteIdentifier(fx.registry.tableName('HelpDesk'));
        const column = fx.db.sequelize.getQueryInterface().quoteIdentifier(fx.registry.columnOf('HelpDesk', 'priority'));
        await fx.db.sequelize.query(`UPDATE ${table} SET ${column} = $value WHERE id = $id`, { bind: { value: priority, id: record.id } });
      }
    }
  });
  after(async () => {
    await fx?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  const sorted = async (sort: RecordSort, page: { limit?: number; offset?: number } = {}) =>
    (await store.query('HelpDesk', { sort: [sort], fields: ['priority'], ...page })).rows.map((r) => ({ id: r.id, priority: r.values.priority }));

  it('sorts a picklist in its own order going up, empty values first and legacy values after the known ones', async () => {
    const rows = await sorted({ field: 'priority', direction: 'asc', picklistOrder: true });
    // `high` is not the picklist's `High`, nor `Normal ` its `Normal`: legacy on every database, whatever its collation.
    expect(rows.map((r) => r.priority)).to.deep.equal([null, 'Low', 'Low', 'Normal', 'Normal', 'High', 'High', 'Urgent', 'Urgent', 'Aaa legacy', 'high', 'Normal ', 'Zzz legacy']);
    // Equal values by id.
    const lows = rows.filter((r) => r.priority === 'Low').map((r) => r.id);
    expect(lows).to.deep.equal([...lows].sort((a, b) => a - b));
  });

  it('sorts it the other way going down, legacy values still after the known ones and empty values last', async () => {
    const rows = await sorted({ field: 'priority', direction: 'desc', picklistOrder: true });
    expect(rows.map((r) => r.priority)).to.deep.equal(['Urgent', 'Urgent', 'High', 'High', 'Normal', 'Normal', 'Low', 'Low', 'Zzz legacy', 'Normal ', 'high', 'Aaa legacy', null]);
  });

  it('pages across page boundaries without repeating or skipping a record, both ways', async () => {
    for (const direction of ['asc', 'desc'] as const) {
      const sort: RecordSort = { field: 'priority', direction, picklistOrder: true };
      const whole = await sorted(sort);
      const paged = [];
      for (let offset = 0; offset < priorities.length; offset += 3) paged.push(...(await sorted(sort, { limit: 3, offset })));
      expect(paged, direction).to.deep.equal(whole);
    }
  });

  it('sorts the ticket status in its order too, and by the stored text without picklistOrder', async () => {
    const statuses = async (sort: RecordSort) => (await store.query('HelpDesk', { sort: [sort], fields: ['status'] })).rows.map((r) => r.values.status);
    await store.create('HelpDesk', { values: { ticket_title: 'Waiting', status: 'Wait For Response' } });
    await store.create('HelpDesk', { values: { ticket_title: 'Working', status: 'In Progress' } });
    const order = ['Open', 'In Progress', 'Wait For Response', 'Closed'];
    const asc = await statuses({ field: 'status', direction: 'asc', picklistOrder: true });
    expect([...new Set(asc)]).to.deep.equal(order);
    expect([...new Set(await statuses({ field: 'status', direction: 'desc', picklistOrder: true }))]).to.deep.equal([...order].reverse());
    // Without the option, as before 1.5.0: the stored texts.
    expect([...new Set(await statuses({ field: 'status', direction: 'asc' }))]).to.deep.equal(['Closed', 'In Progress', 'Open', 'Wait For Response']);
    // Ignored on a field that is not a picklist.
    const titles = (await store.query('HelpDesk', { sort: [{ field: 'ticket_title', direction: 'asc', picklistOrder: true }], fields: ['ticket_title'] })).rows.map((r) => String(r.values.ticket_title));
    expect(titles).to.deep.equal([...titles].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
  });
});
