import { expect } from 'chai';
import type { ModuleDefinition, ModuleRegistryEvents } from '../../plugin/host-contract/index.js';
import { ModuleDefinitionError, UnknownModuleError } from '../../host/registry/module-definition-validation.js';
import { SqlModuleRegistry } from '../../host/registry/module-registry.js';
import { STANDARD_MODULES, seedStandardModules } from '../../host/registry/standard-modules.js';
import { catalog, insertUser, registryFixture, type RegistryFixture } from './registry-fixture.js';
import { rejection } from '../support/expectations.js';
import { recordStatements } from '../support/database.js';

const warranties: ModuleDefinition = {
  name: 'Warranties',
  label: { en: 'Warranties', it: 'Garanzie' },
  singularLabel: { en: 'Warranty', it: 'Garanzia' },
  custom: true,
  labelField: 'warranty_name',
  fields: [
    { name: 'warranty_name', label: { en: 'Name' }, type: 'text', mandatory: true, maxLength: 100 },
    { name: 'contact_id', label: { en: 'Contact' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] },
    {
      name: 'kind',
      label: { en: 'Kind' },
      type: 'picklist',
      mandatory: false,
      picklistValues: ['Basic', 'Extended'],
      picklistLabels: { Basic: { en: 'Basic', it: 'Base' }, Extended: { en: 'Extended', it: 'Estesa' } },
    },
  ],
};

type Recorded = { event: keyof ModuleRegistryEvents; payload: unknown };

function record(registry: SqlModuleRegistry): Recorded[] {
  const seen: Recorded[] = [];
  for (const event of ['module.added', 'module.removed', 'field.added', 'field.removed', 'relation.added', 'relation.removed'] as const) {
    registry.on(event, (payload) => void seen.push({ event, payload }));
  }
  return seen;
}

