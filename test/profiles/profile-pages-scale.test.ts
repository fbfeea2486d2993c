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
import { startTestHost, type TestHost } from '../support/host.js';
import { adminActor, profileService, wideModule } from './profile-test-kit.js';

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

  before(async () => {
    test = await startTestHost({ watchRegistryMs: 0 });
    api = test.host.api;
    service = profileService(api);
    actor = await adminActor(api);
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
});
