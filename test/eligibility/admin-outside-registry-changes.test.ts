/**
 * The admin pages the plugin mounts in the CRM's settings (profiles, privileges and a module's
 * fields, Check Business Portal login, a contact's login history and portal-user form) in the
 * window after another process changed the module registry and before this host has synced (see
 * `outside-registry-changes.test.ts` for the portal's side): never a 500. A read that meets a
 * removed column re-syncs the view and is answered from the new one; a write is answered 503 with
 * `Retry-After`, on the CRM's layout in the admin's language, and saves nothing. A profile that
 * still names a field removed since is shown and applied without it.
 */
import { expect } from 'chai';
import { openDatabase } from '../../host/database.js';
import { SqlModuleRegistry } from '../../host/registry/module-registry.js';
import { DEMO_ADMIN_PASSWORD } from '../../host/users/base-users.js';
import type { FieldDefinition, HostLogger } from '../../plugin/host-contract/index.js';
import { adminActor, adminClient, profileIdByName, profileService, rows, SETTINGS, type AdminClient } from '../profiles/profile-test-kit.js';
import { apiClient, idsWhere, portalLogin, type ApiClient } from '../portal-api/api-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';

const silent: HostLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const loyaltyField: FieldDefinition = { name: 'loyalty_code', label: { en: 'Loyalty code', it: 'Codice fedeltà' }, type: 'text', mandatory: false };
const productRef: FieldDefinition = { name: 'product_id', label: { en: 'Product', it: 'Prodotto' }, type: 'reference', mandatory: false, referenceModules: ['Products'] };

/** A change through a connection and registry of its own, as the host's CLI or a second server makes it. */
async function fromOutside(url: string, change: (registry: SqlModuleRegistry) => Promise<void>): Promise<void> {
  const db = await openDatabase(url);
  try {
    await change(await SqlModuleRegistry.open(db, silent));
  } finally {
    await db.sequelize.close();
  }
}

