import { expect } from 'chai';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { Transaction } from 'sequelize';
import { InvalidRecordError, StaleRecordError, type FieldValue, type RecordEvents } from '../../plugin/host-contract/index.js';
import { RecordNotFoundError } from '../../host/records/record-errors.js';
import { DocumentFiles } from '../../host/records/document-files.js';
import { SqlRecordStore } from '../../host/records/record-store.js';
import { seedStandardModules } from '../../host/registry/standard-modules.js';
import { insertUser, registryFixture, type RegistryFixture } from '../registry/registry-fixture.js';
import { commitRefuser } from '../support/database.js';
import { rejection } from '../support/expectations.js';

describe('record store writes @db', function () {
  let fx: RegistryFixture;
  let store: SqlRecordStore;
  let filesDir: string;
  let events: { event: keyof RecordEvents; payload: unknown }[];
  let accountId: number;
  let contactId: number;

  before(async function () {
    fx = await registryFixture();
    await seedStandardModules(fx.registry);
    filesDir = mkdtempSync(join(tmpdir(), 'bp-files-'));
    store = new SqlRecordStore(fx.db, fx.registry, filesDir);
    events = [];
    for (const event of ['record.created', 'record.updated', 'record.deleted', 'comment.added'] as const) {
      store.on(event, (payload) => void events.push({ event, payload }));
    }
    accountId = (await store.create('Accounts', { values: { accountname: 'Acme Ltd', status: 'Active' } })).id;
    contactId = (await store.create('Contacts', { values: { firstname: 'Jane', lastname: 'Doe', email: 'jane.doe@example.com', account_id: accountId } })).id;
  });
  beforeEach(() => {
    events.length = 0;
  });
  after(async () => {
    await fx?.close();
    if (filesDir) rmSync(filesDir, { recursive: true, force: true });
  });

  /** Runs work in a transaction that is then rolled back. */
  async function rolledBack(work: (transaction: Transaction) => Promise<unknown>): Promise<void> {
    const failure = new Error('roll back');
    const error = await rejection(
      fx.db.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, async (transaction) => {
        await work(transaction);
        throw failure;
      }),
    );
    expect(error).to.equal(failure);
  }

  it('creates, reads, updates and deletes a record, bumping its version', async function () {
    const created = await store.create(
      'HelpDesk',
      { values: { ticket_title: 'Printer jam', status: 'Open', contact_id: contactId, priority: 'High' }, owner: { kind: 'group', id: 3 } },
      { actor: { kind: 'user', userId: 1 } },
    );
    expect(created).to.deep.include({ module: 'HelpDesk', version: 1, owner: { kind: 'group', id: 3 } });
    expect(created.values).to.deep.include({ ticket_title: 'Printer jam', status: 'Open', contact_id: contactId, account_id: null, priority: 'High' });
    expect(await store.get('HelpDesk', created.id)).to.deep.equal(created);
    expect(events).to.deep.equal([{ event: 'record.created', payload: { record: created, actor: { kind: 'user', userId: 1 } } }]);

    const updated = await store.update('HelpDesk', created.id, { values: { status: 'Closed', priority: null } }, { expectedVersion: 1 });
    expect(updated.version).to.equal(2);
    expect(updated.values).to.deep.include({ ticket_title: 'Printer jam', status: 'Closed', priority: null });
    expect(events[1]).to.deep.equal({ event: 'record.updated', payload: { record: updated, previous: created, actor: { kind: 'system' } } });

    await store.delete('HelpDesk', created.id, { expectedVersion: 2 });
    expect(await store.get('HelpDesk', created.id)).to.equal(null);
    expect(events[2]).to.deep.equal({ event: 'record.deleted', payload: { record: updated, actor: { kind: 'system' } } });
    expect(await rejection(store.update('HelpDesk', created.id, { values: { status: 'Open' } }))).to.be.instanceOf(RecordNotFoundError);
    expect(await store.get('HelpDesk', -1)).to.equal(null);
  });

  it('refuses invalid values with one problem per field and writes nothing', async function () {
    const error = await rejection(
      store.create('HelpDesk', {
        values: {
          ticket_title: '   ',
          status: 'Pending',
          contact_id: 999_999,
          priority: 5,
          description: 'x'.repeat(100_001),
          nope: 'x',
        },
      }),
    );
    expect(error).to.be.instanceOf(InvalidRecordError);
    expect((error as InvalidRecordError).problems).to.deep.equal([
      { field: 'nope', problem: 'is not a field of HelpDesk' },
      { field: 'ticket_title', problem: 'is mandatory' },
      { field: 'status', problem: 'is not one of the allowed values' },
      { field: 'priority', problem: 'must be text' },
      { field: 'description', problem: 'is longer than 100000 characters' },
    ]);
    // References are checked once the values have the right shape.
    const dangling = await rejection(store.create('HelpDesk', { values: { ticket_title: 'T', status: 'Open', contact_id: 999_999 } }));
    expect((dangling as InvalidRecordError).problems).to.deep.equal([{ field: 'contact_id', problem: 'refers to a record that does not exist' }]);

    const shapes: [string, Record<string, FieldValue>, string][] = [
      ['Contacts', { lastname: 'x'.repeat(81) }, 'is longer than 80 characters'],
      ['Contacts', { lastname: 'X', email: 'not-an-email' }, 'must be an email address'],
      ['Accounts', { accountname: 'A', website: 'javascript:alert(1)' }, 'must be a web address (http or https)'],
      ['Products', { productname: 'P', active: 'yes' }, 'must be true or false'],
      ['Products', { productname: 'P', unit_price: 'cheap' }, 'must be a number below 100,000,000,000,000'],
      ['Documents', { title: 'D', filesize: 1.5 }, 'must be a whole number'],
      ['Invoice', { subject: 'I', invoicedate: '2024-02-30' }, 'must be a date (YYYY-MM-DD)'],
      ['Contacts', { lastname: 'X', account_id: 'abc' }, 'must be the id of a record'],
      ['Contacts', { lastname: 'Nul\u0000byte' }, 'must be text'],
    ];
    for (const [module, values, problem] of shapes) {
      const invalid = await rejection(store.create(module, { values }));
      expect(invalid, `${module} ${problem}`).to.be.instanceOf(InvalidRecordError);
      expect((invalid as InvalidRecordError).problems.map((p) => p.problem)).to.include(problem);
      expect(invalid.message).not.to.include('javascript');
    }
    const managed = await rejection(store.create('Documents', { values: { title: 'D', storage_key: '../../etc/passwd' } }));
    expect((managed as InvalidRecordError).problems).to.deep.equal([{ field: 'storage_key', problem: 'is not a field of Documents' }]);
    const owner = await rejection(store.create('Faq', { values: { question: 'Q?' }, owner: { kind: 'robot', id: 1 } as never }));
    expect((owner as InvalidRecordError).problems).to.deep.equal([{ field: 'owner', problem: 'must be a CRM user or group' }]);
    expect(await store.count('HelpDesk')).to.equal(0);
    expect(events).to.deep.equal([]);
  });

  it('enforces expectedVersion atomically: of two writers holding the same version one wins', async function () {
    const record = await store.create('Faq', { values: { question: 'How?', status: 'Draft' } });
    const results = await Promise.allSettled([
      store.update('Faq', record.id, { values: { answer: 'First' } }, { expectedVersion: 1 }),
      store.update('Faq', record.id, { values: { answer: 'Second' } }, { expectedVersion: 1 }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).to.be.instanceOf(StaleRecordError);
    const stored = (await store.get('Faq', record.id))!;
    expect(stored.version).to.equal(2);
    expect(await rejection(store.delete('Faq', record.id, { expectedVersion: 1 }))).to.be.instanceOf(StaleRecordError);
    expect(await store.get('Faq', record.id)).not.to.equal(null);
    // Without expectedVersion the last writer wins.
    expect((await store.update('Faq', record.id, { values: { answer: 'Third' } })).version).to.equal(3);
  });

  it('honours a caller\'s transaction: a rollback leaves nothing and emits nothing', async function () {
    const before = await store.count('Contacts');
    await rolledBack(async (transaction) => {
      const created = await store.create('Contacts', { values: { lastname: 'Ghost' } }, { transaction });
      // The record is visible inside the transaction…
      expect((await store.get('Contacts', created.id, { transaction }))?.values.lastname).to.equal('Ghost');
      await store.update('Contacts', contactId, { values: { firstname: 'Changed' } }, { transaction });
      await store.addComment('Contacts', contactId, { body: 'Ghost comment', internal: false }, { transaction, actor: { kind: 'system' } });
    });
    // …and gone after the rollback.
    expect(await store.count('Contacts')).to.equal(before);
    expect((await store.get('Contacts', contactId))!.values.firstname).to.equal('Jane');
    expect(await store.commentCount('Contacts', contactId, { includeInternal: true })).to.equal(0);
    expect(events).to.deep.equal([]);
  });

  it('emits events only after the commit of a caller\'s transaction', async function () {
    let inside = -1;
    await fx.db.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, async (transaction) => {
      await store.create('Contacts', { values: { lastname: 'Later' } }, { transaction });
      inside = events.length;
    });
    expect(inside).to.equal(0);
    expect(events.map((e) => e.event)).to.deep.equal(['record.created']);
  });

  it('keeps internal comments from those who do not ask for them and names the authors', async function () {
    const ticket = await store.create('HelpDesk', { values: { ticket_title: 'Comments', status: 'Open', contact_id: contactId } });
    const userId = await insertUser(fx.db, { userName: 'agent', firstName: 'Alice', lastName: 'Agent', roleId: null });
    const fromContact = await store.addComment('HelpDesk', ticket.id, { body: ' It still fails. ', internal: false }, { actor: { kind: 'contact', contactId } });
    const internal = await store.addComment('HelpDesk', ticket.id, { body: 'Customer is grumpy', internal: true }, { actor: { kind: 'user', userId } });
    const reply = await store.addComment('HelpDesk', ticket.id, { body: 'We are on it', internal: false }, { actor: { kind: 'user', userId } });
    expect(fromContact).to.deep.include({ body: 'It still fails.', internal: false, authorName: 'Jane Doe', author: { kind: 'contact', contactId } });
    expect(internal).to.deep.include({ internal: true, authorName: 'Alice Agent', author: { kind: 'user', userId } });

    expect((await store.comments('HelpDesk', ticket.id)).map((c) => c.id)).to.deep.equal([fromContact.id, reply.id]);
    expect(await store.commentCount('HelpDesk', ticket.id)).to.equal(2);
    expect((await store.comments('HelpDesk', ticket.id, { includeInternal: true })).map((c) => c.id)).to.deep.equal([fromContact.id, internal.id, reply.id]);
    expect(await store.commentCount('HelpDesk', ticket.id, { includeInternal: true })).to.equal(3);
    expect(events.filter((e) => e.event === 'comment.added').map((e) => (e.payload as RecordEvents['comment.added']).comment)).to.deep.equal([fromContact, internal, reply]);

    const refused = [
      store.addComment('HelpDesk', ticket.id, { body: '  ', internal: false }, { actor: { kind: 'system' } }),
      store.addComment('HelpDesk', ticket.id, { body: 'Secret', internal: true }, { actor: { kind: 'contact', contactId } }),
    ];
    for (const attempt of refused) expect(await rejection(attempt)).to.be.instanceOf(InvalidRecordError);
    expect(await rejection(store.addComment('HelpDesk', 999_999, { body: 'Lost', internal: false }, { actor: { kind: 'system' } }))).to.be.instanceOf(RecordNotFoundError);
  });

  it('attaches documents under a generated name and opens them again', async function () {
    const ticket = await store.create('HelpDesk', { values: { ticket_title: 'With files', status: 'Open' } });
    const attached = await store.attachDocument('HelpDesk', ticket.id, {
      title: 'Screenshot',
      fileName: '../../evil\u0007.html',
      mimeType: 'text/plain',
      content: Readable.from([Buffer.from('hello '), Buffer.from('world')]),
    });
    expect(attached).to.deep.include({ title: 'Screenshot', fileName: 'evil.html', mimeType: 'text/plain', size: 11 });
    const stored = readdirSync(filesDir);
    expect(stored).to.have.length(1);
    expect(stored[0]).to.match(/^[a-f0-9]{32}$/);
    expect(await store.documents('HelpDesk', ticket.id)).to.deep.equal([attached]);
    expect(await store.relatedIds('Documents~HelpDesk', 'HelpDesk', ticket.id)).to.deep.equal([attached.documentId]);
    const opened = (await store.openDocument(attached.documentId))!;
    expect(opened.file).to.deep.equal(attached);
    expect(await text(opened.stream)).to.equal('hello world');
    // The storage key never leaves the store.
    expect((await store.get('Documents', attached.documentId))!.values).not.to.have.property('storage_key');
    expect(await store.openDocument(999_999)).to.equal(null);

    // Deleting the ticket unlinks the document; deleting the document removes its file.
    await store.delete('HelpDesk', ticket.id);
    expect(await store.relatedIds('Documents~HelpDesk', 'Documents', attached.documentId)).to.deep.equal([]);
    await store.delete('Documents', attached.documentId);
    expect(readdirSync(filesDir)).to.deep.equal([]);
  });

  it('leaves no file and no row when attaching fails or is rolled back', async function () {
    const account = await store.create('Accounts', { values: { accountname: 'Files Ltd' } });
    const documentsBefore = await store.count('Documents');
    await rolledBack((transaction) =>
      store.attachDocument('Accounts', account.id, { title: 'Rolled back', fileName: 'a.txt', mimeType: 'text/plain', content: Buffer.from('data') }, { transaction }),
    );
    expect(readdirSync(filesDir), 'files after the rolled-back attach').to.deep.equal([]);
    const broken = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('connection reset'));
      },
    });
    expect((await rejection(store.attachDocument('Accounts', account.id, { title: 'Broken', fileName: 'b.txt', mimeType: 'text/plain', content: broken }))).message).to.equal(
      'connection reset',
    );
    expect(readdirSync(filesDir), 'files after the broken upload').to.deep.equal([]);
    expect(await rejection(store.attachDocument('Accounts', 999_999, { title: 'Orphan', fileName: 'c.txt', mimeType: 'text/plain', content: Buffer.from('x') }))).to.be.instanceOf(
      RecordNotFoundError,
    );
    expect(readdirSync(filesDir), 'files after the attach to a missing record').to.deep.equal([]);
    expect(await rejection(store.attachDocument('Accounts', account.id, { title: ' ', fileName: 'd.txt', mimeType: 'text/plain', content: Buffer.from('x') }))).to.be.instanceOf(
      InvalidRecordError,
    );
    expect(readdirSync(filesDir)).to.deep.equal([]);
    expect(await store.count('Documents')).to.equal(documentsBefore);
    expect(await store.documents('Accounts', account.id)).to.deep.equal([]);
    expect(events.filter((e) => e.event === 'record.created').map((e) => (e.payload as RecordEvents['record.created']).record.module)).to.deep.equal(['Accounts']);
  });

  it('leaves no file behind a source that fails before the file is even open, however often, and never removes one it did not create', async function () {
    // The write's pipeline fails as soon as its source does, which can be before the file's open
    // (on the thread pool) has created it: the file was then created after its removal, about one
    // broken upload in 500. Not a database test: the bytes' folder alone. Its 1,000 writes (4,000
    // file operations on libuv's pool) take 2 s alone and passed 30 s once beside a loaded suite.
    this.timeout(120_000);
    const folder = mkdtempSync(join(tmpdir(), 'bp-files-'));
    try {
      const files = new DocumentFiles(folder);
      for (let i = 0; i < 1000; i += 1) {
        const broken = new Readable({
          read() {
            this.push(Buffer.from('partial'));
            this.destroy(new Error('connection reset'));
          },
        });
        expect((await rejection(files.write(files.newKey(), broken))).message).to.equal('connection reset');
      }
      expect(readdirSync(folder), 'files after 1000 broken writes').to.deep.equal([]);
      // A write refused its file (the key taken) leaves the file there as it was.
      const key = files.newKey();
      await files.write(key, Buffer.from('first'));
      expect((await rejection(files.write(key, Buffer.from('second')))) as NodeJS.ErrnoException).to.have.property('code', 'EEXIST');
      expect(readFileSync(join(folder, key), 'utf8')).to.equal('first');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('removes links and comments of a deleted record and empties the references to it', async function () {
    const account = await store.create('Accounts', { values: { accountname: 'Short-lived' } });
    const contact = await store.create('Contacts', { values: { lastname: 'Orphan', account_id: account.id } });
    const document = await store.create('Documents', { values: { title: 'Terms' } });
    await store.link('Documents~Accounts', document.id, account.id);
    await store.addComment('Accounts', account.id, { body: 'Note', internal: true }, { actor: { kind: 'system' } });
    await store.delete('Accounts', account.id);
    const after = (await store.get('Contacts', contact.id))!;
    expect(after.values.account_id).to.equal(null);
    expect(after.version).to.equal(2);
    expect(await store.relatedIds('Documents~Accounts', 'Documents', document.id)).to.deep.equal([]);
    expect(await store.commentCount('Accounts', account.id, { includeInternal: true })).to.equal(0);
    // A new record never inherits the deleted one's links or comments (ids are not reused).
    const next = await store.create('Accounts', { values: { accountname: 'Newcomer' } });
    expect(next.id).to.be.greaterThan(account.id);
  });

  it('numbers a record created without a number: next in its series, one each for concurrent creators, given back on a rollback', async function () {
    // The series starts after the highest number of its form already there; other forms do not count.
    for (const invoice_no of ['INV-41', 'INV-007', 'inv-900', 'INV-12a', 'INV-', 'XINV-500', `INV-${'9'.repeat(16)}`]) {
      await store.create('Invoice', { values: { subject: `Imported ${invoice_no}`, invoice_no } });
    }
    const numbered = await store.create('Invoice', { values: { subject: 'New' } });
    expect(numbered.values.invoice_no).to.equal('INV-42');
    expect((await store.get('Invoice', numbered.id))!.values.invoice_no).to.equal('INV-42');
    expect((await store.create('Invoice', { values: { subject: 'Blank', invoice_no: '  ' } })).values.invoice_no).to.equal('INV-43');
    // A number the creator gives is kept, and moves no series.
    expect((await store.create('Invoice', { values: { subject: 'Own', invoice_no: 'CUSTOM-1' } })).values.invoice_no).to.equal('CUSTOM-1');
    expect((await store.update('Invoice', numbered.id, { values: { subject: 'Renamed' } })).values.invoice_no).to.equal('INV-42');

    // Concurrent creators on a series nobody has used yet (its start is raced too): every number once, none skipped.
    const orders = await Promise.all(Array.from({ length: 8 }, (_, i) => store.create('SalesOrder', { values: { subject: `Order ${i}` } })));
    expect(orders.map((o) => o.values.salesorder_no).sort((a, b) => Number(String(a).slice(3)) - Number(String(b).slice(3)))).to.deep.equal(
      Array.from({ length: 8 }, (_, i) => `SO-${i + 1}`),
    );

    // A create that rolls back gives its number back; a failed create takes none.
    const first = await store.create('Quotes', { values: { subject: 'First' } });
    expect(first.values.quote_no).to.equal('QUO-1');
    await rolledBack(async (transaction) => {
      expect((await store.create('Quotes', { values: { subject: 'Ghost' } }, { transaction })).values.quote_no).to.equal('QUO-2');
    });
    expect(await rejection(store.create('Quotes', { values: { subject: 'Dangling', contact_id: 999_999 } }))).to.be.instanceOf(InvalidRecordError);
    expect((await store.create('Quotes', { values: { subject: 'Second' } })).values.quote_no).to.equal('QUO-2');
    // A module without a series is left alone.
    expect(Object.keys((await store.create('Faq', { values: { question: 'Numbered?' } })).values)).not.to.include('faq_no');
  });

  it('emits nothing and removes no file when the COMMIT of a caller\'s transaction fails', async function () {
    const refuseCommit = await commitRefuser(fx.db.sequelize);
    const account = await store.create('Accounts', { values: { accountname: 'Refused Ltd' } });
    const document = await store.attachDocument('Accounts', account.id, { title: 'Kept', fileName: 'kept.txt', mimeType: 'text/plain', content: Buffer.from('kept') });
    const files = readdirSync(filesDir);
    const contacts = await store.count('Contacts');
    events.length = 0;
    await rejection(
      fx.db.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, async (transaction) => {
        await store.create('Contacts', { values: { lastname: 'Never' } }, { transaction });
        await store.update('Contacts', contactId, { values: { firstname: 'Never' } }, { transaction });
        await store.addComment('Contacts', contactId, { body: 'Never said', internal: false }, { transaction, actor: { kind: 'system' } });
        await store.delete('Documents', document.documentId, { transaction });
        await refuseCommit(transaction);
      }),
    );
    expect(events, 'events of writes that did not land').to.deep.equal([]);
    expect(await store.count('Contacts')).to.equal(contacts);
    expect((await store.get('Contacts', contactId))!.values.firstname).to.equal('Jane');
    expect(readdirSync(filesDir), 'the file of the document still there').to.deep.equal(files);
    expect(await text((await store.openDocument(document.documentId))!.stream)).to.equal('kept');
    // The store goes on writing, and emitting.
    await store.delete('Accounts', account.id);
    await store.delete('Documents', document.documentId);
    expect(events.map((e) => e.event)).to.deep.equal(['record.deleted', 'record.deleted']);
  });

  it('leaves no file of a document attached in a transaction whose COMMIT fails, or in a savepoint its transaction rolls back', async function () {
    const refuseCommit = await commitRefuser(fx.db.sequelize);
    const account = await store.create('Accounts', { values: { accountname: 'Orphans Ltd' } });
    const files = readdirSync(filesDir);
    const attach = (transaction: Transaction, title: string) =>
      store.attachDocument('Accounts', account.id, { title, fileName: 'a.txt', mimeType: 'text/plain', content: Buffer.from(title) }, { transaction });
    await rejection(
      fx.db.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, async (transaction) => {
        await attach(transaction, 'Refused');
        await refuseCommit(transaction);
      }),
    );
    expect(readdirSync(filesDir), 'files after the refused COMMIT').to.deep.equal(files);
    await rolledBack((transaction) => fx.db.sequelize.transaction({ transaction }, (savepoint) => attach(savepoint, 'Released, then rolled back')));
    expect(readdirSync(filesDir), 'files after the outer rollback').to.deep.equal(files);
    expect(await store.documents('Accounts', account.id)).to.deep.equal([]);
    await store.delete('Accounts', account.id);
  });

  it('emits the events of a savepoint after the outer commit, and none of a savepoint rolled back', async function () {
    const emittedInside: number[] = [];
    await fx.db.sequelize.transaction({ type: Transaction.TYPES.IMMEDIATE }, async (outer) => {
      await fx.db.sequelize.transaction({ transaction: outer }, (savepoint) => store.create('Contacts', { values: { lastname: 'Saved' } }, { transaction: savepoint }));
      emittedInside.push(events.length);
      const undone = new Error('undo the savepoint');
      const error = await rejection(
        fx.db.sequelize.transaction({ transaction: outer }, async (savepoint) => {
          await store.create('Contacts', { values: { lastname: 'Undone' } }, { transaction: savepoint });
          throw undone;
        }),
      );
      expect(error).to.equal(undone);
      emittedInside.push(events.length);
    });
    expect(emittedInside, 'nothing before the outer commit').to.deep.equal([0, 0]);
    expect(events.map((e) => (e.payload as RecordEvents['record.created']).record.values.lastname)).to.deep.equal(['Saved']);
  });

  it('logged no error', function () {
    expect(fx.logger.entries.filter((e) => e.level === 'error')).to.deep.equal([]);
  });
});
