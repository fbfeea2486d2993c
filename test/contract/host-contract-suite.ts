/**
 * The host-contract conformance suite: any CRM that wants to load the Business Portal runs it
 * against itself to check that it honours `HostApi` (plugin/host-contract/host-api.ts).
 *
 * It uses only the contract. Besides an empty CRM with the standard modules, it expects the host
 * under test to provide what the contract cannot create:
 * - at least one active admin user and at least one inactive user;
 * - at least one email template with an `en` and an `it` version that merges `{{contact.firstname}}`;
 * - a global mail server that accepts messages (a local test SMTP server is fine).
 *
 * The suite registers its own modules (`ContractItems`, `ContractProbes`) and leaves records
 * behind: give it a scratch database.
 */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import semver from 'semver';
import {
  type Actor,
  type CrmRecord,
  type FieldDefinition,
  type FieldType,
  type FieldValue,
  type HostApi,
  InvalidQueryError,
  InvalidRecordError,
  type ModuleDefinition,
  type ModuleRegistryEvents,
  type RecordBlock,
  type RecordCondition,
  type RecordEvents,
  RecordNotFoundError,
  type RecordSort,
  type RelationDefinition,
  StaleRecordError,
  UnknownFieldError,
} from '../../plugin/host-contract/index.js';

export interface HostUnderTest {
  readonly api: HostApi;
  close(): Promise<void>;
}

const STANDARD_MODULES = [
  'Contacts',
  'Accounts',
  'HelpDesk',
  'Faq',
  'Documents',
  'Invoice',
  'Quotes',
  'SalesOrder',
  'Products',
  'Services',
  'Assets',
  'Project',
  'ProjectTask',
  'ProjectMilestone',
  'ServiceContracts',
  'Potentials',
  'Vendors',
];

