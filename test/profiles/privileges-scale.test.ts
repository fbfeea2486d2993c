/**
 * The privileges editor on a CRM with many wide modules: what the admin's browser asks of the
 * server — the privileges page, a section saved, the modules section saved whole (the page sends
 * every module), one field's access changed, the profiles list — costs the same number of SQL
 * statements with 2 small custom modules as with 6 more of 120 fields each. Statement counts,
 * never timings (bench/privileges-scale.ts times the full 40 × 200 case).
 */
import { expect } from 'chai';
import type { HostApi } from '../../plugin/host-contract/index.js';
import type { ModulePrivileges, ProfileActor } from '../../plugin/profiles/profile-document.js';
import type { DatabaseProfileService } from '../../plugin/profiles/profile-service.js';
import { recordStatements } from '../support/database.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { adminActor, adminClient, profileService, SETTINGS, wideModule, type AdminClient } from './profile-test-kit.js';

type Costs = Record<string, number>;

describe('privileges of a large CRM @db', function () {
  this.timeout(240_000);
  let test: TestHost;
  let api: HostApi;
  let service: DatabaseProfileService;
  let admin: AdminClient;
  let actor: ProfileActor;
  let id: number;
  let small: Costs;
  let large: Costs;
  let largeStatements: Record<string, string[]>;

  /** Every module shown, viewed and creatable, a third of each one's fields read-only, five list columns. */
  const everythingOn = (entry: ModulePrivileges): ModulePrivileges => ({
    ...entry,
    shown: true,
    view: true,
    create: entry.module !== 'Accounts',
    fields: Object.fromEntries(Object.keys(entry.fields).map((name, i) => [name, i % 3 === 0 ? 'readonly' : 'readwrite'])),
    listColumns: Object.keys(entry.fields).slice(0, 5),
  });

  /** Sends what the admin's browser sends and counts the statements each request costs the server. */
  async function costs(): Promise<{ counts: Costs; statements: Record<string, string[]> }> {
    const sequelize = api.database.sequelize;
    const base = `${SETTINGS}/profiles/${id}`;
    const counts: Costs = {};
    const statements: Record<string, string[]> = {};
    const measure = async (name: string, request: () => Promise<Response>) => {
      const recorded = recordStatements(sequelize);
      let response: Response;
      try {
        response = await request();
        await response.text();
      } finally {
        recorded.stop();
      }
      expect(response.status, name).to.equal(200);
      counts[name] = recorded.sql.length;
      statements[name] = recorded.sql;
    };
    const stored = () => service.document(id);

    let document = await stored();
    document = (await service.saveSection(id, 'modules', document.modules.map(everythingOn), document.profile.version, actor)).document;
    await measure('privileges page', () => admin.get(`${base}/privileges`));
    document = await stored();
    const general = document.general;
    await measure('general saved', () => admin.json('PUT', `${base}/sections/general`, { version: document.profile.version, value: general }));
    document = await stored();
    const modules = document.modules;
    await measure('modules saved whole', () => admin.json('PUT', `${base}/sections/modules`, { version: document.profile.version, value: modules }));
    document = await stored();
    const flipped = document.modules.map((entry) => (entry.module === 'HelpDesk' ? { ...entry, fields: { ...entry.fields, description: 'hidden' as const } } : entry));
    await measure('one field hidden', () => admin.json('PUT', `${base}/sections/modules`, { version: document.profile.version, value: flipped }));
    await measure('profiles list', () => admin.get(`${SETTINGS}/`));
    return { counts, statements };
  }

  before(async () => {
    // No registry watcher: its sync would be counted with whatever request it ran beside.
    test = await startTestHost({ watchRegistryMs: 0 });
    api = test.host.api;
    service = profileService(api);
    admin = await adminClient(test);
    actor = await adminActor(api);
    id = (await service.create({ name: 'Everything', description: '', startFrom: null }, actor)).id;
    for (let n = 0; n < 3; n += 1) await service.duplicate(id, { name: `Other ${n}` }, actor);

    for (let m = 0; m < 2; m += 1) await api.modules.registerModule(wideModule(`Narrow${m}`, 5));
    small = (await costs()).counts;
    for (let m = 0; m < 6; m += 1) await api.modules.registerModule(wideModule(`Wide${m}`, 120));
    ({ counts: large, statements: largeStatements } = await costs());
  });
  after(async () => {
    await test?.stop();
  });

  it('names the CRM’s languages for the buttons’ other-language texts once a page, however many buttons it draws', async () => {
    expect(api.regional.languages().length, 'a CRM with another language than its default').to.be.at.least(2);
    const Original = Intl.DisplayNames;
    let made = 0;
    // Counts what the page asks of the platform (Intl builds one from its locale data, a millisecond each).
    const intl = Intl as { DisplayNames: typeof Original };
    intl.DisplayNames = class extends Original {
      constructor(...args: ConstructorParameters<typeof Original>) {
        super(...args);
        made += 1;
      }
    } as typeof Original;
    const madeFor = async (buttons: number) => {
      const document = await service.document(id);
      const button = { title: 'Tickets', description: 'Yours', colour: 'primary' as const, icon: 'list', action: 'list' as const, module: 'HelpDesk' };
      await service.saveSection(id, 'buttons', Array.from({ length: buttons }, (_, n) => ({ ...button, title: `Tickets ${n}` })), document.profile.version, actor);
      made = 0;
      const page = await admin.get(`${SETTINGS}/profiles/${id}/privileges`);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.include(`Tickets ${buttons - 1}`);
      return made;
    };
    try {
      const one = await madeFor(1);
      expect(await madeFor(30), `${one} with one button`).to.equal(one);
    } finally {
      intl.DisplayNames = Original;
    }
  });

  for (const name of ['privileges page', 'general saved', 'modules saved whole', 'one field hidden', 'profiles list']) {
    it(`costs as many statements for "${name}" with 720 more fields in 6 more modules`, () => {
      expect(large[name], `${name}: ${small[name]} statements with the small CRM, then\n${largeStatements[name]!.join('\n')}`).to.equal(small[name]);
    });
  }
});
