/**
 * The module-view recovery (`plugin/http/module-view-changes.ts`) asks the host to re-sync its
 * registry when a read meets a column or table the database no longer has. A customer must not be
 * able to trigger that at will: a crafted query naming a column that does not exist, a hidden one
 * or a host-managed one is refused by the allow-lists (400, or dropped on a page) before any query
 * is built, so no request of theirs makes the host re-sync, and none is answered 503.
 */
import { expect } from 'chai';
import { openDatabase } from '../../host/database.js';
import { SqlModuleRegistry } from '../../host/registry/module-registry.js';
import type { HostLogger } from '../../plugin/host-contract/index.js';
import { startTestHost, type TestHost } from '../support/host.js';
import { signedIn } from '../portal-pages/portal-pages-kit.js';
import { apiClient, changeModule, portalLogin, type ApiClient } from '../portal-api/api-test-kit.js';

describe('portal: a customer cannot make the host re-sync its module registry @db', function () {
  this.timeout(120_000);
  let t: TestHost;
  let jane: ApiClient;
  let syncs = 0;

  before(async () => {
    t = await startTestHost({ demo: true, watchRegistryMs: 0, logLevel: 'error' });
    await changeModule(t.host.api, 'Warranties', (entry) => ({ ...entry, shown: true, view: true, scope: 'contact', listColumns: ['warrantyname', 'serialnumber'], tools: { ...entry.tools, search: true, export: true } }));
    jane = apiClient(t, await portalLogin(t, 'jane.doe@example.com'));
    const registry = t.host.registry as unknown as { sync: () => Promise<boolean> };
    const real = registry.sync.bind(registry);
    registry.sync = async () => {
      syncs += 1;
      return real();
    };
  });

  after(async () => t?.stop());

  const unknownColumns = ['nope', 'warrantyname"; DROP TABLE x; --', 'id', 'password', '__proto__', 'constructor', 'deleted', 'crm_id', 'WARRANTYNAME', 'warrantyname ', 'a'.repeat(300)];

  it('API: sort and filters naming a column that is not offered → 400, never a re-sync or a 503', async () => {
    for (const column of unknownColumns) {
      const name = encodeURIComponent(column);
      for (const path of [
        `/modules/Warranties/records?sort=${name}`,
        `/modules/Warranties/records?filter[${name}]=x`,
        `/modules/Warranties/records?sort=warrantyname&filter[${name}]=1`,
        `/modules/Warranties/export.csv?sort=${name}`,
        `/modules/Warranties/export.csv?filter[${name}]=x`,
      ]) {
        const answer = await jane.get(path);
        expect(answer.status, `${path}: ${answer.text.slice(0, 200)}`).to.be.oneOf([400, 404]);
      }
    }
    expect(syncs, 'host re-syncs').to.equal(0);
  });

  it('pages: sort and column filters naming a column that is not offered are dropped or refused, never a re-sync or a 503', async () => {
    const client = await signedIn(t, 'jane.doe@example.com');
    for (const column of unknownColumns) {
      const name = encodeURIComponent(column);
      for (const path of [`/m/Warranties?sort=${name}&dir=asc`, `/m/Warranties?f_${name}=x`, `/m/Warranties/export.csv?sort=${name}`, `/m/Warranties/export.csv?f_${name}=x`]) {
        const { response, html } = await client.get(path);
        expect(response.status, `${path}: ${html.slice(0, 200)}`).to.be.oneOf([200, 303, 400, 404]);
      }
    }
    expect(syncs, 'host re-syncs').to.equal(0);
  });

  it('a form posting fields the module does not offer is refused without a re-sync', async () => {
    const created = await jane.send('POST', '/modules/Warranties/records', { values: { warrantyname: 'x', nope: 'y', 'a"b': 'z' } });
    expect(created.status, created.text.slice(0, 200)).to.be.oneOf([400, 403, 422]);
    expect(syncs, 'host re-syncs').to.equal(0);
  });

  it('(the counter sees a re-sync) a column really gone from outside makes the next read re-sync once', async () => {
    const silent: HostLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const db = await openDatabase(t.host.options.databaseUrl);
    try {
      await (await SqlModuleRegistry.open(db, silent)).removeField('Warranties', 'serialnumber');
    } finally {
      await db.sequelize.close();
    }
    const list = await jane.get('/modules/Warranties/records');
    expect(list.status, list.text.slice(0, 200)).to.be.oneOf([200, 503]);
    expect(syncs).to.equal(1);
  });
});