interface Seen {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function seen(response: Response): Promise<Seen> {
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function neverA500(name: string, answer: Seen): void {
  expect(answer.status, `${name}: ${answer.text.slice(0, 300)}`).to.be.oneOf([200, 404, 503]);
  if (answer.status === 503) expect(answer.headers.get('retry-after'), `${name}: Retry-After`).to.match(/^[1-9][0-9]*$/);
  expect(answer.text, `${name}: no SQL or stack`).not.to.match(/SQLITE|no such column|42703|42P01|ER_BAD_FIELD|ER_NO_SUCH_TABLE|at .*\.ts:/);
}

describe('admin pages: a registry change made by another process, before this host has synced @db', function () {
  this.timeout(240_000);
  let t: TestHost;
  let url: string;
  let admin: AdminClient;
  let profileId: number;
  let janeContactId: number;

  const get = async (path: string): Promise<Seen> => seen(await admin.get(`${SETTINGS}${path}`));

  /** The contact page's portal-user form of Jane: its CSRF token and settings version. */
  const janeForm = async (): Promise<{ token: string; version: string }> => {
    const html = await (await fetch(`${t.url}/contacts/${janeContactId}`, { headers: { cookie: admin.cookie } })).text();
    const form = /<form class="bp-portal-user-form"[\s\S]*?<\/form>/.exec(html)?.[0] ?? '';
    return { token: /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '', version: /name="version" value="(\d+)"/.exec(form)?.[1] ?? '' };
  };

  const janeAccount = async () => (await rows<Record<string, unknown>>(t.host.api, 'SELECT * FROM bp_portal_accounts WHERE contact_id = :id', { id: janeContactId }))[0];

  /** Puts `Contacts.loyalty_code` back (from outside too) and lets the host see it. */
  const restoreLoyalty = async () => {
    await t.host.registry.sync(); // the last window may have ended without a read that re-synced
    if (!t.host.registry.field('Contacts', 'loyalty_code')) {
      await fromOutside(url, (registry) => registry.addField('Contacts', loyaltyField));
      await t.host.registry.sync();
    }
  };

  /** Puts `Warranties.product_id` back (from outside too) and lets the host see it. */
  const restoreProduct = async () => {
    await t.host.registry.sync();
    if (!t.host.registry.field('Warranties', 'product_id')) {
      await fromOutside(url, (registry) => registry.addField('Warranties', productRef));
      await t.host.registry.sync();
    }
  };

  const reads = (): [string, () => Promise<Seen>][] => [
    ['settings home', () => get('/')],
    ['profile page', () => get(`/profiles/${profileId}`)],
    ['profile document', () => get(`/profiles/${profileId}/document`)],
    ['privileges page', () => get(`/profiles/${profileId}/privileges`)],
    ['privileges page, Warranties drawn', () => get(`/profiles/${profileId}/privileges?fields=Warranties`)],
    ['a module’s fields', () => get(`/profiles/${profileId}/privileges/modules/Warranties`)],
    ['a module’s fields (Contacts)', () => get(`/profiles/${profileId}/privileges/modules/Contacts`)],
    ['profile export', () => get(`/profiles/${profileId}/export`)],
    ['login check', () => get('/login-check')],
    ['login check, searched', () => get('/login-check?q=jane')],
    ['login history', () => get(`/contacts/${janeContactId}/login-history`)],
  ];

  before(async function () {
    t = await startTestHost({ demo: true, watchRegistryMs: 0, logLevel: 'error' });
    url = t.host.options.databaseUrl;
    admin = await adminClient(t, 'admin', DEMO_ADMIN_PASSWORD);
    profileId = (await profileIdByName(t.host.api, 'Default'))!;
    janeContactId = (await idsWhere(t.host.api, 'Contacts', 'email', 'jane.doe@example.com'))[0]!;
    await t.host.api.modules.addField('Contacts', loyaltyField);
    await t.host.api.records.update('Contacts', janeContactId, { values: { loyalty_code: 'GOLD-7' } });
  });

  after(async () => t?.stop());

  it('a contact’s field removed from outside: the login history that meets it is answered from the new view', async () => {
    await restoreLoyalty();
    await fromOutside(url, (registry) => registry.removeField('Contacts', 'loyalty_code'));
    expect(t.host.registry.field('Contacts', 'loyalty_code'), 'the host still holds its old view').not.to.equal(undefined);
    const history = await get(`/contacts/${janeContactId}/login-history`);
    expect(history.status, history.text.slice(0, 300)).to.equal(200);
    expect(history.text).to.include('Jane');
    expect(t.host.registry.field('Contacts', 'loyalty_code'), 'the host re-synced').to.equal(undefined);
    // The admin's module fields are of the new view too: the removed field is simply absent.
    const fields = await get(`/profiles/${profileId}/privileges/modules/Contacts`);
    expect(fields.status).to.equal(200);
    expect(fields.text).to.include('data-bp-field="lastname"');
    expect(fields.text).not.to.include('loyalty_code');
  });

  it('every admin read, each in a fresh window after a field or a relation was removed from outside: never a 500', async () => {
    for (const [name, read] of reads()) {
      await restoreLoyalty();
      await fromOutside(url, (registry) => registry.removeField('Contacts', 'loyalty_code'));
      neverA500(`${name} (field)`, await read());
      await restoreProduct();
      await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
      neverA500(`${name} (relation)`, await read());
    }
  });

  it('a write that meets the window is not run: 503 with Retry-After, on the CRM’s layout in the admin’s language, and nothing is saved', async () => {
    await restoreLoyalty();
    const account = await janeAccount();
    expect(account?.portal_enabled, 'Jane is a portal user').to.be.oneOf([true, 1]);
    await t.host.api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const form = await janeForm();
      expect(form.version).to.match(/^\d+$/);
      await fromOutside(url, (registry) => registry.removeField('Contacts', 'loyalty_code'));
      const longer = { _csrf: form.token, portalUser: 'yes', profileId: '', supportStartDate: '', supportEndDate: '2099-12-31', version: form.version };
      const posted = await seen(await admin.post(`${SETTINGS}/contacts/${janeContactId}/portal-user`, longer, { csrf: false }));
      expect(posted.status, posted.text.slice(0, 300)).to.equal(503);
      expect(posted.headers.get('retry-after')).to.equal('2');
      expect(posted.headers.get('content-type')).to.match(/^text\/html/);
      expect(posted.text, 'the CRM’s layout').to.include('<div class="bp-admin"><h1>');
      expect(posted.text).to.include('Un modulo del CRM è stato modificato un momento fa');
      neverA500('portal-user save', posted);
      expect(await janeAccount(), 'nothing saved').to.deep.equal(account);

      // Asked for JSON, the same refusal comes as JSON, with Retry-After too.
      await restoreLoyalty();
      await fromOutside(url, (registry) => registry.removeField('Contacts', 'loyalty_code'));
      const json = await fetch(`${t.url}${SETTINGS}/contacts/${janeContactId}/portal-user`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: admin.cookie, accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(longer).toString(),
      });
      expect(json.status).to.equal(503);
      expect(json.headers.get('retry-after')).to.equal('2');
      expect(((await json.json()) as { error: { code: string } }).error.code).to.equal('module_changing');
      expect(await janeAccount(), 'nothing saved').to.deep.equal(account);
    } finally {
      await t.host.api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }

    // The refused write re-synced the view: sent again, it is saved.
    const again = await admin.post(`${SETTINGS}/contacts/${janeContactId}/portal-user`, { portalUser: 'yes', profileId: '', supportStartDate: '', supportEndDate: '2099-12-31', version: (await janeForm()).version });
    expect(again.status, (await again.text()).slice(0, 300)).to.equal(200);
    expect(String((await janeAccount())?.support_end_date)).to.include('2099');
  });

