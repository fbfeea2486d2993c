/**
 * A reference field that may point at several modules (`party_id` → Contacts or Accounts) holds
 * a bare id: the contract does not say of which module, and the reference host numbers each
 * module's records on their own, so Mario's contact id is also another company's account id.
 * Such a field ties no record to a customer: the portal neither finds records through it nor
 * fills it in on a new record. For the same reason it makes no module eligible: a module related
 * to Contacts / Accounts through such fields only is offered by no profile, and the settings page
 * says why. With an unambiguous relation too, the module is eligible and its records reach
 * customers through that relation only; losing that relation is losing eligibility (privileges
 * kept, inert), as with any other relation.
 */
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import type { HostApi, ModuleDefinition } from '../../plugin/host-contract/index.js';
import { ProfileValidationError } from '../../plugin/profiles/profile-errors.js';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import { adminClient, type AdminClient } from '../profiles/profile-test-kit.js';
import { changeModule, defaultProfile, idsWhere, MARIO, signedIn, startApiHost, type ApiClient } from '../portal-api/api-test-kit.js';
import type { TestHost } from '../support/host.js';

const CLAIMS: ModuleDefinition = {
  name: 'Claims',
  label: { en: 'Claims', it: 'Reclami' },
  singularLabel: { en: 'Claim', it: 'Reclamo' },
  custom: true,
  labelField: 'claim_no',
  fields: [
    { name: 'claim_no', label: { en: 'Number', it: 'Numero' }, type: 'text', mandatory: true },
    { name: 'party_id', label: { en: 'Party', it: 'Parte' }, type: 'reference', mandatory: false, referenceModules: ['Contacts', 'Accounts'] },
  ],
};

const REASON_EN = 'Related to Contacts or Accounts only through a reference field that may point at several modules';
const REASON_IT = 'Collegato a Contatti o Aziende solo tramite un campo di riferimento che può puntare a più moduli';

/** The rows of the settings home's not-eligible table: module name → the row's markup. */
function notEligibleRows(page: string): Map<string, string> {
  const table = /<table class="bp-not-eligible[^"]*">([\s\S]*?)<\/table>/.exec(page)?.[1] ?? '';
  return new Map([...table.matchAll(/<tr data-not-eligible="([A-Za-z0-9_]+)">([\s\S]*?)<\/tr>/g)].map((m) => [m[1]!, m[2]!]));
}

