import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidQueryError, UnknownFieldError, type CrmRecord, type RecordCondition } from '../../plugin/host-contract/index.js';
import { SqlRecordStore } from '../../host/records/record-store.js';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { registryFixture, type RegistryFixture } from '../registry/registry-fixture.js';

describe('record store queries @db', function () {
  let fx: RegistryFixture;
  let store: SqlRecordStore;
  let filesDir: string;
  const accounts: Record<string, number> = {};
  const contacts: Record<string, number> = {};

  // Names with LIKE wildcards and the escape characters of every dialect.
  const names = ['Acme Ltd', '100% Pure', 'under_score', 'back\\slash', 'bang!mark', 'Rossi SpA', 'acme italia', 'Zeta'];

  before(async function () {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
    filesDir = mkdtempSync(join(tmpdir(), 'bp-files-'));
    store = new SqlRecordStore(fx.db, fx.registry, filesDir);
    const cities = ['London', 'Milan', null, 'Milan', 'Paris', 'Rome', null, 'Berlin'];
    for (const [index, name] of names.entries()) {
      const record = await store.create('Accounts', { values: { accountname: name, city: cities[index], status: index % 2 === 0 ? 'Active' : 'Blocked' } });
      accounts[name] = record.id;
    }
    await store.update('Accounts', accounts['acme italia']!, { values: { parent_id: accounts['Acme Ltd']! } });
    for (const [first, last, account, birthdayLike] of [
      ['Jane', 'Doe', 'Acme Ltd', '2024-01-15'],
      ['John', 'Smith', 'Acme Ltd', '2024-02-20'],
      ['Mario', 'Rossi', 'Rossi SpA', '2024-03-10'],
      ['Anna', 'Bianchi', 'acme italia', '2024-03-11'],
    ] as const) {
      const contact = await store.create('Contacts', { values: { firstname: first, lastname: last, account_id: accounts[account]!, description: birthdayLike } });
      contacts[last] = contact.id;
    }
    for (const [title, contact, priority] of [
      ['Printer jam', 'Doe', 'High'],
      ['Login fails', 'Doe', 'Low'],
      ['Invoice wrong', 'Rossi', 'Urgent'],
      ['Slow network', 'Smith', null],
    ] as const) {
      await store.create('HelpDesk', { values: { ticket_title: title, contact_id: contacts[contact]!, status: 'Open', priority } });
    }
  });
  after(async () => {
    await fx?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  async function accountNames(where?: RecordCondition): Promise<string[]> {
    const page = await store.query('Accounts', { where, sort: [{ field: 'accountname', direction: 'asc' }] });
    return page.rows.map((r) => String(r.values.accountname));
  }

  it('compares with eq, ne, in, isNull and notNull', async function () {
    expect(await accountNames({ field: 'city', op: 'eq', value: 'Milan' })).to.deep.equal(['100% Pure', 'back\\slash']);
    // `ne` keeps records whose value is empty.
    expect(await accountNames({ field: 'city', op: 'ne', value: 'Milan' })).to.deep.equal(['acme italia', 'Acme Ltd', 'bang!mark', 'Rossi SpA', 'under_score', 'Zeta']);
    expect(await accountNames({ field: 'city', op: 'isNull' })).to.deep.equal(['acme italia', 'under_score']);
    expect(await accountNames({ field: 'city', op: 'eq', value: null })).to.deep.equal(['acme italia', 'under_score']);
    expect((await accountNames({ field: 'city', op: 'notNull' })).length).to.equal(6);
    expect(await accountNames({ field: 'city', op: 'in', value: ['Paris', 'Berlin'] })).to.deep.equal(['bang!mark', 'Zeta']);
    expect(await accountNames({ field: 'city', op: 'in', value: [] })).to.deep.equal([]);
    expect(await accountNames({ field: 'id', op: 'in', value: [accounts.Zeta!, accounts['Acme Ltd']!] })).to.deep.equal(['Acme Ltd', 'Zeta']);
  });

  it('compares numbers, dates and timestamps with lt, lte, gt and gte', async function () {
    const ids = Object.values(accounts).sort((a, b) => a - b);
    const third = ids[2]!;
    expect((await store.query('Accounts', { where: { field: 'id', op: 'lt', value: third } })).rows.map((r) => r.id)).to.deep.equal(ids.slice(0, 2));
    expect((await store.query('Accounts', { where: { field: 'id', op: 'lte', value: third } })).rows.map((r) => r.id)).to.deep.equal(ids.slice(0, 3));
    expect((await store.query('Accounts', { where: { field: 'id', op: 'gt', value: third } })).rows.map((r) => r.id)).to.deep.equal(ids.slice(3));
    expect((await store.query('Accounts', { where: { field: 'id', op: 'gte', value: third } })).rows.map((r) => r.id)).to.deep.equal(ids.slice(2));
    expect(await store.count('Accounts', { field: 'createdAt', op: 'gte', value: '2000-01-01' })).to.equal(names.length);
    expect(await store.count('Accounts', { field: 'modifiedAt', op: 'lt', value: '2000-01-01T00:00:00Z' })).to.equal(0);
    // A value that cannot be of the column's type matches nothing instead of failing.
    expect(await store.count('Accounts', { field: 'id', op: 'eq', value: 'abc' })).to.equal(0);
    expect(await store.count('Accounts', { field: 'createdAt', op: 'gt', value: 'yesterday' })).to.equal(0);
  });

  it('matches contains and startsWith case-insensitively, with %, _, \\ and ! taken literally', async function () {
    expect(await accountNames({ field: 'accountname', op: 'contains', value: 'ACME' })).to.deep.equal(['acme italia', 'Acme Ltd']);
    expect(await accountNames({ field: 'accountname', op: 'startsWith', value: 'acme i' })).to.deep.equal(['acme italia']);
    expect(await accountNames({ field: 'accountname', op: 'contains', value: '%' })).to.deep.equal(['100% Pure']);
    expect(await accountNames({ field: 'accountname', op: 'contains', value: '_' })).to.deep.equal(['under_score']);
    expect(await accountNames({ field: 'accountname', op: 'contains', value: '\\' })).to.deep.equal(['back\\slash']);
    expect(await accountNames({ field: 'accountname', op: 'contains', value: 'k\\s' })).to.deep.equal(['back\\slash']);
    expect(await accountNames({ field: 'accountname', op: 'contains', value: '!' })).to.deep.equal(['bang!mark']);
    expect(await accountNames({ field: 'accountname', op: 'startsWith', value: '_' })).to.deep.equal([]);
    expect(await accountNames({ field: 'accountname', op: 'startsWith', value: '%' })).to.deep.equal([]);
    // A number column searched as text.
    expect(await store.count('Accounts', { field: 'id', op: 'startsWith', value: String(accounts.Zeta) })).to.be.greaterThan(0);
  });

  it('combines conditions with and, or and not', async function () {
    expect(
      await accountNames({
        or: [
          { and: [{ field: 'city', op: 'eq', value: 'Milan' }, { field: 'status', op: 'eq', value: 'Blocked' }] },
          { not: { field: 'accountname', op: 'startsWith', value: 'a' } },
        ],
      }),
    ).to.deep.equal(['100% Pure', 'back\\slash', 'bang!mark', 'Rossi SpA', 'under_score', 'Zeta']);
    expect(await accountNames({ and: [] })).to.have.length(names.length);
    expect(await accountNames({ or: [] })).to.deep.equal([]);
  });

  it('finds records linked through a related list or a reference, from either side', async function () {
    const doc = await store.create('Documents', { values: { title: 'Contract' } });
    await store.link('Documents~Accounts', doc.id, accounts.Zeta!);
    await store.link('Documents~Accounts', doc.id, accounts['Rossi SpA']!);
    await store.link('Documents~Accounts', doc.id, accounts.Zeta!); // idempotent
    expect(await accountNames({ linkedThrough: 'Documents~Accounts', ids: [doc.id] })).to.deep.equal(['Rossi SpA', 'Zeta']);
    expect((await store.query('Documents', { where: { linkedThrough: 'Documents~Accounts', ids: [accounts.Zeta!] } })).rows.map((r) => r.id)).to.deep.equal([doc.id]);
    expect(await accountNames({ linkedThrough: 'Documents~Accounts', ids: [] })).to.deep.equal([]);
    expect(await store.relatedIds('Documents~Accounts', 'Documents', doc.id)).to.deep.equal([accounts.Zeta, accounts['Rossi SpA']].sort((a, b) => a! - b!));
    expect(await store.relatedIds('Documents~Accounts', 'Accounts', accounts.Zeta!)).to.deep.equal([doc.id]);
    await store.unlink('Documents~Accounts', doc.id, accounts.Zeta!);
    expect(await accountNames({ linkedThrough: 'Documents~Accounts', ids: [doc.id] })).to.deep.equal(['Rossi SpA']);

    // Tickets of Acme's contacts, and the contacts that have tickets.
    const acmeContacts = await store.query('Contacts', { where: { linkedThrough: 'Contacts.account_id', ids: [accounts['Acme Ltd']!] } });
    expect(acmeContacts.rows.map((r) => r.values.lastname).sort()).to.deep.equal(['Doe', 'Smith']);
    const withTickets = await store.query('Contacts', { where: { linkedThrough: 'HelpDesk.contact_id', ids: (await store.query('HelpDesk')).rows.map((r) => r.id) } });
    expect(withTickets.rows.map((r) => r.values.lastname).sort()).to.deep.equal(['Doe', 'Rossi', 'Smith']);
    // A relation of a module with itself works both ways: parent and subsidiary.
    expect(await accountNames({ linkedThrough: 'Accounts.parent_id', ids: [accounts['Acme Ltd']!] })).to.deep.equal(['acme italia']);
    expect(await accountNames({ linkedThrough: 'Accounts.parent_id', ids: [accounts['acme italia']!] })).to.deep.equal(['Acme Ltd']);
  });

  it('sorts both ways with empty values at the ends, pages stably and counts the total', async function () {
    const asc = await store.query('Accounts', { sort: [{ field: 'city', direction: 'asc' }] });
    expect(asc.rows.map((r) => r.values.city)).to.deep.equal([null, null, 'Berlin', 'London', 'Milan', 'Milan', 'Paris', 'Rome']);
    const desc = await store.query('Accounts', { sort: [{ field: 'city', direction: 'desc' }] });
    expect(desc.rows.map((r) => r.values.city)).to.deep.equal(['Rome', 'Paris', 'Milan', 'Milan', 'London', 'Berlin', null, null]);
    // Ties are broken by id, so pages never repeat or skip a record.
    const seen: number[] = [];
    for (let offset = 0; offset < names.length; offset += 3) {
      const page = await store.query('Accounts', { sort: [{ field: 'status', direction: 'asc' }], limit: 3, offset, withTotal: true });
      expect(page.total).to.equal(names.length);
      expect(page.rows.length).to.be.at.most(3);
      seen.push(...page.rows.map((r) => r.id));
    }
    expect([...seen].sort((a, b) => a - b)).to.deep.equal(Object.values(accounts).sort((a, b) => a - b));
    const filtered = await store.query('Accounts', { where: { field: 'status', op: 'eq', value: 'Active' }, limit: 1, withTotal: true });
    expect(filtered.rows).to.have.length(1);
    expect(filtered.total).to.equal(4);
    const skipped = await store.query('Accounts', { offset: 6 });
    expect(skipped.rows).to.have.length(2);
  });

  it('sorts record numbers as numbers: TT9 before TT10 before TT100, both ways', async function () {
    // The four tickets above were numbered TT1–TT4; these come with numbers of their own (imports), one in lower case.
    for (const ticket_no of ['TT100', 'TT10', 'tt9', 'TT20']) await store.create('HelpDesk', { values: { ticket_title: `Imported ${ticket_no}`, ticket_no, status: 'Closed' } });
    const numbers = async (direction: 'asc' | 'desc') => (await store.query('HelpDesk', { sort: [{ field: 'ticket_no', direction }], fields: ['ticket_no'] })).rows.map((r) => r.values.ticket_no);
    expect(await numbers('asc')).to.deep.equal(['TT1', 'TT2', 'TT3', 'TT4', 'tt9', 'TT10', 'TT20', 'TT100']);
    expect(await numbers('desc')).to.deep.equal(['TT100', 'TT20', 'TT10', 'tt9', 'TT4', 'TT3', 'TT2', 'TT1']);
    // Other text fields keep their order as text.
    const titles = (await store.query('HelpDesk', { where: { field: 'status', op: 'eq', value: 'Closed' }, sort: [{ field: 'ticket_title', direction: 'asc' }], fields: ['ticket_title'] })).rows;
    expect(titles.map((r) => r.values.ticket_title)).to.deep.equal(['Imported TT10', 'Imported TT100', 'Imported TT20', 'Imported tt9']);
  });

  it('returns only the fields asked for', async function () {
    const page = await store.query('Contacts', { fields: ['lastname', 'account_id'], limit: 1 });
    expect(Object.keys(page.rows[0]!.values).sort()).to.deep.equal(['account_id', 'lastname']);
  });

  it('refuses unknown fields in conditions, sorts, field lists and related lists, naming the field only', async function () {
    const attempts: (() => Promise<unknown>)[] = [
      () => store.query('Accounts', { where: { field: 'password', op: 'eq', value: 'secret-value' } }),
      () => store.query('Accounts', { where: { and: [{ not: { field: 'owner_id; DROP TABLE x', op: 'eq', value: 1 } }] } }),
      () => store.query('Accounts', { sort: [{ field: 'nope', direction: 'asc' }] }),
      () => store.query('Accounts', { fields: ['accountname', 'nope'] }),
      () => store.query('Documents', { where: { field: 'storage_key', op: 'notNull' } }),
      () => store.count('Accounts', { linkedThrough: 'Documents~HelpDesk', ids: [1] }),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(UnknownFieldError);
      expect((error as Error).message).not.to.include('secret-value');
    }
    const badDirection = await store.query('Accounts', { sort: [{ field: 'city', direction: 'sideways' as 'asc' }] }).catch((e: unknown) => e);
    expect(badDirection).to.be.instanceOf(InvalidQueryError);
  });

  it('normalises values of every type on read', async function () {
    await fx.registry.registerModule({
      name: 'Gadgets',
      label: { en: 'Gadgets' },
      singularLabel: { en: 'Gadget' },
      custom: true,
      labelField: 'name',
      fields: [
        { name: 'name', label: { en: 'Name' }, type: 'text', mandatory: true },
        { name: 'count', label: { en: 'Count' }, type: 'integer', mandatory: false },
        { name: 'ratio', label: { en: 'Ratio' }, type: 'decimal', mandatory: false },
        { name: 'price', label: { en: 'Price' }, type: 'currency', mandatory: false },
        { name: 'on', label: { en: 'On' }, type: 'boolean', mandatory: false },
        { name: 'day', label: { en: 'Day' }, type: 'date', mandatory: false },
        { name: 'at', label: { en: 'At' }, type: 'datetime', mandatory: false },
        { name: 'tags', label: { en: 'Tags' }, type: 'multipicklist', mandatory: false, picklistValues: ['red', 'green', 'blue'] },
      ],
    });
    const created = await store.create('Gadgets', {
      values: { name: 'One', count: 42, ratio: '1.2345', price: 19.999, on: true, day: '2024-02-29', at: '2024-03-05T10:11:12.345+01:00', tags: ['red', 'blue'] },
    });
    const off = await store.create('Gadgets', { values: { name: 'Two', on: false, tags: ['green'] } });
    const again = (await store.get('Gadgets', created.id))!;
    for (const record of [created, again]) {
      expect(record.values).to.deep.equal({ name: 'One', count: 42, ratio: 1.2345, price: 20, on: true, day: '2024-02-29', at: '2024-03-05T09:11:12.345Z', tags: ['red', 'blue'] });
      expect(record.createdAt).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
    expect((await store.get('Gadgets', off.id))!.values.on).to.equal(false);
    expect((await store.query('Gadgets', { where: { field: 'on', op: 'eq', value: true } })).rows.map((r) => r.id)).to.deep.equal([created.id]);
    expect((await store.query('Gadgets', { where: { field: 'tags', op: 'eq', value: 'blue' } })).rows.map((r) => r.id)).to.deep.equal([created.id]);
    expect((await store.query('Gadgets', { where: { field: 'tags', op: 'in', value: ['green', 'blue'] } })).rows.map((r) => r.id)).to.deep.equal([created.id, off.id]);
    expect((await store.query('Gadgets', { where: { field: 'day', op: 'gt', value: '2024-02-28' } })).rows.map((r) => r.id)).to.deep.equal([created.id]);
    expect((await store.query('Gadgets', { where: { field: 'at', op: 'eq', value: '2024-03-05T09:11:12.345Z' } })).rows.map((r) => r.id)).to.deep.equal([created.id]);
    expect((await store.query('Gadgets', { where: { field: 'price', op: 'gte', value: 20 } })).rows.map((r: CrmRecord) => r.id)).to.deep.equal([created.id]);
  });
});
