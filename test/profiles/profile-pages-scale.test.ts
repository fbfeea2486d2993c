/**
 * The profile pages on a CRM with many wide modules (the privileges editor has its own suite,
 * privileges-scale.test.ts): what they cost grows with what changed, never with the number of
 * modules × fields. Counts (rows looked at, statements, bytes), never timings.
 */
import { expect } from 'chai';
import type { Sequelize } from 'sequelize';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ModulePrivileges, ProfileActor } from '../../plugin/profiles/profile-document.js';
import { ProfileSectionsStore } from '../../plugin/profiles/profile-sections-store.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { recordStatements } from '../support/database.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { addWideModule, adminActor, adminClient, profileService, SETTINGS, wideModule, type AdminClient } from './profile-test-kit.js';

/** Every module shown and viewed, a third of each one's fields read-only, five list columns. */
const everythingOn = (entry: ModulePrivileges): ModulePrivileges => ({
  ...entry,
  shown: true,
  view: true,
  fields: Object.fromEntries(Object.keys(entry.fields).map((name, i) => [name, i % 3 === 0 ? 'readonly' : 'readwrite'])),
  listColumns: Object.keys(entry.fields).slice(0, 5),
});

/**
 * The store on a connection whose SELECT rows count each time their `module` is read: how many
 * rows the store looks at to sort the fields and columns into their modules.
 */
function countingStore(sequelize: Sequelize): { store: ProfileSectionsStore; reads: () => number; rows: () => number } {
  let reads = 0;
  let rows = 0;
  const counting = Object.create(sequelize) as Sequelize;
  counting.query = (async (...args: Parameters<Sequelize['query']>) => {
    const answer = (await sequelize.query(...args)) as unknown;
    if (!Array.isArray(answer)) return answer;
    rows += answer.length;
    return answer.map((row: Record<string, unknown>) =>
      row && typeof row === 'object' && 'module' in row
        ? new Proxy(row, { get: (target, key, receiver) => ((key === 'module' ? (reads += 1) : 0), Reflect.get(target, key, receiver)) })
        : row,
    );
  }) as Sequelize['query'];
  return { store: new ProfileSectionsStore({ sequelize: counting, dialect: 'sqlite' }), reads: () => reads, rows: () => rows };
}