describe('custom modules: a reference to several modules is no path to a customer @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let api: HostApi;
  let admin: AdminClient;
  let mario: ApiClient;
  let marioId: number;
  let marioAccountId: number;

  const claimNumbers = async (scope: 'contact' | 'account'): Promise<string[]> => {
    await changeModule(api, 'Claims', (entry) => ({ ...entry, shown: true, view: true, create: true, scope }));
    const answer = await mario.get('/modules/Claims/records?sort=claim_no&direction=asc');
    expect(answer.status).to.equal(200);
    return (answer.body as { rows: { values: { claim_no: string } }[] }).rows.map((row) => row.values.claim_no);
  };
  const claimsEntry = async () => (await defaultProfile(api)).document.modules.find((m) => m.module === 'Claims');
  const home = async () => (await admin.get('/settings/business-portal/')).text();
  const portalModules = async () => ((await mario.get('/modules')).body as { modules: { name: string }[] }).modules.map((m) => m.name);

  before(async () => {
    t = await startApiHost();
    api = t.host.api;
    admin = await adminClient(t, 'admin', DEMO_ADMIN_PASSWORD);
    mario = await signedIn(t, MARIO);
    [marioId] = await idsWhere(api, 'Contacts', 'email', MARIO);
    marioAccountId = (await api.records.get('Contacts', marioId!))!.values.account_id as number;
    await api.modules.registerModule(CLAIMS);
    // Another company's claim: its party is the account that has Mario's contact id, and the one
    // of the contact that has Mario's account id.
    expect(await api.records.get('Accounts', marioId), 'an account numbered as Mario').not.to.equal(null);
    expect((await api.records.get('Contacts', marioAccountId))!.values.account_id).not.to.equal(marioAccountId);
    await api.records.create('Claims', { values: { claim_no: 'C-1 account', party_id: marioId } });
    await api.records.create('Claims', { values: { claim_no: 'C-2 contact', party_id: marioAccountId } });
  });

  after(async () => t?.stop());

  it('makes no module eligible: no profile offers it, and the settings page says why', async () => {
    expect(await claimsEntry()).to.equal(undefined);
    const profile = await defaultProfile(api);
    const tickets = profile.document.modules.find((m) => m.module === 'HelpDesk')!;
    const refused = await profile.save('modules', [...profile.document.modules, { ...tickets, module: 'Claims', shown: true, view: true }]).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(ProfileValidationError);
    expect((refused as ProfileValidationError).problems.map((p) => p.messageKey)).to.include('profiles.validation.moduleNotEligible');
    expect(await portalModules()).not.to.include('Claims');
    expect((await mario.get('/modules/Claims/records')).status).to.equal(404);

    const row = notEligibleRows(await home()).get('Claims');
    expect(row, 'Claims is listed as not eligible').to.be.a('string');
    expect(row).to.include(REASON_EN);
    expect(row).not.to.include('No relation to Contacts or Accounts');
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      expect(notEligibleRows(await home()).get('Claims')).to.include(REASON_IT);
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('with a relation that names one module too, it is eligible and shows no record through the shared field', async () => {
    await api.modules.addRelation({ id: 'Claims~Contacts', kind: 'related-list', module: 'Claims', relatedModule: 'Contacts' });
    expect(await claimsEntry()).to.include({ shown: false, view: false });
    expect(notEligibleRows(await home()).has('Claims')).to.equal(false);
    expect(await claimNumbers('contact')).to.deep.equal([]);
    expect(await claimNumbers('account')).to.deep.equal([]);
    const [other] = await idsWhere(api, 'Claims', 'claim_no', 'C-1 account');
    expect((await mario.get(`/modules/Claims/records/${other}`)).status).to.equal(404);
  });

  it('a new record is not tied to the customer through the shared field', async () => {
    const created = await mario.send('POST', '/modules/Claims/records', { values: { claim_no: 'C-3 new' } });
    expect(created.status, created.text).to.equal(201);
    const [id] = await idsWhere(api, 'Claims', 'claim_no', 'C-3 new');
    expect((await api.records.get('Claims', id!))!.values.party_id ?? null).to.equal(null);
  });

  it('the relation that names one module is a path', async () => {
    const [mine] = await idsWhere(api, 'Claims', 'claim_no', 'C-2 contact');
    await api.records.link('Claims~Contacts', mine!, marioId);
    expect(await claimNumbers('contact')).to.deep.equal(['C-2 contact', 'C-3 new']);
  });

  it('losing that relation, leaving the shared field only, is losing eligibility: privileges kept, inert', async () => {
    expect(await portalModules()).to.include('Claims');
    await api.modules.removeRelation('Claims~Contacts');
    expect(await portalModules()).not.to.include('Claims');
    expect((await mario.get('/modules/Claims/records')).status).to.equal(404);
    expect(await claimsEntry()).to.equal(undefined);
    const kept = await api.database.sequelize.query("SELECT shown FROM bp_profile_modules WHERE module = 'Claims'", { type: QueryTypes.SELECT });
    expect(kept, 'stored privileges kept').to.have.length(1);
    expect(notEligibleRows(await home()).get('Claims')).to.include(REASON_EN);

    await api.modules.addRelation({ id: 'Claims~Contacts', kind: 'related-list', module: 'Claims', relatedModule: 'Contacts' });
    expect(await claimsEntry()).to.include({ shown: true, view: true, scope: 'contact' });
    expect(await portalModules()).to.include('Claims');
  });

  it('a reference field to Contacts that gains Accounts as a second target stops being a path', async () => {
    await api.modules.removeRelation('Claims~Contacts');
    await api.modules.addField('Claims', { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] });
    expect(await portalModules()).to.include('Claims');
    await api.modules.addRelation({ id: 'Claims.contact_id:Accounts', kind: 'reference', module: 'Claims', relatedModule: 'Accounts', field: 'contact_id' });
    expect(await portalModules()).not.to.include('Claims');
    expect(notEligibleRows(await home()).get('Claims')).to.include(REASON_EN);
  });
});
