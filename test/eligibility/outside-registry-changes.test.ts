/**
 * The window after another process changes the module registry (the host CLI, a second server)
 * and before this host's registry has synced (up to two seconds): the tables already match the
 * new registry while this process still holds the old view of it. A removed reference's column,
 * a removed field's or a removed module's table is gone, so the old view's queries fail in the
 * database. The portal must not answer such a request with a 500: it re-syncs its view and
 * answers from the new one, or says that this part of the portal is being changed (503 with
 * `Retry-After`). The host here never syncs on its own (`watchRegistryMs: 0`), so every request
 * below meets the window.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../../host/database.js';
import { SqlModuleRegistry } from '../../host/registry/module-registry.js';
import type { FieldDefinition, HostLogger } from '../../plugin/host-contract/index.js';
import { adminActor, profileIdByName, profileService } from '../profiles/profile-test-kit.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { signedIn } from '../portal-pages/portal-pages-kit.js';
import { tokenIn } from '../sign-in/sign-in-fixture.js';
import { apiClient, idsWhere, portalLogin, type Answer, type ApiClient } from '../portal-api/api-test-kit.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const silent: HostLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

const productRef: FieldDefinition = { name: 'product_id', label: { en: 'Product', it: 'Prodotto' }, type: 'reference', mandatory: false, referenceModules: ['Products'] };

/** Runs `npm run host -- …` (`host/cli.ts`) in a process of its own against the host's database. */
function cli(url: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'host/cli.ts', ...args], { cwd: root, env: { ...process.env, DATABASE_URL: url } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A change through a connection and registry of its own, as the CLI makes it (faster than a process). */
async function fromOutside(url: string, change: (registry: SqlModuleRegistry) => Promise<void>): Promise<void> {
  const db = await openDatabase(url);
  try {
    await change(await SqlModuleRegistry.open(db, silent));
  } finally {
    await db.sequelize.close();
  }
}

function neverA500(path: string, answer: Answer): void {
  expect(answer.status, `${path}: ${answer.text.slice(0, 300)}`).to.be.oneOf([200, 404, 503]);
  if (answer.status === 503) {
    expect(answer.headers.get('retry-after'), `${path}: Retry-After`).to.match(/^[1-9][0-9]*$/);
  }
}

describe('portal: a registry change made by another process, before this host has synced @db', function () {
  this.timeout(180_000);
  let t: TestHost;
  let url: string;
  let jane: ApiClient;
  let warrantyId: number;
  let janeContactId: number;

  /** A GET of a portal page (not the API) with Jane's session. */
  const page = async (path: string): Promise<Answer> => {
    const response = await fetch(`${t.url}/portal${path}`, { headers: { cookie: jane.cookie }, redirect: 'manual' });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: null };
  };

  /** Warranties on Jane's portal: her records, product and serial number in the list, search, export, a home button. */
  const offerWarranties = async () => {
    const api = t.host.api;
    const service = profileService(api);
    const id = (await profileIdByName(api, 'Default'))!;
    const document = await service.document(id);
    const modules = document.modules.map((entry) =>
      entry.module === 'Warranties'
        ? {
            ...entry,
            shown: true,
            view: true,
            create: true,
            scope: 'contact' as const,
            listColumns: ['warrantyname', ...(api.modules.module('Warranties')!.fields.some((f) => f.name === 'product_id') ? ['product_id'] : []), 'serialnumber'],
            tools: { ...entry.tools, search: true, export: true },
          }
        : entry,
    );
    const saved = await service.saveSection(id, 'modules', modules, document.profile.version, await adminActor(api));
    if (!saved.document.buttons.some((b) => b.module === 'Warranties')) {
      await service.saveSection(
        id,
        'buttons',
        [...saved.document.buttons, { title: 'Warranties', description: '', colour: 'info', icon: 'list', action: 'list', module: 'Warranties' }],
        saved.document.profile.version,
        await adminActor(api),
      );
    }
  };

  /** Puts `Warranties.product_id` back (from outside too), lets the host see it, and offers it in the list again. */
  const restoreProductReference = async () => {
    await t.host.registry.sync(); // the last window may have ended without a read that re-synced
    if (!t.host.registry.field('Warranties', 'product_id')) {
      await fromOutside(url, (registry) => registry.addField('Warranties', productRef));
      await t.host.registry.sync();
    }
    await offerWarranties();
    const list = await jane.get('/modules/Warranties/records');
    expect(list.status).to.equal(200);
    expect(list.body.columns.map((c: { name: string }) => c.name)).to.include('product_id');
  };

  const reads = (): [string, () => Promise<Answer>][] => [
    ['API list', () => jane.get('/modules/Warranties/records?sort=warrantyname&direction=asc')],
    ['API search', () => jane.get('/modules/Warranties/records?search=a')],
    ['API record', () => jane.get(`/modules/Warranties/records/${warrantyId}`)],
    ['API fields', () => jane.get('/modules/Warranties/fields')],
    ['API export', () => jane.get('/modules/Warranties/export.csv')],
    ['API modules (home)', () => jane.get('/modules')],
    ['home page', () => page('/')],
    ['list page', () => page('/m/Warranties')],
    ['search page', () => page('/m/Warranties?search=a')],
    ['record page', () => page(`/m/Warranties/${warrantyId}`)],
    ['export page', () => page('/m/Warranties/export.csv')],
    ['contact page', () => page(`/m/Contacts/${janeContactId}`)],
  ];

  before(async function () {
    t = await startTestHost({ demo: true, watchRegistryMs: 0, logLevel: 'error' });
    url = t.host.options.databaseUrl;
    janeContactId = (await idsWhere(t.host.api, 'Contacts', 'email', 'jane.doe@example.com'))[0]!;
    const product = (await t.host.api.records.query('Products', { limit: 1 })).rows[0]!;
    const made = await t.host.api.records.create('Warranties', {
      values: { warrantyname: 'Jane laptop', contact_id: janeContactId, product_id: product.id, serialnumber: 'SN-1', status: 'Active' },
    });
    warrantyId = made.id;
    jane = apiClient(t, await portalLogin(t, 'jane.doe@example.com'));
    await restoreProductReference();
  });

  after(async () => t?.stop());

  it('remove-relation of a reference run by the CLI: the next list answers (never a 500) and no longer offers the relation', async () => {
    const run = await cli(url, 'remove-relation', 'Warranties.product_id');
    expect(run.code, run.stderr).to.equal(0);
    expect(t.host.registry.field('Warranties', 'product_id'), 'the host still holds its old view').not.to.equal(undefined);
    const list = await jane.get('/modules/Warranties/records');
    neverA500('API list', list);
    await t.host.registry.sync();
    const again = await jane.get('/modules/Warranties/records');
    expect(again.status).to.equal(200);
    expect(again.body.rows.map((r: { values: { warrantyname: string } }) => r.values.warrantyname)).to.include('Jane laptop');
    expect(again.body.columns.map((c: { name: string }) => c.name)).not.to.include('product_id');
    const fields = await jane.get('/modules/Warranties/fields');
    expect(JSON.stringify(fields.body)).not.to.include('product_id');
  });

  it('every read path, each in a fresh window after a reference was removed from outside: never a 500', async () => {
    for (const [name, read] of reads()) {
      await restoreProductReference();
      await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
      expect(t.host.registry.field('Warranties', 'product_id'), `${name}: the host still holds its old view`).not.to.equal(undefined);
      neverA500(name, await read());
    }
  });

  it('the read that meets the window is answered from the new view (200) when the host can re-sync', async () => {
    await restoreProductReference();
    await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
    const list = await jane.get('/modules/Warranties/records');
    expect(list.status, list.text.slice(0, 300)).to.equal(200);
    expect(list.body.columns.map((c: { name: string }) => c.name)).not.to.include('product_id');
    expect(t.host.registry.field('Warranties', 'product_id'), 'the host re-synced').to.equal(undefined);
    await restoreProductReference();
    await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
    const detail = await page(`/m/Warranties/${warrantyId}`);
    expect(detail.status, detail.text.slice(0, 300)).to.equal(200);
    expect(detail.text).to.include('Jane laptop');
  });

  it('a write that meets the window is not run again: 503 with Retry-After, in the customer’s language, and nothing is saved', async () => {
    await restoreProductReference();
    const italian = await signedIn(t, 'jane.doe@example.com', 'it');
    italian.cookies.set('bp_lang', 'it'); // as the portal's language dropdown keeps the choice
    const form = await italian.get('/m/Warranties/new');
    expect(form.response.status).to.equal(200);
    const before = await t.host.api.records.count('Warranties');

    await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
    const posted = await italian.post('/m/Warranties/new', { _csrf: tokenIn(form.html), warrantyname: 'Posted in the window', status: 'Active' });
    expect(posted.response.status, posted.html.slice(0, 300)).to.equal(503);
    expect(posted.response.headers.get('retry-after')).to.equal('2');
    expect(posted.html).to.include('Questa parte del portale è in corso di modifica');
    expect(posted.html).not.to.match(/SQLITE|no such column|42703|ER_BAD_FIELD|at .*\.ts:/);

    await restoreProductReference();
    await fromOutside(url, (registry) => registry.removeRelation('Warranties.product_id'));
    const created = await jane.send('POST', '/modules/Warranties/records', { values: { warrantyname: 'Sent in the window', status: 'Active' } });
    expect(created.status, created.text.slice(0, 300)).to.equal(503);
    expect(created.headers.get('retry-after')).to.equal('2');
    expect(created.body.error).to.deep.equal({ code: 'module_changing', message: 'This part of the portal is being changed. Please try again in a moment.' });
    expect(await t.host.api.records.count('Warranties'), 'nothing saved').to.equal(before);

    // The write refused in the window re-synced the view: sent again, it is saved.
    const again = await jane.send('POST', '/modules/Warranties/records', { values: { warrantyname: 'Sent again', status: 'Active' } });
    expect(again.status, again.text.slice(0, 300)).to.equal(201);
  });

  it('add-relation from outside: the host keeps answering from its old view, and offers the new relation once synced', async () => {
    await restoreProductReference();
    await fromOutside(url, (registry) => registry.addField('Warranties', { name: 'site_contact_id', label: { en: 'Site contact', it: 'Referente' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] }));
    for (const [name, read] of reads()) {
      const answer = await read();
      expect(answer.status, `${name}: ${answer.text.slice(0, 300)}`).to.equal(200);
    }
    expect(t.host.registry.field('Warranties', 'site_contact_id'), 'no read needed a re-sync: the old view still works').to.equal(undefined);
    await t.host.registry.sync();
    expect(JSON.stringify((await jane.get('/modules/Warranties/fields')).body)).to.include('site_contact_id');
    await t.host.api.modules.removeField('Warranties', 'site_contact_id');
  });

  it('removing the scope relation, then the whole module, from outside: 404 or 503, never a 500', async () => {
    await restoreProductReference();
    await fromOutside(url, (registry) => registry.removeRelation('Warranties.contact_id'));
    for (const [name, read] of reads()) {
      neverA500(name, await read());
    }
    await t.host.registry.sync();
    expect((await jane.get('/modules/Warranties/records')).status).to.equal(404);

    await fromOutside(url, (registry) => registry.addField('Warranties', { name: 'contact_id', label: { en: 'Contact', it: 'Contatto' }, type: 'reference', mandatory: false, referenceModules: ['Contacts'] }));
    await t.host.registry.sync();
    await offerWarranties();
    expect((await jane.get('/modules/Warranties/records')).status).to.equal(200);
    await fromOutside(url, (registry) => registry.removeModule('Warranties'));
    for (const [name, read] of reads()) {
      neverA500(name, await read());
    }
    await t.host.registry.sync();
    expect((await jane.get('/modules/Warranties/records')).status).to.equal(404);
    expect((await jane.get('/modules')).status).to.equal(200);
  });
});
