/**
 * Issue 6 end to end: a custom module becomes portal-eligible when it gains a relation to
 * Contacts or Accounts, and stops being eligible when it loses it — live, without a restart,
 * through the registry's events — while the privileges stored for it are kept but inert.
 * Two host processes on one database agree (each picks the change up from the registry).
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { FieldDefinition, HostApi, ModuleDefinition } from '../../plugin/host-contract/index.js';
import type { ModulePrivileges } from '../../plugin/profiles/profile-document.js';
import { adminActor, profileIdByName, profileService } from '../profiles/profile-test-kit.js';
import { startSecondHost, startTestHost, type TestHost } from '../support/host.js';

const LICENCES: ModuleDefinition = {
  name: 'Licences',
  label: { en: 'Licences', it: 'Licenze' },
  singularLabel: { en: 'Licence', it: 'Licenza' },
  custom: true,
  labelField: 'licence_no',
  fields: [
    { name: 'licence_no', label: { en: 'Number', it: 'Numero' }, type: 'text', mandatory: true },
    { name: 'product', label: { en: 'Product', it: 'Prodotto' }, type: 'text', mandatory: false },
  ],
};

const contactRef: FieldDefinition = { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] };

async function signIn(url: string, email: string): Promise<string> {
  const response = await fetch(`${url}/portal/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'Portal-demo-1' }),
  });
  expect(response.status, `login of ${email}`).to.equal(200);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('bp_session='));
  return cookie!.split(';')[0]!;
}

async function portalModules(url: string, cookie: string): Promise<string[]> {
  const response = await fetch(`${url}/portal/api/v1/modules`, { headers: { cookie } });
  expect(response.status).to.equal(200);
  const body = (await response.json()) as { modules: { name: string }[]; buttons: { module: string }[] };
  return body.modules.map((m) => m.name);
}

async function homeButtons(url: string, cookie: string): Promise<string[]> {
  const response = await fetch(`${url}/portal/api/v1/modules`, { headers: { cookie } });
  const body = (await response.json()) as { buttons: { module: string }[] };
  return body.buttons.map((b) => b.module);
}

async function licenceNumbers(url: string, cookie: string): Promise<{ status: number; numbers: string[] }> {
  const response = await fetch(`${url}/portal/api/v1/modules/Licences/records?sort=licence_no&direction=asc`, { headers: { cookie } });
  if (response.status !== 200) return { status: response.status, numbers: [] };
  const body = (await response.json()) as { rows: { values: { licence_no: string } }[] };
  return { status: 200, numbers: body.rows.map((r) => r.values.licence_no) };
}

async function contactId(api: HostApi, email: string): Promise<{ id: number; accountId: number }> {
  const page = await api.records.query('Contacts', { where: { field: 'email', op: 'eq', value: email }, limit: 1 });
  const contact = page.rows[0]!;
  return { id: contact.id, accountId: contact.values.account_id as number };
}

describe('custom modules: live portal eligibility @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let api: HostApi;
  let defaultId: number;
  let jane: { id: number; accountId: number };
  let mario: { id: number; accountId: number };
  let janeCookie: string;

  const licenceEntry = async (): Promise<ModulePrivileges | undefined> => (await profileService(api).document(defaultId)).modules.find((m) => m.module === 'Licences');

  const enable = async (scope: ModulePrivileges['scope']) => {
    const service = profileService(api);
    const document = await service.document(defaultId);
    const modules = document.modules.map((entry) =>
      entry.module === 'Licences' ? { ...entry, shown: true, view: true, scope, listColumns: ['licence_no', 'product'], tools: { ...entry.tools, search: true } } : entry,
    );
    let saved = await service.saveSection(defaultId, 'modules', modules, document.profile.version, await adminActor(api));
    saved = await service.saveSection(
      defaultId,
      'buttons',
      [...saved.document.buttons, { title: 'Licences', description: '', colour: 'info', icon: 'list', action: 'list', module: 'Licences' }],
      saved.document.profile.version,
      await adminActor(api),
    );
  };

  before(async function () {
    t = await startTestHost({ demo: true, watchRegistryMs: 0 });
    api = t.host.api;
    defaultId = (await profileIdByName(api, 'Default'))!;
    jane = await contactId(api, 'jane.doe@example.com');
    mario = await contactId(api, 'mario.rossi@example.com');
    janeCookie = await signIn(t.url, 'jane.doe@example.com');
  });

  after(async () => t?.stop());

  it('a module with no relation is in no profile and not on the portal', async () => {
    await api.modules.registerModule(LICENCES);
    expect(await licenceEntry()).to.equal(undefined);
    expect(await portalModules(t.url, janeCookie)).not.to.include('Licences');
    expect((await licenceNumbers(t.url, janeCookie)).status).to.equal(404);
  });

  it('gaining a reference to Contacts makes it appear in every profile, off by default', async () => {
    await api.modules.addField('Licences', contactRef);
    const entry = await licenceEntry();
    expect(entry).to.include({ shown: false, view: false, create: false });
    expect(await portalModules(t.url, janeCookie)).not.to.include('Licences');
  });

  it('enabled in a profile, a customer sees only their own records', async () => {
    await api.records.create('Licences', { values: { licence_no: 'W-1', product: 'Jane one', contact_id: jane.id } });
    await api.records.create('Licences', { values: { licence_no: 'W-2', product: 'Jane two', contact_id: jane.id } });
    await api.records.create('Licences', { values: { licence_no: 'W-3', product: 'Mario', contact_id: mario.id } });
    await enable('contact');
    expect(await portalModules(t.url, janeCookie)).to.include('Licences');
    expect(await homeButtons(t.url, janeCookie)).to.include('Licences');
    expect(await licenceNumbers(t.url, janeCookie)).to.deep.equal({ status: 200, numbers: ['W-1', 'W-2'] });
    const marioCookie = await signIn(t.url, 'mario.rossi@example.com');
    expect((await licenceNumbers(t.url, marioCookie)).numbers).to.deep.equal(['W-3']);
  });

  it('losing the relation removes it from the portal at once; its privileges are kept and apply again when it returns', async () => {
    await api.modules.removeRelation('Licences.contact_id');
    expect(await portalModules(t.url, janeCookie)).not.to.include('Licences');
    expect(await homeButtons(t.url, janeCookie)).not.to.include('Licences');
    expect((await licenceNumbers(t.url, janeCookie)).status).to.equal(404);
    expect(await licenceEntry()).to.equal(undefined);
    const kept = await api.database.sequelize.query("SELECT shown FROM bp_profile_modules WHERE module = 'Licences'", { type: QueryTypes.SELECT });
    expect(kept, 'stored privileges kept').to.have.length(1);

    await api.modules.addField('Licences', contactRef);
    // The records' contact column came back empty with the field: set it again, as a host developer would.
    const all = await api.records.query('Licences', { sort: [{ field: 'licence_no', direction: 'asc' }] });
    for (const record of all.rows) await api.records.update('Licences', record.id, { values: { contact_id: record.values.product === 'Mario' ? mario.id : jane.id } });
    expect(await licenceEntry()).to.include({ shown: true, view: true, scope: 'contact' });
    expect(await licenceNumbers(t.url, janeCookie)).to.deep.equal({ status: 200, numbers: ['W-1', 'W-2'] });
  });

  it('follows a related list to Accounts (account scope), and a reference declared from the other side', async () => {
    await api.modules.removeRelation('Licences.contact_id');
    await api.modules.addRelation({ id: 'Licences~Accounts', kind: 'related-list', module: 'Licences', relatedModule: 'Accounts' });
    expect(await licenceEntry()).to.include({ shown: true });
    const [w1, , w3] = (await api.records.query('Licences', { sort: [{ field: 'licence_no', direction: 'asc' }] })).rows;
    await api.records.link('Licences~Accounts', w1!.id, jane.accountId);
    await api.records.link('Licences~Accounts', w3!.id, mario.accountId);
    // Contact scope on a module related to Accounts only: the contact's own account.
    expect((await licenceNumbers(t.url, janeCookie)).numbers).to.deep.equal(['W-1']);

    await api.modules.removeRelation('Licences~Accounts');
    expect((await licenceNumbers(t.url, janeCookie)).status).to.equal(404);
    await api.modules.addField('Contacts', { name: 'licence_id', label: { en: 'Licence' }, type: 'reference', mandatory: false, referenceModules: ['Licences'] });
    await api.records.update('Contacts', jane.id, { values: { licence_id: w3!.id } });
    expect(await licenceEntry()).to.include({ shown: true });
    expect((await licenceNumbers(t.url, janeCookie)).numbers).to.deep.equal(['W-3']);
  });

  it('a second host process on the same database agrees once its registry has synced', async () => {
    const second = await startSecondHost(t, { watchRegistryMs: 0 });
    try {
      await second.host.registry.sync();
      const cookie = await signIn(second.url, 'jane.doe@example.com');
      expect(await portalModules(second.url, cookie)).to.include('Licences');
      await api.modules.removeField('Contacts', 'licence_id');
      expect(await portalModules(t.url, janeCookie)).not.to.include('Licences');
      await second.host.registry.sync();
      expect(await portalModules(second.url, cookie)).not.to.include('Licences');
      expect((await licenceNumbers(second.url, cookie)).status).to.equal(404);
    } finally {
      await second.stop();
    }
  });
});