describe('profile pages on a large CRM @db', function () {
  this.timeout(240_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let actor: ProfileActor;
  let id: number;
  let admin: AdminClient;

  before(async () => {
    test = await startTestHost({ watchRegistryMs: 0 });
    api = test.host.api;
    service = profileService(api);
    actor = await adminActor(api);
    admin = await adminClient(test);
    for (let m = 0; m < 8; m += 1) await api.modules.registerModule(wideModule(`Wide${m}`, 120));
    id = (await service.create({ name: 'Everything', description: '', startFrom: null }, actor)).id;
    const document = await service.document(id);
    await service.saveSection(id, 'modules', document.modules.map(everythingOn), document.profile.version, actor);
  });
  after(async () => {
    await test?.stop();
  });

  it('reads a profile’s stored sections looking at each row once, however many modules share them', async () => {
    const { store, reads, rows } = countingStore(api.database.sequelize);
    const sections = await store.read(id);
    expect(sections!.modules.get('Wide3')!.fields.size).to.equal(120);
    expect(sections!.modules.get('Wide3')!.listColumns).to.have.length(5);
    expect(rows(), 'rows read').to.be.above(8 * 120);
    expect(reads(), `module of ${rows()} rows read`).to.be.at.most(rows());
  });

  it('tells a profile’s changes in a few escaped lines, every change and the stored values on the change’s own page', async () => {
    await addWideModule(api, 'Wide200', 200);
    // A CRM admin's field label is text, never markup.
    await api.modules.addField('Wide200', { name: 'sneaky', label: { en: '<script>alert(1)</script>', it: '<script>alert(2)</script>' }, type: 'textarea', mandatory: false });
    const history = await service.create({ name: 'History', description: '', startFrom: null }, actor);
    let document = await service.document(history.id);
    const wide = (entry: ModulePrivileges) => entry.module === 'Wide200';
    // Every field of the 201-field module read-only: the audit keeps the module before and after, every field of it.
    document = (
      await service.saveSection(
        history.id,
        'modules',
        document.modules.map((entry) => (wide(entry) ? { ...everythingOn(entry), fields: Object.fromEntries(Object.keys(entry.fields).map((f) => [f, f === 'sneaky' ? 'hidden' : 'readonly'])) } : entry)),
        document.profile.version,
        actor,
      )
    ).document;
    const button = { title: 'Tickets <b>now</b>', description: '', colour: 'primary' as const, icon: 'list', action: 'list' as const, module: 'Wide200' };
    document = (await service.saveSection(history.id, 'buttons', [button], document.profile.version, actor)).document;
    await service.saveSection(history.id, 'globals', { viewAll: true, editAll: false }, document.profile.version, actor);

    const response = await admin.get(`${SETTINGS}/profiles/${history.id}`);
    expect(response.status).to.equal(200);
    const page = await response.text();
    expect(page.length, 'the profile page with three saves of a 201-field module').to.be.below(40_000);
    expect(page).not.to.include('<pre>');
    expect(page).not.to.include('<script>alert');
    const rows = [...page.matchAll(/<tr data-audit-action="(\w+)">([\s\S]*?)<\/tr>/g)].map((m) => ({ action: m[1], html: m[2]! }));
    expect(rows.map((r) => r.action)).to.deep.equal(['save', 'save', 'save', 'create']);
    expect(rows[0]!.html).to.include('<li>View all switched on</li>');
    expect(rows[1]!.html).to.include('<li>Button “Tickets &lt;b&gt;now&lt;/b&gt;” added</li>');
    expect(rows[2]!.html).to.include('<li>Wide200: Shown switched on</li>');
    expect(rows[2]!.html).to.match(/<li>Wide200: field Title Read-write → Read-only, and 200 more fields changed<\/li>/);
    expect(rows[3]!.html).to.include('<li>Created empty</li>');

    const link = /<a href="([^"]+)" aria-describedby="bp-audit-2-when bp-audit-2-what">Every change and the stored values<\/a>/.exec(page)?.[1];
    expect(link, 'the link to the modules save').to.match(new RegExp(`^${SETTINGS}/profiles/${history.id}/changes/[0-9]+$`));
    const entry = await (await admin.get(link!)).text();
    const lines = /<ul class="bp-audit-changes" data-bp-changes>([\s\S]*?)<\/ul>/.exec(entry)?.[1] ?? '';
    expect(lines).to.include('<li>Wide200: field Field 150 Read-write → Read-only</li>');
    expect(lines).to.include('<li>Wide200: field &lt;script&gt;alert(1)&lt;/script&gt; Read-write → Hidden</li>');
    expect(lines.match(/<li>Wide200: field /g)).to.have.length(201);
    expect(entry).to.include('<pre tabindex="0">');
    expect(entry).not.to.include('<script>alert');
    expect(entry).to.include(`<a href="${SETTINGS}/profiles/${history.id}">Back to the profile</a>`);
    // Another profile's change, or none, is not found.
    expect((await admin.get(`${SETTINGS}/profiles/${id}/changes/${link!.split('/').at(-1)}`)).status).to.equal(404);
    expect((await admin.get(`${SETTINGS}/profiles/${history.id}/changes/x`)).status).to.equal(404);

    await api.database.sequelize.query("UPDATE crm_users SET language = 'it' WHERE user_name = 'admin'");
    try {
      const italian = await (await admin.get(`${SETTINGS}/profiles/${history.id}`)).text();
      expect(italian).to.include('<li>Wide200: campo Titolo Lettura e scrittura → Sola lettura, e altri 200 campi modificati</li>');
      expect(italian).to.include('<li>Vedi tutto attivato</li>');
      const entryIt = await (await admin.get(link!)).text();
      expect(entryIt).to.include('<li>Wide200: campo &lt;script&gt;alert(2)&lt;/script&gt; Lettura e scrittura → Nascosto</li>');
    } finally {
      await api.database.sequelize.query("UPDATE crm_users SET language = 'en' WHERE user_name = 'admin'");
    }
  });

  it('costs as many statements on every profile page, export, duplicate, import and delete with 8 more modules of 120 fields', async () => {
    const sequelize = api.database.sequelize;
    const costs = async (round: string): Promise<Record<string, number>> => {
      const source = (await service.create({ name: `Source ${round}`, description: '', startFrom: null }, actor)).id;
      let document = await service.document(source);
      await service.saveSection(source, 'modules', document.modules.map(everythingOn), document.profile.version, actor);
      document = await service.document(source);
      const counts: Record<string, number> = {};
      const measure = async (name: string, status: number, request: () => Promise<Response>) => {
        const recorded = recordStatements(sequelize);
        let response: Response;
        try {
          response = await request();
          await response.text();
        } finally {
          recorded.stop();
        }
        expect(response.status, `${name} (${round})`).to.equal(status);
        counts[name] = recorded.sql.length;
      };
      const base = `${SETTINGS}/profiles/${source}`;
      await measure('profile page', 200, () => admin.get(base));
      await measure('duplicate page', 200, () => admin.get(`${base}/duplicate`));
      await measure('delete page', 200, () => admin.get(`${base}/delete`));
      await measure('export', 200, () => admin.get(`${base}/export`));
      const file = await (await admin.get(`${base}/export`)).json();
      await measure('import', 201, () => admin.json('POST', `${SETTINGS}/profiles/import?name=Imported%20${round}`, file));
      await measure('duplicate', 303, () => admin.post(`${base}/duplicate`, { name: `Copy ${round}` }));
      await measure('delete', 200, () => admin.post(`${base}/delete`, { moveTo: '', version: String(document.profile.version) }));
      await measure('deleted list', 200, () => admin.get(`${SETTINGS}/profiles/deleted`));
      return counts;
    };
    const small = await costs('small');
    for (let m = 0; m < 8; m += 1) await api.modules.registerModule(wideModule(`More${m}`, 120));
    const large = await costs('large');
    expect(large).to.deep.equal(small);
  });
});