describe('module registry @db', function () {
  let fx: RegistryFixture;

  before(async function () {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
  });
  after(async () => fx?.close());

  it('seeds every standard module with its fields, labels and relations', function () {
    const names = fx.registry.modules().map((m) => m.name);
    for (const expected of STANDARD_MODULES.map((m) => m.name)) expect(names).to.include(expected);
    const helpDesk = fx.registry.module('HelpDesk')!;
    expect(helpDesk.label).to.deep.equal({ en: 'Trouble Tickets', it: 'Ticket di assistenza' });
    expect(helpDesk.fields.find((f) => f.name === 'status')).to.include({ type: 'picklist', mandatory: true });
    // Stored values in English, read in each language through their labels (contract 1.2.0).
    expect(helpDesk.fields.find((f) => f.name === 'status')!.picklistLabels).to.deep.include({ Open: { en: 'Open', it: 'Aperto' }, Closed: { en: 'Closed', it: 'Chiuso' } });
    expect(fx.registry.module('Contacts')!.fields.find((f) => f.name === 'language')!.picklistLabels).to.deep.equal({ en: { en: 'English', it: 'Inglese' }, it: { en: 'Italian', it: 'Italiano' } });
    const ids = fx.registry.relations('Contacts').map((r) => r.id);
    expect(ids).to.include.members(['HelpDesk.contact_id', 'Contacts.account_id', 'Documents~Contacts', 'Vendors~Contacts']);
    expect(fx.registry.relations('Accounts').find((r) => r.id === 'Accounts.parent_id')).to.deep.include({ module: 'Accounts', relatedModule: 'Accounts' });
    // Where the host keeps a document's bytes is its own business, not a field of the module.
    expect(fx.registry.module('Documents')!.fields.map((f) => f.name)).to.include('filename').and.not.to.include('storage_key');
    expect(fx.registry.modules().find((m) => m.name === 'Documents')!.fields.map((f) => f.name)).not.to.include('storage_key');
    // Faq and Products are related to neither Contacts nor Accounts.
    for (const name of ['Faq', 'Products']) {
      expect(fx.registry.relations(name).filter((r) => [r.module, r.relatedModule].some((m) => m === 'Contacts' || m === 'Accounts'))).to.deep.equal([]);
    }
  });

  it('makes a second seeding a no-op', async function () {
    const revision = fx.registry.revision();
    const seen = record(fx.registry);
    await seedStandardModules(fx.registry);
    expect(fx.registry.revision()).to.equal(revision);
    expect(seen).to.deep.equal([]);
  });

  it('creates a real table with a column per field and an index on every reference column', async function () {
    const table = fx.registry.tableName('HelpDesk');
    expect(table).to.equal('mod_helpdesk');
    expect(await catalog.tableExists(fx.db, table)).to.equal(true);
    const columns = await catalog.columns(fx.db, table);
    expect(columns).to.include.members(['id', 'ticket_title', 'contact_id', 'account_id', 'status', 'owner_kind', 'owner_id', 'created_at', 'modified_at', 'version']);
    const indexed = await catalog.indexedColumns(fx.db, table);
    expect(indexed).to.include.members(['contact_id', 'account_id']);
    expect(indexed).not.to.include('ticket_title');
  });

  it('registers a custom module, emits its events and removes it again', async function () {
    const seen = record(fx.registry);
    await fx.registry.registerModule(warranties);
    expect(fx.registry.module('Warranties')).to.deep.equal(warranties);
    expect(await catalog.tableExists(fx.db, 'mod_warranties')).to.equal(true);
    // A reference's index also orders by modified_at (the default list order): see host/registry/module-tables.ts.
    expect(await catalog.indexedColumns(fx.db, 'mod_warranties')).to.deep.equal(['contact_id', 'modified_at']);
    expect(seen.map((s) => s.event)).to.deep.equal(['module.added', 'relation.added']);
    expect(seen[0]!.payload).to.deep.equal({ module: warranties });
    expect(seen[1]!.payload).to.deep.equal({
      relation: { id: 'Warranties.contact_id', kind: 'reference', module: 'Warranties', relatedModule: 'Contacts', field: 'contact_id', label: { en: 'Contact' } },
    });
    expect(fx.registry.relations('Contacts').map((r) => r.id)).to.include('Warranties.contact_id');

    seen.length = 0;
    await fx.registry.removeModule('Warranties');
    expect(seen.map((s) => s.event)).to.deep.equal(['relation.removed', 'module.removed']);
    expect(seen[1]!.payload).to.deep.equal({ module: 'Warranties' });
    expect(fx.registry.module('Warranties')).to.equal(undefined);
    expect(await catalog.tableExists(fx.db, 'mod_warranties')).to.equal(false);
  });

  it('refuses invalid and duplicate definitions with clear messages, changing nothing', async function () {
    const revision = fx.registry.revision();
    const cases: [unknown, RegExp][] = [
      [{ ...warranties, name: 'warranties' }, /Module name "warranties" is invalid/],
      [{ ...warranties, name: 'W' }, /Module name "W" is invalid/],
      [{ ...warranties, fields: [{ ...warranties.fields[0], name: 'Bad-Name' }] }, /Field name "Bad-Name" of Warranties is invalid/],
      [{ ...warranties, fields: [...warranties.fields, warranties.fields[0]] }, /has the field "warranty_name" twice/],
      [{ ...warranties, fields: [{ ...warranties.fields[1], referenceModules: ['Nowhere'] }, warranties.fields[0]] }, /refers to the unknown module "Nowhere"/],
      [{ ...warranties, fields: [{ ...warranties.fields[0], type: 'blob' }] }, /unknown type "blob"/],
      [{ ...warranties, fields: [...warranties.fields, { name: 'version', label: { en: 'V' }, type: 'integer', mandatory: false }] }, /"version" of Warranties is reserved/],
      [{ ...warranties, labelField: 'nope' }, /"labelField" must name one of its fields/],
      [{ ...warranties, label: { it: 'Garanzie' } }, /must have an English text/],
      [{ ...warranties, fields: [{ ...warranties.fields[2], picklistValues: [] }, warranties.fields[0]] }, /picklistValues must be a non-empty list/],
      [{ ...warranties, fields: [{ ...warranties.fields[2], picklistLabels: { Gold: { en: 'Gold' } } }, warranties.fields[0]] }, /"picklistLabels" names "Gold", which is not one of its picklistValues/],
      [{ ...warranties, fields: [{ ...warranties.fields[2], picklistLabels: { Basic: { it: 'Base' } } }, warranties.fields[0]] }, /picklistLabels\.Basic must have an English text/],
      [{ ...warranties, fields: [{ ...warranties.fields[0], picklistLabels: {} }] }, /"picklistLabels" are only for picklist fields/],
      [{ ...STANDARD_MODULES[0], name: 'Accounts' }, /Module Accounts already exists/],
      [{ ...warranties, name: 'HELPDESK' }, /already exists \(as HelpDesk\)/],
    ];
    for (const [definition, message] of cases) {
      const error = await rejection(fx.registry.registerModule(definition as ModuleDefinition));
      expect(error, String(message)).to.be.instanceOf(ModuleDefinitionError);
      expect(error.message).to.match(message);
    }
    expect(fx.registry.revision()).to.equal(revision);
    expect(await catalog.tableExists(fx.db, 'mod_warranties')).to.equal(false);
  });

  it('adds and removes fields (with their column and index) and refuses bad ones', async function () {
    const seen = record(fx.registry);
    const field = { name: 'vendor_id', label: { en: 'Vendor' }, type: 'reference' as const, mandatory: false, referenceModules: ['Vendors'] };
    await fx.registry.addField('Assets', field);
    expect(fx.registry.module('Assets')!.fields.at(-1)).to.deep.equal(field);
    expect(await catalog.columns(fx.db, 'mod_assets')).to.include('vendor_id');
    expect(await catalog.indexedColumns(fx.db, 'mod_assets')).to.include('vendor_id');
    expect(seen.map((s) => s.event)).to.deep.equal(['field.added', 'relation.added']);
    expect(seen[0]!.payload).to.deep.equal({ module: 'Assets', field });

    expect((await rejection(fx.registry.addField('Assets', field))).message).to.match(/already has the field "vendor_id"/);
    expect(await rejection(fx.registry.addField('Nowhere', field))).to.be.instanceOf(UnknownModuleError);
    expect((await rejection(fx.registry.removeField('Assets', 'assetname'))).message).to.match(/labelField/);

    seen.length = 0;
    await fx.registry.removeField('Assets', 'vendor_id');
    expect(seen.map((s) => s.event)).to.deep.equal(['relation.removed', 'field.removed']);
    expect(seen[1]!.payload).to.deep.equal({ module: 'Assets', field: 'vendor_id' });
    expect(await catalog.columns(fx.db, 'mod_assets')).not.to.include('vendor_id');
    // The other reference indexes survive the column drop.
    expect(await catalog.indexedColumns(fx.db, 'mod_assets')).to.include.members(['account_id', 'contact_id', 'product_id']);
  });

  it('adds and removes relations: related lists and reference fields', async function () {
    const seen = record(fx.registry);
    await fx.registry.addRelation({ id: 'Faq~Contacts', kind: 'related-list', module: 'Faq', relatedModule: 'Contacts' });
    expect(fx.registry.relations('Faq').map((r) => r.id)).to.deep.equal(['Faq~Contacts']);
    expect((await rejection(fx.registry.addRelation({ id: 'Contacts~Faq', kind: 'related-list', module: 'Contacts', relatedModule: 'Faq' }))).message).to.match(
      /already links/,
    );
    await fx.registry.addRelation({ id: 'Products.account_id', kind: 'reference', module: 'Products', relatedModule: 'Accounts', field: 'account_id' });
    expect(fx.registry.field('Products', 'account_id')).to.deep.include({ type: 'reference', referenceModules: ['Accounts'], label: { en: 'Organization', it: 'Azienda' } });
    expect(await catalog.indexedColumns(fx.db, 'mod_products')).to.include('account_id');
    // A second target turns the field into a multi-module reference with one relation per target.
    await fx.registry.addRelation({ id: 'Products.account_id:Vendors', kind: 'reference', module: 'Products', relatedModule: 'Vendors', field: 'account_id' });
    expect(fx.registry.relations('Products').filter((r) => r.module === 'Products').map((r) => r.id)).to.deep.equal([
      'Products.account_id:Accounts',
      'Products.account_id:Vendors',
    ]);
    expect(seen.map((s) => s.event)).to.deep.equal(['relation.added', 'field.added', 'relation.added', 'relation.removed', 'relation.added', 'relation.added']);

    seen.length = 0;
    await fx.registry.removeRelation('Products.account_id:Vendors');
    expect(fx.registry.field('Products', 'account_id')!.referenceModules).to.deep.equal(['Accounts']);
    await fx.registry.removeRelation('Products.account_id');
    expect(fx.registry.field('Products', 'account_id')).to.equal(undefined);
    await fx.registry.removeRelation('Faq~Contacts');
    expect(fx.registry.relations('Faq')).to.deep.equal([]);
    expect(seen.filter((s) => s.event === 'relation.removed').map((s) => (s.payload as ModuleRegistryEvents['relation.removed']).relation.id)).to.include.members([
      'Products.account_id',
      'Faq~Contacts',
    ]);
    expect((await rejection(fx.registry.removeRelation('Nope~Nope'))).message).to.match(/Unknown relation "Nope~Nope"/);
  });

  it('refuses to remove a module that other modules reference', async function () {
    const error = await rejection(fx.registry.removeModule('Project'));
    expect(error.message).to.match(/Project is referenced by ProjectTask.project_id, ProjectMilestone.project_id/);
    expect(fx.registry.module('Project')).not.to.equal(undefined);
  });

  it('lets a second process see a change after sync() and emit the events', async function () {
    const other = await SqlModuleRegistry.open(await fx.openAnother(), fx.logger);
    const seen = record(other);
    expect(await other.sync()).to.equal(false);
    await fx.registry.registerModule(warranties);
    expect(other.module('Warranties')).to.equal(undefined);
    expect(await other.sync()).to.equal(true);
    expect(other.module('Warranties')).to.deep.equal(warranties);
    expect(seen.map((s) => s.event)).to.deep.equal(['module.added', 'relation.added']);
    expect(seen[0]!.payload).to.deep.equal({ module: warranties });
    expect(await other.sync()).to.equal(false);

    seen.length = 0;
    await fx.registry.removeModule('Warranties');
    const stop = other.watch(20);
    try {
      for (let i = 0; i < 100 && other.module('Warranties'); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      stop();
    }
    expect(other.module('Warranties')).to.equal(undefined);
    expect(seen.map((s) => s.event)).to.deep.equal(['relation.removed', 'module.removed']);
  });

  it('answers picklist values by the user\'s role', async function () {
    const all = ['Open', 'In Progress', 'Wait For Response', 'Closed'];
    const restricted = await insertUser(fx.db, { userName: 'restricted', firstName: 'Rita', lastName: 'Role', roleId: 7 });
    const free = await insertUser(fx.db, { userName: 'free', firstName: 'Fred', lastName: 'Free', roleId: 8 });
    const roleless = await insertUser(fx.db, { userName: 'roleless', firstName: 'No', lastName: 'Role', roleId: null });
    await fx.registry.setPicklistRoleValues('HelpDesk', 'status', 7, ['Closed', 'Open']);
    expect(await fx.registry.picklistValues('HelpDesk', 'status')).to.deep.equal(all);
    expect(await fx.registry.picklistValues('HelpDesk', 'status', restricted)).to.deep.equal(['Open', 'Closed']);
    expect(await fx.registry.picklistValues('HelpDesk', 'status', free)).to.deep.equal(all);
    expect(await fx.registry.picklistValues('HelpDesk', 'status', roleless)).to.deep.equal(all);
    // Another field of the same role is not restricted.
    expect(await fx.registry.picklistValues('HelpDesk', 'priority', restricted)).to.deep.equal(['Low', 'Normal', 'High', 'Urgent']);
    await fx.registry.setPicklistRoleValues('HelpDesk', 'status', 7, null);
    expect(await fx.registry.picklistValues('HelpDesk', 'status', restricted)).to.deep.equal(all);
    expect((await rejection(fx.registry.setPicklistRoleValues('HelpDesk', 'status', 7, ['Nope']))).message).to.match(/has no value "Nope"/);
  });

  it('reads the picklists a page asks for at once in one statement, each answer its own', async function () {
    const restricted = await insertUser(fx.db, { userName: 'batched', firstName: 'Bea', lastName: 'Batch', roleId: 9 });
    const free = await insertUser(fx.db, { userName: 'unbatched', firstName: 'Ugo', lastName: 'Free', roleId: 10 });
    await fx.registry.setPicklistRoleValues('HelpDesk', 'status', 9, ['Closed']);
    await fx.registry.setPicklistRoleValues('HelpDesk', 'priority', 9, ['High', 'Low']);
    const recorded = recordStatements(fx.db.sequelize, (sql) => sql.startsWith('SELECT') && sql.includes('crm_picklist_roles'));
    const statements = recorded.sql;
    try {
      const answers = await Promise.all([
        fx.registry.picklistValues('HelpDesk', 'status', restricted),
        fx.registry.picklistValues('HelpDesk', 'priority', restricted),
        fx.registry.picklistValues('HelpDesk', 'status', free),
        fx.registry.picklistValues('HelpDesk', 'priority', restricted),
      ]);
      expect(answers).to.deep.equal([['Closed'], ['Low', 'High'], ['Open', 'In Progress', 'Wait For Response', 'Closed'], ['Low', 'High']]);
      expect(statements, 'one statement per user').to.have.length(2);
      // Asked again later: read again (a change made meanwhile shows).
      await fx.registry.setPicklistRoleValues('HelpDesk', 'status', 9, ['Open']);
      expect(await fx.registry.picklistValues('HelpDesk', 'status', restricted)).to.deep.equal(['Open']);
      expect(statements).to.have.length(3);
    } finally {
      recorded.stop();
    }
  });

  it('names tables and columns only for known modules and fields', function () {
    expect(fx.registry.columnOf('Contacts', 'lastname')).to.equal('lastname');
    expect(() => fx.registry.columnOf('Contacts', 'password')).to.throw('Unknown field "password" in module Contacts');
    expect(() => fx.registry.tableName('Nope')).to.throw(UnknownModuleError);
  });

  it('logged no error', function () {
    expect(fx.logger.entries.filter((e) => e.level === 'error')).to.deep.equal([]);
  });
});
