/**
 * The settings home lists the host's modules that are not portal-eligible and why (SPEC 4), each
 * with a link to the host's module relations page (contract 1.1.0, `HostHttp.moduleRelationsUrl`).
 * The list follows the registry live: a module registered without a relation appears, gains a
 * relation to Contacts and disappears — no restart. Labels a host developer typed are escaped;
 * a host link that is not a local path or http(s) is not shown.
 */
import { expect } from 'chai';
import type { HostApi, ModuleDefinition } from '../../plugin/host-contract/index.js';
import { adminClient, type AdminClient } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { clerkClient, SETTINGS } from './settings-test-kit.js';

const CANARY = '<img src=x onerror="alert(1)">Boats';

const BOATS: ModuleDefinition = {
  name: 'Boats',
  label: { en: CANARY, it: 'Barche' },
  singularLabel: { en: 'Boat', it: 'Barca' },
  custom: true,
  labelField: 'boat_name',
  fields: [{ name: 'boat_name', label: { en: 'Name', it: 'Nome' }, type: 'text', mandatory: true }],
};

/** The rows of the not-eligible table: module name → the row's markup. */
function notEligibleRows(page: string): Map<string, string> {
  const table = /<table class="bp-not-eligible[^"]*">([\s\S]*?)<\/table>/.exec(page)?.[1] ?? '';
  return new Map([...table.matchAll(/<tr data-not-eligible="([A-Za-z0-9_]+)">([\s\S]*?)<\/tr>/g)].map((m) => [m[1]!, m[2]!]));
}

describe('settings: modules that are not portal-eligible @db', () => {
  let test: TestHost;
  let api: HostApi;
  let admin: AdminClient;

  before(async () => {
    test = await startTestHost();
    api = test.host.api;
    admin = await adminClient(test);
  });
  after(async () => {
    await test?.stop();
  });

  const home = async () => (await admin.get(`${SETTINGS}/`)).text();

  it('lists a module registered without a relation, with the reason and a link to its relations, escaped', async () => {
    expect(notEligibleRows(await home()).has('Boats')).to.equal(false);
    await api.modules.registerModule(BOATS);
    const page = await home();
    const row = notEligibleRows(page).get('Boats');
    expect(row, 'Boats is listed').to.be.a('string');
    expect(row).to.include('No relation to Contacts or Accounts');
    expect(row).to.include('href="/settings/modules/Boats"');
    // Handlebars escapes `<`, `>`, quotes and `=`.
    expect(row).to.include('&lt;img src&#x3D;x onerror&#x3D;&quot;alert(1)&quot;&gt;Boats');
    expect(page, 'the canary is inert').not.to.include('<img src=x');
    // Every eligible module stays out of the list.
    for (const name of ['Contacts', 'Accounts', 'HelpDesk', 'Faq', 'Documents']) expect(notEligibleRows(page).has(name), name).to.equal(false);

    // The link lands on the host's page of the module's fields and relations (admins only).
    const relations = await admin.get('/settings/modules/Boats');
    expect(relations.status).to.equal(200);
    const relationsPage = await relations.text();
    expect(relationsPage).to.include('data-no-relations');
    expect(relationsPage).to.include('<code>boat_name</code>');
    expect(relationsPage).not.to.include('<img src=x');
  });

  it('drops the module from the list as soon as it gains a relation to Contacts, and lists it again when it loses it', async () => {
    await api.modules.addRelation({ id: 'Boats~Contacts', kind: 'related-list', module: 'Boats', relatedModule: 'Contacts' });
    expect(notEligibleRows(await home()).has('Boats')).to.equal(false);
    const relations = await (await admin.get('/settings/modules/Boats')).text();
    expect(relations).to.include('data-relation="Boats~Contacts"');
    expect(relations).to.include('href="/settings/modules/Contacts"');

    await api.modules.removeRelation('Boats~Contacts');
    expect(notEligibleRows(await home()).has('Boats')).to.equal(true);
    // A reference field to Accounts works the same.
    await api.modules.addRelation({ id: 'Boats.account_id', kind: 'reference', module: 'Boats', relatedModule: 'Accounts', field: 'account_id' });
    expect(notEligibleRows(await home()).has('Boats')).to.equal(false);
  });

  it('speaks Italian to an Italian admin', async () => {
    await api.modules.registerModule({ ...BOATS, name: 'Sails', label: { en: 'Sails', it: 'Vele' } });
    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const page = await home();
      expect(page).to.include('Moduli che il portale non può offrire');
      const row = notEligibleRows(page).get('Sails');
      expect(row).to.include('Vele');
      expect(row).to.include('Nessuna relazione con Contatti o Aziende');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('shows no link when the host has no relations page or gives an unsafe one', async () => {
    const http = api.http as { moduleRelationsUrl?: (module: string) => string };
    try {
      http.moduleRelationsUrl = undefined;
      let row = notEligibleRows(await home()).get('Sails')!;
      expect(row).not.to.include('href=');
      expect(row).to.include('No relation to Contacts or Accounts');
      for (const unsafe of ['javascript:alert(1)', '//evil.example/x', 'data:text/html,hi']) {
        http.moduleRelationsUrl = () => unsafe;
        row = notEligibleRows(await home()).get('Sails')!;
        expect(row, unsafe).not.to.include('href=');
      }
      http.moduleRelationsUrl = (module) => `https://crm.example.com/modules/${module}`;
      expect(notEligibleRows(await home()).get('Sails')).to.include('href="https://crm.example.com/modules/Sails"');
    } finally {
      delete http.moduleRelationsUrl;
    }
    expect(notEligibleRows(await home()).get('Sails')).to.include('href="/settings/modules/Sails"');
  });

  it('keeps the host module pages for admins: anonymous → login, non-admin → 403, unknown → 404', async () => {
    const clerk = await clerkClient(test);
    for (const path of ['/settings/modules', '/settings/modules/Boats']) {
      const anonymous = await fetch(`${test.url}${path}`, { redirect: 'manual' });
      expect(anonymous.status, path).to.equal(303);
      expect(anonymous.headers.get('location'), path).to.match(/^\/login/);
      expect((await clerk.get(path)).status, path).to.equal(403);
      expect((await admin.get(path)).status, path).to.equal(200);
    }
    expect((await admin.get('/settings/modules/NoSuchModule')).status).to.equal(404);
    expect((await admin.get('/settings/modules/%3Cscript%3E')).status).to.equal(404);
  });
});
