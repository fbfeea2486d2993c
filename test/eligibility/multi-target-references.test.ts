/**
 * A reference field that may point at several modules (`party_id` → Contacts or Accounts) holds
 * a bare id: the contract does not say of which module, and the reference host numbers each
 * module's records on their own, so Mario's contact id is also another company's account id.
 * Such a field ties no record to a customer: the portal neither finds records through it nor
 * fills it in on a new record. The module stays eligible (it has the relation); its records
 * reach customers through unambiguous relations only.
 */
import { expect } from 'chai';
import type { HostApi, ModuleDefinition } from '../../plugin/host-contract/index.js';
import { changeModule, idsWhere, MARIO, signedIn, startApiHost, type ApiClient } from '../portal-api/api-test-kit.js';
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

describe('custom modules: a reference to several modules is no path to a customer @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let api: HostApi;
  let mario: ApiClient;
  let marioId: number;
  let marioAccountId: number;

  const claimNumbers = async (scope: 'contact' | 'account'): Promise<string[]> => {
    await changeModule(api, 'Claims', (entry) => ({ ...entry, shown: true, view: true, create: true, scope }));
    const answer = await mario.get('/modules/Claims/records?sort=claim_no&direction=asc');
    expect(answer.status).to.equal(200);
    return (answer.body as { rows: { values: { claim_no: string } }[] }).rows.map((row) => row.values.claim_no);
  };

  before(async () => {
    t = await startApiHost();
    api = t.host.api;
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

  it('shows no record through it, in contact or account scope', async () => {
    expect(await claimNumbers('contact')).to.deep.equal([]);
    expect(await claimNumbers('account')).to.deep.equal([]);
    const [other] = await idsWhere(api, 'Claims', 'claim_no', 'C-1 account');
    expect((await mario.get(`/modules/Claims/records/${other}`)).status).to.equal(404);
  });

  it('a new record is not tied to the customer through it', async () => {
    const created = await mario.send('POST', '/modules/Claims/records', { values: { claim_no: 'C-3 new' } });
    expect(created.status, created.text).to.equal(201);
    const [id] = await idsWhere(api, 'Claims', 'claim_no', 'C-3 new');
    expect((await api.records.get('Claims', id!))!.values.party_id ?? null).to.equal(null);
  });

  it('a relation that names one module still is a path', async () => {
    await api.modules.addRelation({ id: 'Claims~Contacts', kind: 'related-list', module: 'Claims', relatedModule: 'Contacts' });
    const [mine] = await idsWhere(api, 'Claims', 'claim_no', 'C-2 contact');
    await api.records.link('Claims~Contacts', mine!, marioId);
    expect(await claimNumbers('contact')).to.deep.equal(['C-2 contact']);
  });
});