  it('a privileges save in the window is never a 500, and what it names of the old view is ignored once the view caught up', async () => {
    await restoreProduct();
    const document = (await (await admin.get(`${SETTINGS}/profiles/${profileId}/document`)).json()) as { profile: { version: number }; modules: { module: string; listColumns: string[]; fields: Record<string, string> }[] };
    await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
    const modules = document.modules.map((entry) =>
      entry.module === 'Warranties' ? { ...entry, shown: true, view: true, scope: 'contact', fields: { ...entry.fields, product_id: 'readonly' }, listColumns: ['warrantyname', 'product_id'] } : entry,
    );
    const saved = await seen(await admin.json('PUT', `${SETTINGS}/profiles/${profileId}/sections/modules`, { version: document.profile.version, value: modules }));
    neverA500('privileges save', saved);
    await t.host.registry.sync();
    neverA500('privileges page after', await get(`/profiles/${profileId}/privileges?fields=Warranties`));
    const fields = await get(`/profiles/${profileId}/privileges/modules/Warranties`);
    expect(fields.status).to.equal(200);
    expect(fields.text).not.to.include('data-bp-field="product_id"');
  });

  describe('a profile that names a field removed since', () => {
    let jane: ApiClient;
    let warrantyId: number;

    before(async () => {
      await restoreProduct();
      const api = t.host.api;
      const product = (await api.records.query('Products', { limit: 1 })).rows[0]!;
      warrantyId = (await api.records.create('Warranties', { values: { warrantyname: 'Jane tablet', contact_id: janeContactId, product_id: product.id, serialnumber: 'SN-9', status: 'Active' } })).id;
      const service = profileService(api);
      const document = await service.document(profileId);
      const modules = document.modules.map((entry) =>
        entry.module === 'Warranties'
          ? { ...entry, shown: true, view: true, create: true, edit: true, scope: 'contact' as const, fields: { ...entry.fields, product_id: 'readwrite' as const }, listColumns: ['warrantyname', 'product_id', 'serialnumber'], tools: { ...entry.tools, search: true, export: true } }
          : entry,
      );
      const saved = await service.saveSection(profileId, 'modules', modules, document.profile.version, await adminActor(api));
      await service.saveSection(
        profileId,
        'rules',
        [...saved.document.rules, { name: 'Product locks serial', module: 'Warranties', origin: { kind: 'portal' as const }, conditions: [{ field: 'product_id', op: 'notNull' }], effects: [{ field: 'serialnumber', effect: 'readonly' }], allReadOnly: false }],
        saved.document.profile.version,
        await adminActor(api),
      );
      const stored = await service.document(profileId);
      expect(stored.modules.find((m) => m.module === 'Warranties')!.listColumns).to.include('product_id');
      // The relation goes (from outside, then seen by this host): the profile still names it.
      await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
      await t.host.registry.sync();
      jane = apiClient(t, await portalLogin(t, 'jane.doe@example.com'));
    });

    it('the privileges page and a module’s fields answer without it', async () => {
      for (const [name, read] of reads()) neverA500(name, await read());
      const page = await get(`/profiles/${profileId}/privileges?fields=Warranties`);
      expect(page.status, page.text.slice(0, 300)).to.equal(200);
      expect(page.text).not.to.include('data-bp-field="product_id"');
      const fields = await get(`/profiles/${profileId}/privileges/modules/Warranties`);
      expect(fields.status).to.equal(200);
      expect(fields.text).to.include('data-bp-field="serialnumber"');
      expect(fields.text).not.to.include('data-bp-field="product_id"');
    });

    it('the portal answers without it: list, search, export, record, fields, form', async () => {
      const list = await jane.get('/modules/Warranties/records?search=Jane');
      expect(list.status, list.text.slice(0, 300)).to.equal(200);
      expect(list.body.columns.map((c: { name: string }) => c.name)).to.deep.equal(['warrantyname', 'serialnumber']);
      expect(list.body.rows.map((r: { values: { warrantyname: string } }) => r.values.warrantyname)).to.include('Jane tablet');
      for (const path of [`/modules/Warranties/records/${warrantyId}`, '/modules/Warranties/fields', '/modules/Warranties/export.csv', '/modules']) {
        const answer = await jane.get(path);
        expect(answer.status, `${path}: ${answer.text.slice(0, 300)}`).to.equal(200);
        expect(answer.text, path).not.to.include('product_id');
      }
      for (const path of ['/m/Warranties', `/m/Warranties/${warrantyId}`, '/m/Warranties/new']) {
        const response = await fetch(`${t.url}/portal${path}`, { headers: { cookie: jane.cookie }, redirect: 'manual' });
        const html = await response.text();
        expect(response.status, `${path}: ${html.slice(0, 300)}`).to.equal(200);
        expect(html, path).not.to.include('product_id');
      }
    });

    it('and then the whole module removed from outside: every admin read answers, never a 500, and the module is gone once answered', async () => {
      await fromOutside(url, (registry) => registry.removeModule('Warranties'));
      for (const [name, read] of reads()) neverA500(`${name} (module)`, await read());
      await t.host.registry.sync();
      const page = await get(`/profiles/${profileId}/privileges`);
      expect(page.status).to.equal(200);
      expect(page.text).not.to.include('data-bp-module="Warranties"');
      expect((await get(`/profiles/${profileId}/privileges/modules/Warranties`)).status).to.equal(404);
      expect((await jane.get('/modules/Warranties/records')).status).to.equal(404);
    });
  });
});
