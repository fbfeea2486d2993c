/**
 * What conditional rules and the portal login protect, attacked through the API: a colleague's
 * login email, "OK, resolved" past a read-only rule, values a rule hides found again by filtering,
 * sorting or a reference's label, and a new record escaping a rule on the values the server fills.
 */
import { expect } from 'chai';
import type { ConditionalRule } from '../../plugin/profiles/profile-document.js';
import type { TestHost } from '../support/host.js';
import { JANE, TOM, apiClient, changeModule, defaultProfile, idsWhere, portalLogin, signedIn, startApiHost, type ApiClient } from './api-test-kit.js';

const rule = (module: string, conditions: ConditionalRule['conditions'], effects: ConditionalRule['effects'], allReadOnly = false): ConditionalRule => ({
  name: `${module} ${JSON.stringify(conditions)}`,
  module,
  origin: { kind: 'portal' },
  conditions,
  effects,
  allReadOnly,
});

describe('portal API: rules and the login email hold against a customer @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let janeId: number;
  let tomId: number;
  let acme: number;

  const setRules = async (...rules: ConditionalRule[]) => {
    const profile = await defaultProfile(t.host.api);
    await profile.save('rules', rules);
  };
  const ticket = async (values: Record<string, unknown>) =>
    (await t.host.api.records.create('HelpDesk', { values: { ticket_title: 'A ticket', status: 'Open', priority: 'Normal', contact_id: janeId, account_id: acme, ...values } })).id;

  before(async () => {
    t = await startApiHost();
    const api = t.host.api;
    janeId = (await idsWhere(api, 'Contacts', 'email', JANE))[0]!;
    tomId = (await idsWhere(api, 'Contacts', 'email', TOM))[0]!;
    acme = (await idsWhere(api, 'Accounts', 'accountname', 'Acme Ltd'))[0]!;
    await changeModule(api, 'Contacts', (entry) => ({ ...entry, shown: true, view: true, edit: true, scope: 'account', fields: { ...entry.fields, email: 'readwrite', phone: 'readwrite' } }));
    await changeModule(api, 'Accounts', (entry) => ({ ...entry, shown: true, view: true, fields: { ...entry.fields, accountname: 'readwrite' } }));
    await changeModule(api, 'HelpDesk', (entry) => ({
      ...entry,
      shown: true,
      view: true,
      create: true,
      edit: true,
      scope: 'account',
      fields: { ...entry.fields, status: 'readonly', priority: 'readwrite', description: 'readwrite', solution: 'readonly' },
      listColumns: ['ticket_no', 'ticket_title', 'status', 'description'],
      tools: { ...entry.tools, search: true, export: true },
    }));
    jane = await signedIn(t, JANE);
  });

  afterEach(async () => setRules());
  after(async () => t?.stop());

  it('never lets a customer change a stored contact’s email, their own or a colleague’s, whatever the profile says', async () => {
    const tomsSession = await portalLogin(t, TOM);
    for (const id of [tomId, janeId]) {
      const record = await jane.get(`/modules/Contacts/records/${id}`);
      expect(record.status).to.equal(200);
      expect(record.body.fields.find((f: { name: string }) => f.name === 'email').access).to.equal('readonly');
      const changed = await jane.send('PATCH', `/modules/Contacts/records/${id}`, { values: { email: 'jane.inbox+takeover@example.com' } });
      expect(changed.status, changed.text).to.equal(422);
      expect(changed.body.error.problems).to.deep.include({ field: 'values.email', code: 'not-writable', message: 'This field cannot be changed.' });
    }
    expect((await t.host.api.records.get('Contacts', tomId))!.values.email).to.equal(TOM);
    expect((await t.host.api.records.get('Contacts', janeId))!.values.email).to.equal(JANE);
    // Tom is still signed in and can still sign in: nothing was re-issued.
    const tom = apiClient(t, tomsSession);
    expect((await tom.get('/me')).status).to.equal(200);
    expect(await portalLogin(t, TOM)).to.be.a('string');
    // The other fields of a contact stay as the profile says.
    const phone = await jane.send('PATCH', `/modules/Contacts/records/${tomId}`, { values: { phone: '+44 20 7946 0123' } });
    expect(phone.status, phone.text).to.equal(200);
  });

  it('refuses "OK, resolved" where a rule makes the ticket or its status read-only, or the status is hidden', async () => {
    const urgent = await ticket({ ticket_title: 'Frozen', priority: 'High' });
    await setRules(rule('HelpDesk', [{ field: 'priority', op: 'eq', value: 'High' }], [], true));
    const view = await jane.get(`/modules/HelpDesk/records/${urgent}`);
    expect(view.body.resolvable).to.equal(false);
    const refused = await jane.send('POST', `/tickets/${urgent}/resolve`, {});
    expect(refused.status, refused.text).to.equal(403);
    expect((await t.host.api.records.get('HelpDesk', urgent))!.values.status).to.equal('Open');

    await setRules(rule('HelpDesk', [{ field: 'priority', op: 'eq', value: 'High' }], [{ field: 'status', effect: 'hidden' }]));
    expect((await jane.send('POST', `/tickets/${urgent}/resolve`, {})).status).to.equal(403);
    await setRules(rule('HelpDesk', [{ field: 'priority', op: 'eq', value: 'High' }], [{ field: 'status', effect: 'readonly' }]));
    expect((await jane.send('POST', `/tickets/${urgent}/resolve`, {})).status).to.equal(403);
    expect((await t.host.api.records.get('HelpDesk', urgent))!.values.status).to.equal('Open');

    // Without the rules the same ticket may be closed; then a profile without Edit on tickets may not close one.
    await setRules();
    expect((await jane.get(`/modules/HelpDesk/records/${urgent}`)).body.resolvable).to.equal(true);
    const other = await ticket({ ticket_title: 'Edit is off' });
    await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, edit: false }));
    try {
      expect((await jane.send('POST', `/tickets/${other}/resolve`, {})).status).to.equal(403);
      expect((await t.host.api.records.get('HelpDesk', other))!.values.status).to.equal('Open');
    } finally {
      await changeModule(t.host.api, 'HelpDesk', (entry) => ({ ...entry, edit: true }));
    }
    const closed = await jane.send('POST', `/tickets/${urgent}/resolve`, {});
    expect(closed.status, closed.text).to.equal(200);
    expect(closed.body.resolved).to.equal(true);
  });

  it('does not filter, sort or search by a field some rule hides: which rows match would tell its value', async () => {
    const secret = 'zq-hidden-sensor-9';
    await ticket({ ticket_title: 'Closed one', status: 'Closed', description: secret, solution: secret });
    await setRules(rule('HelpDesk', [{ field: 'status', op: 'eq', value: 'Closed' }], [
      { field: 'description', effect: 'hidden' },
      { field: 'solution', effect: 'hidden' },
    ]));
    const unknown = await jane.get('/modules/HelpDesk/records?filter[nosuchfield]=x');
    for (const query of [`filter[description]=${secret}`, `filter[description]=nothing`, `filter[solution]=${secret}`, 'sort=solution', 'sort=description&direction=asc']) {
      const res = await jane.get(`/modules/HelpDesk/records?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.body.error.problems[0].code, query).to.equal('unknown-field');
      expect(res.body.error.message).to.equal(unknown.body.error.message);
      expect((await jane.get(`/modules/HelpDesk/export.csv?${query}`)).status, query).to.equal(400);
    }
    // The general search leaves the rule-hidden column out; the list says what it may be filtered by.
    const searched = await jane.get(`/modules/HelpDesk/records?search=${secret}`);
    expect(searched.status).to.equal(200);
    expect(searched.body.total).to.equal(0);
    expect(searched.body.searchable).to.include('ticket_title').and.not.include('description');
    // Without the rule the column is searchable again.
    await setRules();
    const found = await jane.get(`/modules/HelpDesk/records?filter[description]=${secret}`);
    expect(found.status).to.equal(200);
    expect(found.body.total).to.equal(1);
  });

  it('labels a reference by its target’s label field only where the target’s rules leave it visible', async () => {
    const id = await ticket({ ticket_title: 'Points at Acme' });
    await t.host.api.records.update('Accounts', acme, { values: { status: 'Blocked' } });
    try {
      await setRules(rule('Accounts', [{ field: 'status', op: 'eq', value: 'Blocked' }], [{ field: 'accountname', effect: 'hidden' }]));
      expect((await jane.get(`/modules/Accounts/records/${acme}`)).body.label).to.equal(`#${acme}`);
      const record = await jane.get(`/modules/HelpDesk/records/${id}`);
      expect(record.body.references.account_id.label).to.equal(`#${acme}`);
      expect(JSON.stringify(record.body)).not.to.include('Acme Ltd');
      await setRules();
      expect((await jane.get(`/modules/HelpDesk/records/${id}`)).body.references.account_id.label).to.equal('Acme Ltd');
    } finally {
      await t.host.api.records.update('Accounts', acme, { values: { status: 'Active' } });
    }
  });

  it('names a contact “First Last”, leaving out a first name the profile or a rule hides', async () => {
    const id = await ticket({ ticket_title: 'Named by Jane' });
    const contactLabel = async () => (await jane.get(`/modules/HelpDesk/records/${id}`)).body.references.contact_id.label;
    expect(await contactLabel()).to.equal('Jane Doe');
    expect((await jane.get(`/modules/Contacts/records/${janeId}`)).body.label).to.equal('Jane Doe');
    const contacts = (await defaultProfile(t.host.api)).document.modules.find((entry) => entry.module === 'Contacts')!;
    try {
      await changeModule(t.host.api, 'Contacts', (entry) => ({ ...entry, fields: { ...entry.fields, firstname: 'hidden' } }));
      expect(await contactLabel()).to.equal('Doe');
      const list = await jane.get('/modules/HelpDesk/records?pageSize=100');
      expect(JSON.stringify(list.body)).not.to.include('Jane Doe');
      await changeModule(t.host.api, 'Contacts', () => contacts);
      await setRules(rule('Contacts', [{ field: 'lastname', op: 'eq', value: 'Doe' }], [{ field: 'firstname', effect: 'hidden' }]));
      expect(await contactLabel()).to.equal('Doe');
      expect((await jane.get(`/modules/Contacts/records/${janeId}`)).body.label).to.equal('Doe');
    } finally {
      await changeModule(t.host.api, 'Contacts', () => contacts);
    }
  });

  it('takes a blank text for no value in a field a rule makes mandatory, on create and on edit', async () => {
    await setRules(rule('HelpDesk', [{ field: 'priority', op: 'eq', value: 'Urgent' }], [{ field: 'description', effect: 'mandatory' }]));
    const before = await t.host.api.records.count('HelpDesk');
    for (const description of ['   ', ' \n\t ', '\u200B', ' \u2060\u200D\n']) {
      const refused = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Blank', priority: 'Urgent', description } });
      expect(refused.status, refused.text).to.equal(422);
      expect(refused.body.error.problems).to.deep.include({ field: 'values.description', code: 'required', message: 'This field is required.' });
    }
    expect(await t.host.api.records.count('HelpDesk')).to.equal(before);
    const id = await ticket({ ticket_title: 'Described', priority: 'Urgent', description: 'It hums' });
    for (const description of ['  \n ', '\u200B\u200C']) {
      const edited = await jane.send('PATCH', `/modules/HelpDesk/records/${id}`, { values: { description } });
      expect(edited.status, edited.text).to.equal(422);
      expect(edited.body.error.problems).to.deep.include({ field: 'values.description', code: 'required', message: 'This field is required.' });
    }
    expect((await t.host.api.records.get('HelpDesk', id))!.values.description).to.equal('It hums');
  });

  it('leaves inert a rule whose condition tests a field the CRM has since removed: the pages that read its fields still answer', async () => {
    const api = t.host.api;
    const id = await ticket({ ticket_title: 'Filed with a note' });
    const file = await jane.upload(`/modules/HelpDesk/records/${id}/documents`, { name: 'note.txt', content: 'a note', type: 'text/plain' });
    expect(file.status, file.text).to.equal(201);
    await api.modules.addField('Contacts', { name: 'vip', label: { en: 'VIP' }, type: 'boolean', mandatory: false });
    await api.modules.addField('Documents', { name: 'confidential', label: { en: 'Confidential' }, type: 'boolean', mandatory: false });
    try {
      await setRules(
        rule('Contacts', [{ field: 'vip', op: 'ne', value: true }], [{ field: 'firstname', effect: 'hidden' }]),
        rule('Documents', [{ field: 'confidential', op: 'ne', value: true }], [{ field: 'filename', effect: 'hidden' }]),
      );
      expect((await jane.get(`/modules/HelpDesk/records/${id}`)).body.references.contact_id.label).to.equal('Doe');
      expect((await jane.get(`/modules/HelpDesk/records/${id}/documents`)).body.documents[0]).not.to.have.property('fileName');
    } finally {
      await api.modules.removeField('Contacts', 'vip');
      await api.modules.removeField('Documents', 'confidential');
    }
    const record = await jane.get(`/modules/HelpDesk/records/${id}`);
    expect(record.status, record.text).to.equal(200);
    expect(record.body.references.contact_id.label).to.equal('Jane Doe');
    const list = await jane.get('/modules/HelpDesk/records?pageSize=100');
    expect(list.status, list.text).to.equal(200);
    expect((await jane.get('/modules/HelpDesk/export.csv')).status).to.equal(200);
    const documents = await jane.get(`/modules/HelpDesk/records/${id}/documents`);
    expect(documents.status, documents.text).to.equal(200);
    expect(documents.body.documents[0].fileName).to.equal('note.txt');
  });

  it('judges a new record’s rules on what it will hold, default status and links included', async () => {
    await setRules(rule('HelpDesk', [{ field: 'status', op: 'eq', value: 'Open' }], [{ field: 'priority', effect: 'readonly' }]));
    const fields = await jane.get('/modules/HelpDesk/fields');
    expect(fields.body.fields.find((f: { name: string }) => f.name === 'priority').access).to.equal('readonly');
    const before = await t.host.api.records.count('HelpDesk');
    const refused = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Sneaky', priority: 'Urgent' } });
    expect(refused.status, refused.text).to.equal(422);
    expect(refused.body.error.problems).to.deep.include({ field: 'values.priority', code: 'not-writable', message: 'This field cannot be changed.' });
    expect(await t.host.api.records.count('HelpDesk')).to.equal(before);
    const created = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Plain' } });
    expect(created.status, created.text).to.equal(201);

    // A rule on the link the server sets (the customer's account) holds on create as well.
    await setRules(rule('HelpDesk', [{ field: 'account_id', op: 'eq', value: acme }], [{ field: 'priority', effect: 'readonly' }]));
    const linked = await jane.send('POST', '/modules/HelpDesk/records', { values: { ticket_title: 'Sneaky again', priority: 'Urgent' } });
    expect(linked.status, linked.text).to.equal(422);
    expect(await t.host.api.records.count('HelpDesk')).to.equal(before + 1);
  });
});