const FIELD_TYPES: readonly FieldType[] = [
  'text',
  'textarea',
  'integer',
  'decimal',
  'currency',
  'boolean',
  'date',
  'datetime',
  'email',
  'phone',
  'url',
  'picklist',
  'multipicklist',
  'reference',
];

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The rejection of a promise that must fail (the test fails when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

/** Waits until `probe` returns something (events may be delivered after the call resolves). */
async function eventually<T>(what: string, probe: () => T | undefined, timeoutMs = 2000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

function field(name: string, type: FieldType, extra: Partial<FieldDefinition> = {}): FieldDefinition {
  return { name, label: { en: name.replace(/_/g, ' '), it: `it ${name}` }, type, mandatory: false, ...extra };
}

/** The module most record tests use: one field of each kind the queries exercise. */
const itemsModule: ModuleDefinition = {
  name: 'ContractItems',
  label: { en: 'Contract items', it: 'Elementi di prova' },
  singularLabel: { en: 'Contract item', it: 'Elemento di prova' },
  custom: true,
  labelField: 'title',
  fields: [
    field('title', 'text', { mandatory: true, maxLength: 40 }),
    field('batch', 'text', { maxLength: 20 }),
    field('qty', 'integer'),
    field('price', 'decimal'),
    field('due', 'date'),
    field('done', 'boolean'),
    field('colour', 'picklist', { picklistValues: ['Red', 'Green', 'Blue'] }),
    field('contact_id', 'reference', { referenceModules: ['Contacts'] }),
    field('notes', 'textarea'),
  ],
};
const itemsToContacts: RelationDefinition = { id: 'ContractItems~Contacts', kind: 'related-list', module: 'ContractItems', relatedModule: 'Contacts' };

/** A module registered and removed by the registry tests. */
const probesModule: ModuleDefinition = {
  name: 'ContractProbes',
  label: { en: 'Contract probes', it: 'Sonde di prova' },
  singularLabel: { en: 'Contract probe', it: 'Sonda di prova' },
  custom: true,
  labelField: 'probename',
  fields: [field('probename', 'text', { mandatory: true, maxLength: 80 }), field('contact_id', 'reference', { referenceModules: ['Contacts'] })],
};

export function describeHostContract(hostName: string, makeHost: () => Promise<HostUnderTest>): void {
  describe(`Host contract v1: ${hostName}`, function () {
    let host: HostUnderTest | undefined;
    let api: HostApi;
    /** An active admin: the CRM user of the tests' writes. */
    let staffId: number;
    let staff: Actor;

    before(async function () {
      host = await makeHost();
      api = host.api;
      const admin = (await api.users.users()).find((user) => user.isAdmin && user.active);
      if (!admin) throw new Error('the host under test has no active admin user');
      staffId = admin.id;
      staff = { kind: 'user', userId: admin.id };
    });
    after(async function () {
      await host?.close();
    });

    /** Values for the mandatory fields of a standard module that the test does not set itself. */
    function withMandatory(module: string, values: Record<string, FieldValue>): Record<string, FieldValue> {
      const filled = { ...values };
      for (const f of api.modules.module(module)?.fields ?? []) {
        if (!f.mandatory || f.name in filled) continue;
        if (f.type === 'picklist') filled[f.name] = f.picklistValues?.[0] ?? null;
        else if (f.type === 'multipicklist') filled[f.name] = [f.picklistValues?.[0] ?? ''];
        else if (f.type === 'integer' || f.type === 'decimal' || f.type === 'currency') filled[f.name] = 1;
        else if (f.type === 'boolean') filled[f.name] = true;
        else if (f.type === 'date') filled[f.name] = '2025-01-15';
        else if (f.type === 'datetime') filled[f.name] = '2025-01-15T10:00:00.000Z';
        else if (f.type === 'email') filled[f.name] = 'contract@example.com';
        else if (f.type === 'url') filled[f.name] = 'https://example.com';
        else if (f.type !== 'reference') filled[f.name] = `Contract ${f.name}`;
      }
      return filled;
    }

    async function newContact(lastname: string, extra: Record<string, FieldValue> = {}): Promise<CrmRecord> {
      return api.records.create('Contacts', { values: withMandatory('Contacts', { firstname: 'Conny', lastname, ...extra }) });
    }

    // ─────────────────────────────── module registry ───────────────────────────────
    describe('module registry', function () {
      it('has every standard module, not custom, with labels in English', function () {
        for (const name of STANDARD_MODULES) {
          const module = api.modules.module(name);
          expect(module, name).to.not.equal(undefined);
          expect(module!.name).to.equal(name);
          expect(module!.custom, name).to.equal(false);
          expect(module!.label.en, name).to.be.a('string').and.not.equal('');
          expect(module!.singularLabel.en, name).to.be.a('string').and.not.equal('');
        }
        const listed = api.modules.modules().map((m) => m.name);
        expect(listed).to.include.members(STANDARD_MODULES);
        expect(api.modules.module('NoSuchModule')).to.equal(undefined);
      });

      it('describes every field with a name, a known type and an English label', function () {
        for (const module of api.modules.modules()) {
          expect(module.fields.map((f) => f.name), module.name).to.include(module.labelField);
          for (const f of module.fields) {
            const where = `${module.name}.${f.name}`;
            expect(f.name, where).to.match(/^[a-z][a-z0-9_]*$/);
            expect(FIELD_TYPES, where).to.include(f.type);
            expect(f.label.en, where).to.be.a('string').and.not.equal('');
            expect(f.mandatory, where).to.be.a('boolean');
            if (f.type === 'picklist' || f.type === 'multipicklist') expect(f.picklistValues, where).to.be.an('array').that.is.not.empty;
            // 1.2.0, optional: labels of picklist values, each naming one of the field's values, with an English text.
            if (f.picklistLabels !== undefined) {
              expect(['picklist', 'multipicklist'], where).to.include(f.type);
              for (const [value, label] of Object.entries(f.picklistLabels)) {
                expect(f.picklistValues, `${where} labels ${value}`).to.include(value);
                expect(label.en, `${where} labels ${value}`).to.be.a('string').and.not.equal('');
              }
            }
            if (f.type === 'reference') {
              expect(f.referenceModules, where).to.be.an('array').that.is.not.empty;
              for (const target of f.referenceModules!) expect(api.modules.module(target), `${where} → ${target}`).to.not.equal(undefined);
            }
          }
        }
      });

      it('has the fields the portal relies on', function () {
        const contacts = api.modules.module('Contacts')!;
        const lastname = contacts.fields.find((f) => f.name === 'lastname');
        expect(lastname?.mandatory).to.equal(true);
        expect(contacts.fields.find((f) => f.name === 'email')?.type).to.equal('email');
        expect(contacts.fields.find((f) => f.name === 'account_id')?.referenceModules).to.deep.equal(['Accounts']);
        const status = api.modules.module('Accounts')!.fields.find((f) => f.name === 'status');
        expect(status?.picklistValues).to.include('Blocked');
        const ticketStatus = api.modules.module('HelpDesk')!.fields.find((f) => f.name === 'status');
        expect(ticketStatus?.type).to.equal('picklist');
        expect(ticketStatus?.picklistValues).to.include.members(['Open', 'Closed']);
      });

      it('lists reference relations from both sides (HelpDesk.contact_id, Accounts.parent_id)', function () {
        const isTicketContact = (r: RelationDefinition) =>
          r.kind === 'reference' && r.module === 'HelpDesk' && r.relatedModule === 'Contacts' && r.field === 'contact_id';
        expect(api.modules.relations('HelpDesk').filter(isTicketContact)).to.have.length(1);
        expect(api.modules.relations('Contacts').filter(isTicketContact)).to.have.length(1);
        const isParent = (r: RelationDefinition) => r.kind === 'reference' && r.module === 'Accounts' && r.relatedModule === 'Accounts' && r.field === 'parent_id';
        expect(api.modules.relations('Accounts').filter(isParent)).to.have.length(1);

        const all = api.modules.relations();
        const ids = all.map((r) => r.id);
        expect(new Set(ids).size, 'relation ids are unique').to.equal(ids.length);
        expect(ids).to.include.members(api.modules.relations('Contacts').map((r) => r.id));
        for (const relation of all) {
          expect(api.modules.module(relation.module), relation.id).to.not.equal(undefined);
          expect(api.modules.module(relation.relatedModule), relation.id).to.not.equal(undefined);
          if (relation.kind === 'reference') {
            const f = api.modules.module(relation.module)!.fields.find((x) => x.name === relation.field);
            expect(f?.type, relation.id).to.equal('reference');
          }
        }
      });

      it('gives every picklist value without a user and a subset of them for a user', async function () {
        const all = api.modules.module('HelpDesk')!.fields.find((f) => f.name === 'status')!.picklistValues!;
        expect(await api.modules.picklistValues('HelpDesk', 'status')).to.have.members([...all]);
        const seen = await api.modules.picklistValues('HelpDesk', 'status', staffId);
        expect(all).to.include.members([...seen]);
      });

      describe('a custom module registered at run time', function () {
        const events: { [E in keyof ModuleRegistryEvents]?: ModuleRegistryEvents[E][] } = {};
        const unsubscribes: (() => void)[] = [];
        const seen = <E extends keyof ModuleRegistryEvents>(event: E) => (events[event] ??= []) as ModuleRegistryEvents[E][];

        before(function () {
          for (const event of ['module.added', 'module.removed', 'field.added', 'field.removed', 'relation.added', 'relation.removed'] as const) {
            unsubscribes.push(api.modules.on(event, (payload) => void seen(event).push(payload as never)));
          }
        });
        after(function () {
          for (const unsubscribe of unsubscribes) unsubscribe();
        });

        it('is announced with module.added and relation.added for its reference to Contacts', async function () {
          await api.modules.registerModule(probesModule);
          const added = await eventually('module.added', () => seen('module.added').find((p) => p.module.name === probesModule.name));
          expect(added.module.custom).to.equal(true);
          expect(added.module.fields.map((f) => f.name)).to.include.members(['probename', 'contact_id']);
          const relation = await eventually('relation.added', () =>
            seen('relation.added').find((p) => p.relation.module === probesModule.name && p.relation.relatedModule === 'Contacts'),
          );
          expect(relation.relation).to.include({ kind: 'reference', field: 'contact_id' });

          const module = api.modules.module(probesModule.name);
          expect(module?.label.en).to.equal(probesModule.label.en);
          expect(module?.labelField).to.equal('probename');
          expect(api.modules.relations('Contacts').map((r) => r.id)).to.include(relation.relation.id);
          expect(api.modules.relations(probesModule.name).map((r) => r.id)).to.include(relation.relation.id);

          const record = await api.records.create(probesModule.name, { values: { probename: 'first probe' } });
          expect(record.values.probename).to.equal('first probe');
        });

        it('announces added and removed fields and uses them at once', async function () {
          const serial = field('serial', 'text', { maxLength: 30 });
          await api.modules.addField(probesModule.name, serial);
          const added = await eventually('field.added', () => seen('field.added').find((p) => p.module === probesModule.name && p.field.name === 'serial'));
          expect(added.field.type).to.equal('text');
          expect(api.modules.module(probesModule.name)!.fields.map((f) => f.name)).to.include('serial');
          const record = await api.records.create(probesModule.name, { values: { probename: 'with serial', serial: 'SN-1' } });
          expect((await api.records.get(probesModule.name, record.id))?.values.serial).to.equal('SN-1');

          await api.modules.removeField(probesModule.name, 'serial');
          await eventually('field.removed', () => seen('field.removed').find((p) => p.module === probesModule.name && p.field === 'serial'));
          expect(api.modules.module(probesModule.name)!.fields.map((f) => f.name)).to.not.include('serial');
          expect(await rejectionOf(api.records.query(probesModule.name, { where: { field: 'serial', op: 'eq', value: 'SN-1' } }))).to.be.instanceOf(
            UnknownFieldError,
          );
        });

        it('announces added and removed relations', async function () {
          const relation: RelationDefinition = {
            id: 'ContractProbes~Accounts',
            kind: 'related-list',
            module: probesModule.name,
            relatedModule: 'Accounts',
            label: { en: 'Accounts', it: 'Aziende' },
          };
          await api.modules.addRelation(relation);
          const added = await eventually('relation.added', () => seen('relation.added').find((p) => p.relation.id === relation.id));
          expect(added.relation).to.deep.include({ kind: 'related-list', module: probesModule.name, relatedModule: 'Accounts' });
          expect(api.modules.relations('Accounts').map((r) => r.id)).to.include(relation.id);

          await api.modules.removeRelation(relation.id);
          const removed = await eventually('relation.removed', () => seen('relation.removed').find((p) => p.relation.id === relation.id));
          expect(removed.relation.relatedModule).to.equal('Accounts');
          expect(api.modules.relations('Accounts').map((r) => r.id)).to.not.include(relation.id);
        });

        it('stops calling a listener once it is unsubscribed', async function () {
          let calls = 0;
          const unsubscribe = api.modules.on('field.added', () => void (calls += 1));
          await api.modules.addField(probesModule.name, field('first_extra', 'integer'));
          await eventually('the listener', () => (calls === 1 ? true : undefined));
          unsubscribe();
          unsubscribe();
          await api.modules.addField(probesModule.name, field('second_extra', 'integer'));
          await eventually('field.added', () => seen('field.added').find((p) => p.field.name === 'second_extra'));
          expect(calls).to.equal(1);
        });

        it('re-syncs its view when asked, answering false when nothing changed outside it (1.7.0, optional)', async function () {
          // A host before 1.7.0, or one whose view is always current, lacks sync: the plugin then answers a 503 in the window.
          if (semver.lt(api.apiVersion, '1.7.0') || api.modules.sync === undefined) return this.skip();
          expect(api.modules.sync, 'sync').to.be.a('function');
          // Every change above went through this view: there is nothing left to pick up, and the view stays as it was.
          expect(await api.modules.sync()).to.equal(false);
          expect(api.modules.module(probesModule.name)!.fields.map((f) => f.name)).to.include.members(['first_extra', 'second_extra']);
          expect(api.modules.relations(probesModule.name).map((r) => r.id)).to.not.include('ContractProbes~Accounts');
        });

        it('is removed with its relations, announced by module.removed', async function () {
          await api.modules.removeModule(probesModule.name);
          await eventually('module.removed', () => seen('module.removed').find((p) => p.module === probesModule.name));
          expect(api.modules.module(probesModule.name)).to.equal(undefined);
          expect(api.modules.modules().map((m) => m.name)).to.not.include(probesModule.name);
          const dangling = api.modules.relations().filter((r) => r.module === probesModule.name || r.relatedModule === probesModule.name);
          expect(dangling).to.deep.equal([]);
        });
      });
    });

    // ─────────────────────────────────── records ───────────────────────────────────
    describe('records', function () {
      before(async function () {
        if (!api.modules.module(itemsModule.name)) await api.modules.registerModule(itemsModule);
        if (!api.modules.relations(itemsModule.name).some((r) => r.id === itemsToContacts.id)) await api.modules.addRelation(itemsToContacts);
      });

      it('creates, reads, updates partially and deletes a record', async function () {
        const contact = await newContact('Crud');
        const created = await api.records.create(itemsModule.name, {
          values: { title: 'Crud item', qty: 3, price: 12.5, due: '2025-03-04', done: true, colour: 'Green', contact_id: contact.id, notes: 'first' },
          owner: { kind: 'user', id: staffId },
        });
        expect(created.id).to.be.a('number');
        expect(created.module).to.equal(itemsModule.name);
        expect(created.values).to.include({ title: 'Crud item', qty: 3, due: '2025-03-04', done: true, colour: 'Green', contact_id: contact.id, notes: 'first' });
        expect(Number(created.values.price)).to.equal(12.5);
        expect(created.owner).to.deep.equal({ kind: 'user', id: staffId });
        expect(created.createdAt).to.match(ISO_DATETIME);
        expect(created.modifiedAt).to.match(ISO_DATETIME);
        expect(await api.records.get(itemsModule.name, created.id)).to.deep.equal(created);

        const updated = await api.records.update(itemsModule.name, created.id, { values: { qty: 4, done: false } });
        expect(updated.values).to.include({ title: 'Crud item', qty: 4, done: false, colour: 'Green', notes: 'first' });
        expect(updated.version).to.be.greaterThan(created.version);
        expect(Date.parse(updated.modifiedAt)).to.be.at.least(Date.parse(created.modifiedAt));
        expect(updated.createdAt).to.equal(created.createdAt);

        await api.records.delete(itemsModule.name, created.id);
        expect(await api.records.get(itemsModule.name, created.id)).to.equal(null);
        expect(await api.records.get(itemsModule.name, 987_654_321)).to.equal(null);
      });

      it('refuses values that do not fit the fields with InvalidRecordError', async function () {
        const cases: [string, Record<string, FieldValue>][] = [
          ['title', { qty: 1 }],
          ['title', { title: '' }],
          ['title', { title: 'x'.repeat(41) }],
          ['colour', { title: 'Bad colour', colour: 'Purple' }],
          ['qty', { title: 'Bad qty', qty: 'many' }],
          ['qty', { title: 'Fraction', qty: 1.5 }],
          ['due', { title: 'Bad date', due: 'next tuesday' }],
        ];
        const before = await api.records.count(itemsModule.name);
        for (const [problemField, values] of cases) {
          const error = await rejectionOf(api.records.create(itemsModule.name, { values }));
          expect(error, JSON.stringify(values)).to.be.instanceOf(InvalidRecordError);
          expect((error as InvalidRecordError).problems.map((p) => p.field), JSON.stringify(values)).to.include(problemField);
        }
        expect(await api.records.count(itemsModule.name)).to.equal(before);

        const valid = await api.records.create(itemsModule.name, { values: { title: 'Valid' } });
        expect(await rejectionOf(api.records.update(itemsModule.name, valid.id, { values: { title: null } }))).to.be.instanceOf(InvalidRecordError);
        expect((await api.records.get(itemsModule.name, valid.id))?.values.title).to.equal('Valid');
        expect(await rejectionOf(api.records.create('Contacts', { values: { firstname: 'No last name' } }))).to.be.instanceOf(InvalidRecordError);
      });

      it('refuses a stale update or delete with StaleRecordError', async function () {
        const v1 = await api.records.create(itemsModule.name, { values: { title: 'Locked', qty: 1 } });
        const v2 = await api.records.update(itemsModule.name, v1.id, { values: { qty: 2 } }, { expectedVersion: v1.version });
        expect(await rejectionOf(api.records.update(itemsModule.name, v1.id, { values: { qty: 3 } }, { expectedVersion: v1.version }))).to.be.instanceOf(
          StaleRecordError,
        );
        expect(await rejectionOf(api.records.delete(itemsModule.name, v1.id, { expectedVersion: v1.version }))).to.be.instanceOf(StaleRecordError);
        expect((await api.records.get(itemsModule.name, v1.id))?.values.qty).to.equal(2);
        await api.records.delete(itemsModule.name, v1.id, { expectedVersion: v2.version });
        expect(await api.records.get(itemsModule.name, v1.id)).to.equal(null);
      });

      it('refuses writes that name a missing record with RecordNotFoundError', async function () {
        const missing = 987_654_321;
        const contact = await newContact('Exists');
        // Each write started only when awaited: a rejection nobody awaits yet is an unhandled one.
        const writes: (() => Promise<unknown>)[] = [
          () => api.records.update(itemsModule.name, missing, { values: { qty: 1 } }),
          () => api.records.delete(itemsModule.name, missing),
          () => api.records.link(itemsToContacts.id, missing, contact.id),
          () => api.records.addComment(itemsModule.name, missing, { body: 'Nobody reads this', internal: false }, { actor: staff }),
          () => api.records.attachDocument('Contacts', missing, { title: 'Orphan', fileName: 'orphan.txt', mimeType: 'text/plain', content: Buffer.from('x') }),
        ];
        const documentsBefore = await api.records.count('Documents');
        for (const write of writes) expect(await rejectionOf(write())).to.be.instanceOf(RecordNotFoundError);
        expect(await api.records.relatedIds(itemsToContacts.id, 'Contacts', contact.id)).to.deep.equal([]);
        expect(await api.records.count('Documents')).to.equal(documentsBefore);
      });

      it('leaves nothing behind when the transaction of a write is rolled back', async function () {
        const transaction = await api.database.sequelize.transaction();
        let id: number;
        try {
          const record = await api.records.create(itemsModule.name, { values: { title: 'Rolled back', batch: 'rollback' } }, { transaction });
          id = record.id;
          expect((await api.records.get(itemsModule.name, id, { transaction }))?.values.title).to.equal('Rolled back');
        } finally {
          await transaction.rollback();
        }
        expect(await api.records.get(itemsModule.name, id)).to.equal(null);
        expect(await api.records.count(itemsModule.name, { field: 'batch', op: 'eq', value: 'rollback' })).to.equal(0);
      });

      describe('query', function () {
        const rows: Record<string, CrmRecord> = {};
        /** Every query is limited to this test's rows. */
        const only = (condition?: RecordCondition): RecordCondition =>
          condition ? { and: [{ field: 'batch', op: 'eq', value: 'query' }, condition] } : { field: 'batch', op: 'eq', value: 'query' };
        const titles = async (condition: RecordCondition | undefined, sort: readonly RecordSort[] = [{ field: 'qty', direction: 'asc' }]) =>
          (await api.records.query(itemsModule.name, { where: only(condition), sort })).rows.map((r) => r.values.title);

        before(async function () {
          const fixtures: Record<string, FieldValue>[] = [
            { title: 'Alpha', qty: 1, price: 9.5, due: '2024-01-10', done: true, colour: 'Red' },
            { title: 'beta', qty: 2, price: 20, due: '2024-02-20', done: false, colour: 'Green' },
            { title: 'Gamma ray', qty: 3, price: 20, due: '2024-03-30', done: true, colour: 'Blue' },
            { title: '100% sure', qty: 4, price: 0.25, due: null, done: false, colour: null },
            { title: 'a_b', qty: 5, price: 31, due: '2024-05-05', done: false, colour: 'Red' },
            { title: 'axb', qty: 6, price: 42, due: '2024-06-06', done: true, colour: 'Green' },
            { title: 'Alphabet', qty: 7, price: 7, due: '2024-07-07', done: false, colour: 'Blue' },
          ];
          for (const values of fixtures) {
            const record = await api.records.create(itemsModule.name, { values: { ...values, batch: 'query' } });
            rows[String(values.title)] = record;
          }
        });

        it('compares with eq, ne, lt, lte, gt and gte on numbers, decimals and dates', async function () {
          expect(await titles({ field: 'title', op: 'eq', value: 'beta' })).to.deep.equal(['beta']);
          expect(await titles({ field: 'qty', op: 'ne', value: 1 })).to.deep.equal(['beta', 'Gamma ray', '100% sure', 'a_b', 'axb', 'Alphabet']);
          expect(await titles({ field: 'qty', op: 'lt', value: 3 })).to.deep.equal(['Alpha', 'beta']);
          expect(await titles({ field: 'qty', op: 'lte', value: 3 })).to.deep.equal(['Alpha', 'beta', 'Gamma ray']);
          expect(await titles({ field: 'qty', op: 'gt', value: 5 })).to.deep.equal(['axb', 'Alphabet']);
          expect(await titles({ field: 'qty', op: 'gte', value: 5 })).to.deep.equal(['a_b', 'axb', 'Alphabet']);
          expect(await titles({ field: 'price', op: 'gte', value: 20 })).to.deep.equal(['beta', 'Gamma ray', 'a_b', 'axb']);
          expect(await titles({ field: 'price', op: 'lt', value: 7.5 })).to.deep.equal(['100% sure', 'Alphabet']);
          expect(await titles({ field: 'due', op: 'lt', value: '2024-03-01' })).to.deep.equal(['Alpha', 'beta']);
          expect(await titles({ field: 'due', op: 'gte', value: '2024-06-06' })).to.deep.equal(['axb', 'Alphabet']);
          expect(await titles({ field: 'done', op: 'eq', value: true })).to.deep.equal(['Alpha', 'Gamma ray', 'axb']);
        });

        it('matches in, isNull and notNull', async function () {
          expect(await titles({ field: 'qty', op: 'in', value: [1, 3, 5] })).to.deep.equal(['Alpha', 'Gamma ray', 'a_b']);
          expect(await titles({ field: 'colour', op: 'in', value: ['Red', 'Blue'] })).to.deep.equal(['Alpha', 'Gamma ray', 'a_b', 'Alphabet']);
          expect(await titles({ field: 'colour', op: 'isNull' })).to.deep.equal(['100% sure']);
          expect(await titles({ field: 'due', op: 'notNull' })).to.have.length(6);
          expect(await titles({ field: 'id', op: 'in', value: [rows.beta.id, rows.axb.id] })).to.deep.equal(['beta', 'axb']);
        });

        it('compares text exactly with eq, ne and in: case, accents and trailing spaces count', async function () {
          // The portal's safety rests on it: the public FAQ catalogue is `status eq 'Published'`, and
          // a customer's filter on a picklist must not find what an exact comparison would not.
          const written = ['Published', 'published', 'PUBLISHED', 'Published ', 'Publishéd', 'Draft'];
          for (const title of written) await api.records.create(itemsModule.name, { values: { title, notes: title, batch: 'exact' } });
          const exact = async (condition: RecordCondition) =>
            (await api.records.query(itemsModule.name, { where: { and: [{ field: 'batch', op: 'eq', value: 'exact' }, condition] }, fields: ['title'] })).rows
              .map((r) => `[${String(r.values.title)}]`)
              .sort();
          // Stored as written (a host that changed them would make the rest meaningless).
          expect(await exact({ field: 'title', op: 'notNull' })).to.deep.equal(written.map((t) => `[${t}]`).sort());

          expect(await exact({ field: 'title', op: 'eq', value: 'Published' })).to.deep.equal(['[Published]']);
          expect(await exact({ field: 'title', op: 'eq', value: 'published' })).to.deep.equal(['[published]']);
          expect(await exact({ field: 'title', op: 'eq', value: 'Published ' })).to.deep.equal(['[Published ]']);
          expect(await exact({ field: 'title', op: 'eq', value: 'Publishéd' })).to.deep.equal(['[Publishéd]']);
          expect(await exact({ field: 'notes', op: 'eq', value: 'Published' })).to.deep.equal(['[Published]']);
          expect(await exact({ field: 'title', op: 'in', value: ['PUBLISHED', 'Draft'] })).to.deep.equal(['[Draft]', '[PUBLISHED]']);
          expect(await exact({ field: 'title', op: 'ne', value: 'Published' })).to.deep.equal(['[Draft]', '[PUBLISHED]', '[Published ]', '[Publishéd]', '[published]'].sort());
          expect(await exact({ not: { field: 'title', op: 'eq', value: 'Published' } })).to.deep.equal(['[Draft]', '[PUBLISHED]', '[Published ]', '[Publishéd]', '[published]'].sort());
          expect(await api.records.count(itemsModule.name, { and: [{ field: 'batch', op: 'eq', value: 'exact' }, { field: 'title', op: 'eq', value: 'Published' }] })).to.equal(1);
        });

        it('matches contains and startsWith case-insensitively, with % and _ taken literally', async function () {
          expect(await titles({ field: 'title', op: 'contains', value: 'ALPHA' })).to.deep.equal(['Alpha', 'Alphabet']);
          expect(await titles({ field: 'title', op: 'contains', value: 'RAY' })).to.deep.equal(['Gamma ray']);
          expect(await titles({ field: 'title', op: 'contains', value: '%' })).to.deep.equal(['100% sure']);
          expect(await titles({ field: 'title', op: 'contains', value: '0% s' })).to.deep.equal(['100% sure']);
          expect(await titles({ field: 'title', op: 'contains', value: '_' })).to.deep.equal(['a_b']);
          expect(await titles({ field: 'title', op: 'startsWith', value: 'a_' })).to.deep.equal(['a_b']);
          expect(await titles({ field: 'title', op: 'startsWith', value: 'al' })).to.deep.equal(['Alpha', 'Alphabet']);
          expect(await titles({ field: 'title', op: 'contains', value: "' OR 1=1 --" })).to.deep.equal([]);
          expect(await titles({ field: 'title', op: 'contains', value: '\\' })).to.deep.equal([]);
        });

        it('combines conditions with and, or and not', async function () {
          expect(
            await titles({
              or: [
                { field: 'title', op: 'eq', value: 'beta' },
                { field: 'qty', op: 'eq', value: 6 },
              ],
            }),
          ).to.deep.equal(['beta', 'axb']);
          expect(await titles({ not: { field: 'qty', op: 'in', value: [1, 2, 3] } })).to.deep.equal(['100% sure', 'a_b', 'axb', 'Alphabet']);
          expect(
            await titles({
              and: [
                { field: 'done', op: 'eq', value: false },
                { or: [{ field: 'colour', op: 'eq', value: 'Red' }, { not: { field: 'qty', op: 'lt', value: 7 } }] },
              ],
            }),
          ).to.deep.equal(['a_b', 'Alphabet']);
          expect(await titles({ or: [] })).to.deep.equal([]);
        });

        it('sorts both ways, by several keys, with id as the last key', async function () {
          expect(await titles(undefined, [{ field: 'qty', direction: 'desc' }])).to.deep.equal(['Alphabet', 'axb', 'a_b', '100% sure', 'Gamma ray', 'beta', 'Alpha']);
          expect(await titles(undefined, [{ field: 'price', direction: 'asc' }])).to.deep.equal(['100% sure', 'Alphabet', 'Alpha', 'beta', 'Gamma ray', 'a_b', 'axb']);
          // beta and Gamma ray share a price: the implicit last key (id) orders them above, an explicit one here.
          expect(
            await titles(undefined, [
              { field: 'price', direction: 'desc' },
              { field: 'id', direction: 'desc' },
            ]),
          ).to.deep.equal(['axb', 'a_b', 'Gamma ray', 'beta', 'Alpha', 'Alphabet', '100% sure']);
          expect(
            await titles(undefined, [
              { field: 'done', direction: 'desc' },
              { field: 'price', direction: 'desc' },
            ]),
          ).to.deep.equal(['axb', 'Gamma ray', 'Alpha', 'a_b', 'beta', 'Alphabet', '100% sure']);
          expect(await titles(undefined, [{ field: 'createdAt', direction: 'asc' }])).to.have.length(7);
        });

        it('sorts a picklist in the order of its values with picklistOrder (1.5.0, optional)', async function () {
          // A host before 1.5.0 sorts by the stored value.
          if (semver.lt(api.apiVersion, '1.5.0')) return this.skip();
          // Red, Green, Blue as the field defines them (not Blue, Green, Red as texts); the empty value first going up, last going down.
          expect(await titles(undefined, [{ field: 'colour', direction: 'asc', picklistOrder: true }])).to.deep.equal(['100% sure', 'Alpha', 'a_b', 'beta', 'axb', 'Gamma ray', 'Alphabet']);
          expect(await titles(undefined, [{ field: 'colour', direction: 'desc', picklistOrder: true }])).to.deep.equal(['Gamma ray', 'Alphabet', 'beta', 'axb', 'Alpha', 'a_b', '100% sure']);
          // Ignored on a field that is not a picklist.
          expect(await titles(undefined, [{ field: 'qty', direction: 'desc', picklistOrder: true }])).to.deep.equal(['Alphabet', 'axb', 'a_b', '100% sure', 'Gamma ray', 'beta', 'Alpha']);
        });

        it('pages with a total of every matching row', async function () {
          const page = await api.records.query(itemsModule.name, { where: only(), sort: [{ field: 'qty', direction: 'asc' }], limit: 2, offset: 2, withTotal: true });
          expect(page.rows.map((r) => r.values.title)).to.deep.equal(['Gamma ray', '100% sure']);
          expect(page.total).to.equal(7);
          const last = await api.records.query(itemsModule.name, { where: only(), sort: [{ field: 'qty', direction: 'asc' }], limit: 5, offset: 5, withTotal: true });
          expect(last.rows.map((r) => r.values.title)).to.deep.equal(['axb', 'Alphabet']);
          expect(last.total).to.equal(7);
          // A page past the last match, and one with no room, still tell the total; a search that matches nothing, none.
          const past = await api.records.query(itemsModule.name, { where: only(), sort: [{ field: 'qty', direction: 'asc' }], limit: 5, offset: 10, withTotal: true });
          expect([past.rows.length, past.total]).to.deep.equal([0, 7]);
          const none = await api.records.query(itemsModule.name, { where: only(), limit: 0, withTotal: true });
          expect([none.rows.length, none.total]).to.deep.equal([0, 7]);
          const nothing = await api.records.query(itemsModule.name, { where: only({ field: 'title', op: 'eq', value: 'No such title' }), limit: 5, withTotal: true });
          expect([nothing.rows.length, nothing.total]).to.deep.equal([0, 0]);
          expect(await api.records.count(itemsModule.name, only({ field: 'done', op: 'eq', value: true }))).to.equal(3);
        });

        it('returns only the fields asked for', async function () {
          const { rows: found } = await api.records.query(itemsModule.name, { where: only({ field: 'title', op: 'eq', value: 'Alpha' }), fields: ['title', 'qty'] });
          expect(found).to.have.length(1);
          expect(found[0].values).to.include({ title: 'Alpha', qty: 1 });
          expect(found[0].values).to.not.have.any.keys('notes', 'colour', 'price');
          expect(found[0].id).to.equal(rows.Alpha.id);
        });

        it('refuses malformed queries with InvalidQueryError', async function () {
          const malformed: Promise<unknown>[] = [
            api.records.query(itemsModule.name, { sort: [{ field: 'qty', direction: 'sideways' as 'asc' }] }),
            api.records.query(itemsModule.name, { limit: -1 }),
            api.records.query(itemsModule.name, { offset: 1.5 }),
            api.records.query(itemsModule.name, { where: { field: 'qty', op: 'like' as 'eq', value: 1 } }),
            api.records.query(itemsModule.name, { where: {} as RecordCondition }),
            api.records.count(itemsModule.name, { or: 'title' as unknown as RecordCondition[] }),
          ];
          for (const promise of malformed) expect(await rejectionOf(promise)).to.be.instanceOf(InvalidQueryError);
        });

        it('refuses unknown fields in conditions and sorts with UnknownFieldError', async function () {
          const refused: Promise<unknown>[] = [
            api.records.query(itemsModule.name, { where: { field: 'nope', op: 'eq', value: 1 } }),
            api.records.query(itemsModule.name, { where: { or: [{ field: 'title', op: 'eq', value: 'x' }, { field: 'title; DROP TABLE x', op: 'eq', value: 1 }] } }),
            api.records.query(itemsModule.name, { sort: [{ field: 'nope', direction: 'asc' }] }),
            api.records.query(itemsModule.name, { sort: [{ field: 'qty desc, (SELECT 1)', direction: 'asc' }] }),
            api.records.count(itemsModule.name, { not: { field: 'password', op: 'isNull' } }),
          ];
          for (const promise of refused) {
            const error = await rejectionOf(promise);
            expect(error).to.be.instanceOf(UnknownFieldError);
            expect((error as UnknownFieldError).module).to.equal(itemsModule.name);
          }
        });
      });

      it('links records through a related list, from either side and in queries', async function () {
        const contact = await newContact('Linked');
        const other = await newContact('Unlinked');
        const item = await api.records.create(itemsModule.name, { values: { title: 'Linked item', batch: 'link' } });
        await api.records.create(itemsModule.name, { values: { title: 'Lonely item', batch: 'link' } });
        await api.records.link(itemsToContacts.id, item.id, contact.id);
        await api.records.link(itemsToContacts.id, item.id, contact.id);

        expect(await api.records.relatedIds(itemsToContacts.id, itemsModule.name, item.id)).to.deep.equal([contact.id]);
        expect(await api.records.relatedIds(itemsToContacts.id, 'Contacts', contact.id)).to.deep.equal([item.id]);
        expect(await api.records.relatedIds(itemsToContacts.id, 'Contacts', other.id)).to.deep.equal([]);
        const items = await api.records.query(itemsModule.name, { where: { linkedThrough: itemsToContacts.id, ids: [contact.id, other.id] } });
        expect(items.rows.map((r) => r.id)).to.deep.equal([item.id]);
        const contacts = await api.records.query('Contacts', { where: { linkedThrough: itemsToContacts.id, ids: [item.id] } });
        expect(contacts.rows.map((r) => r.id)).to.deep.equal([contact.id]);

        await api.records.unlink(itemsToContacts.id, item.id, contact.id);
        expect(await api.records.relatedIds(itemsToContacts.id, itemsModule.name, item.id)).to.deep.equal([]);
        expect(await api.records.count(itemsModule.name, { linkedThrough: itemsToContacts.id, ids: [contact.id] })).to.equal(0);
      });

      it('keeps internal comments out unless asked for, and announces comments', async function () {
        const added: RecordEvents['comment.added'][] = [];
        const unsubscribe = api.records.on('comment.added', (payload) => void added.push(payload));
        try {
          const contact = await newContact('Commenter');
          const ticket = await api.records.create('HelpDesk', {
            values: withMandatory('HelpDesk', { ticket_title: 'Contract ticket', status: 'Open', contact_id: contact.id }),
          });
          const fromContact = await api.records.addComment(
            'HelpDesk',
            ticket.id,
            { body: 'Public <b>question</b>', internal: false },
            { actor: { kind: 'contact', contactId: contact.id } },
          );
          expect(fromContact).to.deep.include({ module: 'HelpDesk', recordId: ticket.id, body: 'Public <b>question</b>', internal: false });
          expect(fromContact.author).to.deep.equal({ kind: 'contact', contactId: contact.id });
          expect(fromContact.authorName).to.be.a('string').and.not.equal('');
          expect(fromContact.createdAt).to.match(ISO_DATETIME);
          const internal = await api.records.addComment('HelpDesk', ticket.id, { body: 'Internal note', internal: true }, { actor: staff });
          expect(internal.author).to.deep.equal(staff);

          expect((await api.records.comments('HelpDesk', ticket.id)).map((c) => c.id)).to.deep.equal([fromContact.id]);
          expect(await api.records.commentCount('HelpDesk', ticket.id)).to.equal(1);
          const everything = await api.records.comments('HelpDesk', ticket.id, { includeInternal: true });
          expect(everything.map((c) => c.id)).to.have.members([fromContact.id, internal.id]);
          expect(everything.find((c) => c.id === internal.id)?.internal).to.equal(true);
          expect(await api.records.commentCount('HelpDesk', ticket.id, { includeInternal: true })).to.equal(2);

          const announced = await eventually('comment.added', () => (added.length >= 2 ? added : undefined));
          expect(announced.map((p) => p.comment.id)).to.include.members([fromContact.id, internal.id]);
          expect(announced.find((p) => p.comment.id === internal.id)?.comment.internal).to.equal(true);
        } finally {
          unsubscribe();
        }
      });

      it('reads a page of the newest comments, newest first (1.3.0, optional)', async function () {
        const contact = await newContact('Paged');
        const ticket = await api.records.create('HelpDesk', { values: withMandatory('HelpDesk', { ticket_title: 'Paged comments', status: 'Open', contact_id: contact.id }) });
        const ids: number[] = [];
        for (let i = 0; i < 7; i += 1) {
          ids.push((await api.records.addComment('HelpDesk', ticket.id, { body: `reply ${i}`, internal: i === 3 }, { actor: staff })).id);
        }
        const all = await api.records.comments('HelpDesk', ticket.id);
        // A host before 1.3.0 ignores `newest` and answers all of them, oldest first.
        if (semver.lt(api.apiVersion, '1.3.0')) return this.skip();
        const publicNewestFirst = [...all].reverse().map((c) => c.id);
        expect(publicNewestFirst).to.have.length(6);
        expect((await api.records.comments('HelpDesk', ticket.id, { newest: { limit: 4 } })).map((c) => c.id)).to.deep.equal(publicNewestFirst.slice(0, 4));
        expect((await api.records.comments('HelpDesk', ticket.id, { newest: { limit: 4, offset: 4 } })).map((c) => c.id)).to.deep.equal(publicNewestFirst.slice(4));
        expect(await api.records.comments('HelpDesk', ticket.id, { newest: { limit: 4, offset: 8 } })).to.deep.equal([]);
        const withInternal = await api.records.comments('HelpDesk', ticket.id, { includeInternal: true, newest: { limit: 7 } });
        expect(withInternal.map((c) => c.id)).to.deep.equal([...ids].reverse());
      });

      it('attaches documents and opens them with the same bytes', async function () {
        const contact = await newContact('Documented');
        const bytes = Buffer.alloc(70_000);
        for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 31 + 7) % 256;
        const fromBuffer = await api.records.attachDocument('Contacts', contact.id, {
          title: 'Binary file',
          fileName: 'binary.bin',
          mimeType: 'application/octet-stream',
          content: bytes,
        });
        expect(fromBuffer).to.include({ title: 'Binary file', fileName: 'binary.bin', mimeType: 'application/octet-stream', size: bytes.length });
        expect(fromBuffer.createdAt).to.match(ISO_DATETIME);
        const text = 'Notes, accents: àèìòù €\n';
        const fromStream = await api.records.attachDocument('Contacts', contact.id, {
          title: 'Streamed text',
          fileName: 'notes.txt',
          mimeType: 'text/plain',
          content: Readable.from([Buffer.from(text.slice(0, 10)), Buffer.from(text.slice(10))]),
        });
        expect(fromStream.size).to.equal(Buffer.byteLength(text));

        const listed = await api.records.documents('Contacts', contact.id);
        expect(listed.map((d) => d.documentId)).to.have.members([fromBuffer.documentId, fromStream.documentId]);
        expect(await api.records.documents('Contacts', (await newContact('Without files')).id)).to.deep.equal([]);
        expect(await api.records.get('Documents', fromBuffer.documentId)).to.not.equal(null);

        const opened = await api.records.openDocument(fromBuffer.documentId);
        expect(opened?.file).to.deep.equal(fromBuffer);
        expect((await readAll(opened!.stream)).equals(bytes)).to.equal(true);
        const openedText = await api.records.openDocument(fromStream.documentId);
        expect((await readAll(openedText!.stream)).toString('utf8')).to.equal(text);
        expect(await api.records.openDocument(987_654_321)).to.equal(null);
      });

      it('reads a page of the newest documents, newest first, and counts them (1.4.0, optional)', async function () {
        const contact = await newContact('Paged files');
        for (let i = 0; i < 7; i += 1) {
          await api.records.attachDocument('Contacts', contact.id, { title: `File ${i}`, fileName: `file-${i}.txt`, mimeType: 'text/plain', content: Buffer.from(`file ${i}\n`) });
        }
        const all = await api.records.documents('Contacts', contact.id);
        expect(all).to.have.length(7);
        // A host before 1.4.0 ignores `newest`, answers all of them and has no `documentCount`.
        if (semver.lt(api.apiVersion, '1.4.0')) return this.skip();
        const newestFirst = [...all].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.documentId - a.documentId).map((d) => d.documentId);
        expect((await api.records.documents('Contacts', contact.id, { newest: { limit: 4 } })).map((d) => d.documentId)).to.deep.equal(newestFirst.slice(0, 4));
        expect((await api.records.documents('Contacts', contact.id, { newest: { limit: 4, offset: 4 } })).map((d) => d.documentId)).to.deep.equal(newestFirst.slice(4));
        expect(await api.records.documents('Contacts', contact.id, { newest: { limit: 4, offset: 8 } })).to.deep.equal([]);
        expect(await api.records.documentCount?.('Contacts', contact.id)).to.equal(7);
        expect(await api.records.documentCount?.('Contacts', (await newContact('No files')).id)).to.equal(0);
      });

      it('announces created, updated and deleted records with their actor', async function () {
        const created: RecordEvents['record.created'][] = [];
        const updated: RecordEvents['record.updated'][] = [];
        const deleted: RecordEvents['record.deleted'][] = [];
        const unsubscribes = [
          api.records.on('record.created', (p) => void created.push(p)),
          api.records.on('record.updated', (p) => void updated.push(p)),
          api.records.on('record.deleted', (p) => void deleted.push(p)),
        ];
        try {
          const record = await api.records.create(itemsModule.name, { values: { title: 'Evented', qty: 1 } }, { actor: staff });
          const onCreate = await eventually('record.created', () => created.find((p) => p.record.id === record.id && p.record.module === itemsModule.name));
          expect(onCreate.actor).to.deep.equal(staff);
          expect(onCreate.record.values.title).to.equal('Evented');

          await api.records.update(itemsModule.name, record.id, { values: { qty: 2 } }, { actor: staff });
          const onUpdate = await eventually('record.updated', () => updated.find((p) => p.record.id === record.id && p.record.module === itemsModule.name));
          expect(onUpdate.previous.values.qty).to.equal(1);
          expect(onUpdate.record.values.qty).to.equal(2);

          await api.records.delete(itemsModule.name, record.id, { actor: staff });
          const onDelete = await eventually('record.deleted', () => deleted.find((p) => p.record.id === record.id && p.record.module === itemsModule.name));
          expect(onDelete.actor).to.deep.equal(staff);
        } finally {
          for (const unsubscribe of unsubscribes) unsubscribe();
        }
      });
    });

    // ───────────────────────────── users and groups ──────────────────────────────
    describe('users and groups', function () {
      it('lists every user, inactive ones included, and finds each by id', async function () {
        const users = await api.users.users();
        expect(users.some((u) => u.isAdmin && u.active), 'an active admin').to.equal(true);
        expect(users.some((u) => !u.active), 'an inactive user').to.equal(true);
        const roles = await api.users.roles();
        for (const user of users) {
          expect(user.userName).to.be.a('string').and.not.equal('');
          expect(user.active).to.be.a('boolean');
          expect(user.isAdmin).to.be.a('boolean');
          expect(user.language).to.be.a('string');
          if (user.roleId !== null) expect(roles.map((r) => r.id)).to.include(user.roleId);
          expect(await api.users.user(user.id)).to.deep.equal(user);
        }
        expect(await api.users.user(987_654_321)).to.equal(null);
      });

      it('lists groups whose members are users', async function () {
        const userIds = (await api.users.users()).map((u) => u.id);
        for (const group of await api.users.groups()) {
          expect(group.name).to.be.a('string').and.not.equal('');
          expect(userIds).to.include.members([...group.memberIds]);
          expect(await api.users.group(group.id)).to.deep.equal(group);
        }
        expect(await api.users.group(987_654_321)).to.equal(null);
      });
    });

    // ──────────────────────────── templates and mail ─────────────────────────────
    describe('email templates and mail', function () {
      it('lists templates and finds each by id', async function () {
        const templates = await api.emailTemplates.templates();
        expect(templates).to.not.be.empty;
        for (const template of templates) {
          expect(template.name).to.be.a('string').and.not.equal('');
          expect(template.languages).to.be.an('array').that.is.not.empty;
          expect(await api.emailTemplates.template(template.id)).to.deep.equal(template);
        }
        expect(await api.emailTemplates.template(987_654_321)).to.equal(null);
      });

      it('renders in English and in Italian, escaping merged values in HTML', async function () {
        const evil = '<img src=x onerror=alert(1)>Eve & "Co"';
        const data = {
          contact: { firstname: evil, lastname: evil, email: 'eve@example.com' },
          portal: { url: 'https://portal.example.com/portal', username: 'eve@example.com', password: 'Secret-pass-1' },
          user: { firstname: 'Anna', lastname: 'Admin' },
        };
        const bilingual = (await api.emailTemplates.templates()).filter((t) => t.languages.includes('en') && t.languages.includes('it'));
        expect(bilingual, 'a template in en and it').to.not.be.empty;
        let merged = false;
        for (const template of bilingual) {
          const en = await api.emailTemplates.render(template.id, 'en', data);
          const it = await api.emailTemplates.render(template.id, 'it', data);
          for (const rendered of [en, it]) {
            expect(rendered.subject).to.be.a('string').and.not.equal('');
            expect(rendered.html).to.be.a('string').and.not.equal('');
            expect(rendered.text).to.be.a('string').and.not.equal('');
            expect(rendered.html).to.not.include('<img');
            expect(rendered.subject + rendered.html).to.not.include('{{');
          }
          expect(en.subject + en.html, `${template.name} differs between en and it`).to.not.equal(it.subject + it.html);
          if (en.html.includes('&lt;img') && it.html.includes('&lt;img')) merged = true;
        }
        expect(merged, 'some template merges {{contact.firstname}} (escaped) in both languages').to.equal(true);
      });

      it('renders every version of the templates asked for at once, as render renders each (1.6.0, optional)', async function () {
        // A host before 1.6.0 lacks renderVersions: callers render each template's languages one by one.
        if (semver.lt(api.apiVersion, '1.6.0')) return this.skip();
        expect(api.emailTemplates.renderVersions, 'renderVersions').to.be.a('function');
        const data = { contact: { firstname: '<b>Eve</b>' }, portal: { password: 'Secret-pass-1', resetUrl: 'https://portal.example.com/reset' } };
        const templates = await api.emailTemplates.templates();
        const asked = templates.slice(0, 4);
        const rendered = await api.emailTemplates.renderVersions!([...asked.map((t) => t.id), 987_654_321], data);
        const expected = [];
        for (const template of asked) {
          for (const language of template.languages) expected.push({ templateId: template.id, language, ...(await api.emailTemplates.render(template.id, language, data)) });
        }
        const order = (a: { templateId: number; language: string }, b: { templateId: number; language: string }) => a.templateId - b.templateId || a.language.localeCompare(b.language);
        expect([...rendered].sort(order)).to.deep.equal(expected.sort(order));
        expect(await api.emailTemplates.renderVersions!([], data)).to.deep.equal([]);
      });

      it('sends through the global server and answers a message id', async function () {
        const sender = api.mail.defaultSender();
        expect(sender.address).to.match(/^[^@\s]+@[^@\s]+$/);
        const sent = await api.mail.send(
          { to: [{ address: 'contract-test@example.com', name: 'Contract Test' }], subject: 'Contract test', html: '<p>Hello</p>', text: 'Hello' },
          { via: 'global' },
        );
        expect(sent.messageId).to.be.a('string').and.not.equal('');
        expect(await api.mail.hasUserAccount(staffId)).to.be.a('boolean');
        const viaUser = await api.mail.send(
          { to: [{ address: 'contract-test@example.com' }], subject: 'Via user', html: '<p>Hi</p>', text: 'Hi' },
          { via: 'user', userId: staffId },
        );
        expect(viaUser.messageId).to.be.a('string').and.not.equal('');
        // Since 1.10.0 the host says whether it keeps the mail to try again: not when the server took it.
        if (semver.gte(api.apiVersion, '1.10.0')) expect([sent.queued, viaUser.queued]).to.deep.equal([false, false]);
      });

      it('sends a mail with a discardAfter still ahead, and refuses one that is not a time (1.10.0, optional)', async function () {
        // A host before 1.10.0 ignores the field.
        if (semver.lt(api.apiVersion, '1.10.0')) return this.skip();
        const mail = { to: [{ address: 'contract-test@example.com' }], subject: 'Link valid an hour', html: '<p>Hi</p>', text: 'Hi' };
        const sent = await api.mail.send({ ...mail, discardAfter: new Date(Date.now() + 60 * 60_000).toISOString() }, { via: 'global' });
        expect(sent.messageId).to.be.a('string').and.not.equal('');
        const refused = await api.mail.send({ ...mail, discardAfter: 'next week' }, { via: 'global' }).then(
          () => null,
          (error: unknown) => error,
        );
        expect(refused, 'a discardAfter that is not a time').to.be.instanceOf(Error);
      });
    });

    // ─────────────────────────── settings menu and blocks ────────────────────────
    describe('settings menu and record blocks', function () {
      it('registers and unregisters a settings menu entry', function () {
        const entry = {
          id: 'contract-test.entry',
          section: 'customer-tools',
          labelKey: 'menu.contractTest',
          label: { en: 'Contract test', it: 'Prova del contratto' },
          path: '/settings/contract-test',
          adminOnly: true,
        };
        const before = api.settingsMenu.entries().length;
        const unregister = api.settingsMenu.register(entry);
        const entries = api.settingsMenu.entries();
        expect(entries).to.have.length(before + 1);
        expect(entries[entries.length - 1]).to.deep.equal(entry);
        unregister();
        unregister();
        expect(api.settingsMenu.entries().map((e) => e.id)).to.not.include(entry.id);
        expect(api.settingsMenu.entries()).to.have.length(before);
      });

      it('registers record blocks per module, sorted by order, and unregisters them', async function () {
        const block = (id: string, order: number): RecordBlock => ({
          id,
          module: 'Contacts',
          title: { en: id, it: id },
          order,
          render: async () => `<p>${id}</p>`,
        });
        const late = api.recordBlocks.register(block('contract-test.late', 900_002));
        const early = api.recordBlocks.register(block('contract-test.early', 900_001));
        const ours = () => api.recordBlocks.blocksFor('Contacts').filter((b) => b.id.startsWith('contract-test.'));
        expect(ours().map((b) => b.id)).to.deep.equal(['contract-test.early', 'contract-test.late']);
        const orders = api.recordBlocks.blocksFor('Contacts').map((b) => b.order);
        expect(orders).to.deep.equal([...orders].sort((a, b) => a - b));
        expect(api.recordBlocks.blocksFor('Accounts').map((b) => b.id)).to.not.include('contract-test.early');
        late();
        expect(ours().map((b) => b.id)).to.deep.equal(['contract-test.early']);
        early();
        early();
        expect(ours()).to.deep.equal([]);
      });
    });

    // ─────────────────────── HTTP, database and the small services ───────────────
    describe('http, database, regional, licences, installation, conditional rules and logger', function () {
      it('builds public URLs and login URLs', function () {
        const url = new URL(api.http.publicUrl('/portal/reset?token=abc'));
        expect(url.protocol).to.match(/^https?:$/);
        expect(url.pathname).to.match(/\/portal\/reset$/);
        expect(url.searchParams.get('token')).to.equal('abc');
        const login = api.http.loginUrl('/settings/business-portal?tab=2');
        expect(login).to.be.a('string').and.not.equal('');
        expect(login.includes(encodeURIComponent('/settings/business-portal?tab=2')) || login.includes('/settings/business-portal?tab=2')).to.equal(true);
      });

      it('gives, when it has one (1.1.0, optional), a module relations page as a local path or an http(s) URL', function () {
        const relationsUrl = api.http.moduleRelationsUrl?.bind(api.http);
        if (!relationsUrl) return;
        for (const module of api.modules.modules()) {
          const url = relationsUrl(module.name);
          expect(url, module.name).to.be.a('string');
          const local = url.startsWith('/') && !url.startsWith('//');
          expect(local || /^https?:\/\//.test(url), `${module.name}: ${url}`).to.equal(true);
        }
      });

      it('shares a working database connection of a supported dialect', async function () {
        expect(['sqlite', 'postgres', 'mariadb']).to.include(api.database.dialect);
        expect(api.database.sequelize.getDialect()).to.equal(api.database.dialect);
        await api.database.sequelize.authenticate();
      });

      it('names languages including en and it, a default among them, and a valid IANA time zone', function () {
        const codes = api.regional.languages().map((l) => l.code);
        expect(codes).to.include.members(['en', 'it']);
        for (const language of api.regional.languages()) expect(language.name).to.be.a('string').and.not.equal('');
        expect(codes).to.include(api.regional.defaultLanguage());
        const zone = api.regional.timeZone();
        expect(zone).to.match(/^(UTC|[A-Z][A-Za-z_]+(\/[A-Za-z0-9_+-]+)+)$/);
        expect(() => new Intl.DateTimeFormat('en', { timeZone: zone })).to.not.throw();
      });

      it('answers licence questions with booleans', async function () {
        expect(await api.licences.has('business-portal')).to.be.a('boolean');
        expect(await api.licences.has('contract-test-no-such-licence')).to.equal(false);
      });

      it('tells the install origin and keeps a stable plugin secret of at least 32 bytes', function () {
        const origin = api.installation.origin();
        expect(['fresh', 'upgraded']).to.include(origin.kind);
        if (origin.kind === 'upgraded') {
          // Empty when the host does not know the release it upgraded from.
          expect(origin.fromRelease).to.be.a('string');
          expect(origin.hadPortalVersion1).to.be.a('boolean');
        }
        const secret = api.installation.pluginSecret('business-portal');
        expect(Buffer.isBuffer(secret)).to.equal(true);
        expect(secret.length).to.be.at.least(32);
        expect(secret.equals(Buffer.alloc(secret.length))).to.equal(false);
        expect(api.installation.pluginSecret('business-portal').equals(secret)).to.equal(true);
        const copy = Buffer.from(secret);
        secret.fill(0); // what a caller does to the buffer it was given does not change the secret
        expect(api.installation.pluginSecret('business-portal').equals(copy)).to.equal(true);
      });

      it('lists CRM conditional rules of existing modules', async function () {
        const rules = await api.conditionalRules.rules();
        for (const rule of rules) {
          expect(api.modules.module(rule.module), rule.name).to.not.equal(undefined);
          expect(rule.allReadOnly).to.be.a('boolean');
        }
        const ofAccounts = await api.conditionalRules.rules('Accounts');
        expect(ofAccounts.every((r) => r.module === 'Accounts')).to.equal(true);
        expect(rules.map((r) => r.id)).to.include.members(ofAccounts.map((r) => r.id));
      });

      it('logs at every level, with and without fields', function () {
        for (const level of ['debug', 'info', 'warn', 'error'] as const) {
          expect(api.logger[level](`contract test ${level}`)).to.equal(undefined);
          expect(api.logger[level](`contract test ${level} with fields`, { module: 'Contacts', count: 2, ok: true, none: null, missing: undefined })).to.equal(
            undefined,
          );
        }
      });
    });
  });
}
